#!/usr/bin/env python3
"""The reference exercise's training recipe, run by PyTorch on Fashion-MNIST for a fixed wall time.

    /usr/bin/python3 bench/reference_recipe.py --seconds 900 --threads 2

What it runs is the exercise (/work/shared/reference, "the reference exercise" of the issues) as written, on the data
ArchGen's main job uses:
  model      kuangliu's CIFAR MobileNetV2 (tools/reference/cifar_mobilenetv2.py), 3x32x32 input, 10 classes
  data       Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist): each 28x28 image zero-padded to
             32x32 and repeated to 3 channels (PIL RGB), normalized with the padded set's statistics (0.2190, 0.3318),
             as ArchGen feeds CifarMobileNetV2
  train      RandomCrop(32, padding=4) + RandomHorizontalFlip + ToTensor + Normalize per PIL image,
             DataLoader(batch 128, shuffle, num_workers=2), Adam(lr=0.001) at a constant rate, CrossEntropyLoss
  evaluate   on all 10,000 test images after every epoch (the issue's "per-epoch evaluation"), in eval mode
             (the exercise itself never calls net.eval(); --eval-in-train-mode reproduces that)

The clock starts before the data is read and covers training and every evaluation. When the time is up in the
middle of an epoch, training stops and one last evaluation runs (so the run ends a little after --seconds: by one
evaluation). Prints a line per epoch and, last, one JSON object with the final test accuracy, the images trained
on, the epochs (fractional) and the wall time.
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torchvision.transforms as T
from PIL import Image

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(REPO, "tools", "reference"))
from cifar_mobilenetv2 import MobileNetV2  # noqa: E402

FASHION = "/usr/share/datasets/fashion-mnist"
PADDED_MEAN, PADDED_STD = 0.2190, 0.3318  # ArchGen's FashionMnist.PaddedNormalization


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    dims = magic & 0xFF
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(folder, name):
    for candidate in (os.path.join(folder, name), os.path.join(folder, name + ".gz")):
        if os.path.exists(candidate):
            return candidate
    sys.exit(f"error: {os.path.join(folder, name)}[.gz] not found (apt-get install dataset-fashion-mnist, or --data DIR)")


class PaddedFashion(torch.utils.data.Dataset):
    """Fashion-MNIST as the exercise's CIFAR pipeline sees it: 32x32 RGB PIL images (zero-padded, gray repeated)."""

    def __init__(self, folder, split, transform, limit=0):
        images = read_idx(find(folder, f"{split}-images-idx3-ubyte"))
        labels = read_idx(find(folder, f"{split}-labels-idx1-ubyte"))
        if limit:
            images, labels = images[:limit], labels[:limit]
        padded = np.zeros((len(images), 32, 32), dtype=np.uint8)
        padded[:, 2:30, 2:30] = images
        self.data = np.repeat(padded[:, :, :, None], 3, axis=3)  # N x 32 x 32 x 3, as CIFAR10's .data
        self.targets = labels.astype(np.int64).tolist()
        self.transform = transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.data[i])), self.targets[i]


def evaluate(net, loader, train_mode):
    net.train(train_mode)
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            predicted = net(images).argmax(1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    net.train()
    return 100.0 * correct / total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, required=True, help="wall-time budget for training and evaluation")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2, help="DataLoader worker processes (the exercise uses 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=FASHION)
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training images (0 = all)")
    ap.add_argument("--test-limit", type=int, default=0, help="use only the first N test images (0 = all)")
    ap.add_argument("--eval-in-train-mode", action="store_true", help="evaluate as the exercise does, without net.eval()")
    a = ap.parse_args()

    start = time.perf_counter()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    normalize = T.Normalize((PADDED_MEAN,) * 3, (PADDED_STD,) * 3)
    train_set = PaddedFashion(a.data, "train", T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(), normalize]), a.limit)
    test_set = PaddedFashion(a.data, "t10k", T.Compose([T.ToTensor(), normalize]), a.test_limit)
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=128, shuffle=True, num_workers=a.workers)
    test_loader = torch.utils.data.DataLoader(test_set, batch_size=128, shuffle=False, num_workers=a.workers)

    net = MobileNetV2(num_classes=10)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)

    seen, epoch, accuracy, out_of_time = 0, 0, None, False
    while not out_of_time:
        epoch += 1
        net.train()
        for i, (inputs, labels) in enumerate(train_loader):
            optimizer.zero_grad()
            loss = criterion(net(inputs), labels)
            loss.backward()
            optimizer.step()
            seen += labels.size(0)
            if i % 100 == 0:
                print("Epoch: %d Minibatch: %5d loss: %.3f (%.0f s)" % (epoch, i + 1, loss.item(), time.perf_counter() - start), flush=True)
            if time.perf_counter() - start >= a.seconds:
                out_of_time = True
                break
        accuracy = evaluate(net, test_loader, a.eval_in_train_mode)
        print("Epoch %d: test accuracy %.2f %% after %d images (%.0f s)" % (epoch, accuracy, seen, time.perf_counter() - start), flush=True)
        if time.perf_counter() - start >= a.seconds:
            out_of_time = True

    wall = time.perf_counter() - start
    print("Accuracy of the network on the %d test images: %.2f %%" % (len(test_set), accuracy))
    print(json.dumps({"framework": "pytorch", "torch": torch.__version__, "recipe": "reference exercise (Adam 0.001 constant, batch 128)",
                      "threads": a.threads, "workers": a.workers, "budget_s": a.seconds, "wall_s": round(wall, 1),
                      "images": seen, "epochs": round(seen / len(train_set), 3), "test_images": len(test_set),
                      "test_accuracy": round(accuracy, 2)}))


if __name__ == "__main__":
    main()
