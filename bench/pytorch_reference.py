#!/usr/bin/env python3
"""PyTorch baseline for the CIFAR MobileNetV2 (or torchvision's mobilenet_v2), measured the way users run it.

    /usr/bin/python3 bench/pytorch_reference.py --batch-size 128 --steps 20 --warmup 3 --threads 2 [--model paper]

Model: --model cifar (default): tools/reference/cifar_mobilenetv2.py (kuangliu/pytorch-cifar layout, 10 classes,
32x32); --model paper: torchvision.models.mobilenet_v2() (1000 classes, 224x224).
Metrics (throughputs are medians over the timed steps of batch / step time):
  train_img_s        train mode, Adam(lr=1e-3), CrossEntropyLoss, synthetic batch
  infer_img_s        eval mode, torch.no_grad()
  infer_latency_ms   eval mode, torch.no_grad(), one image (batch 1), median
  fused_infer_img_s  eval mode, Conv+BN folded with torch.fx.experimental.optimization.fuse
  aug_img_s          exercise pipeline: RandomCrop(32, padding=4) + RandomHorizontalFlip
                     + ToTensor + Normalize per PIL image, DataLoader(batch, shuffle,
                     num_workers=0) over a synthetic uint8 CIFAR-shaped dataset
  peak_rss_mb        getrusage ru_maxrss / 1024 (whole process)
  rss_growth_pct     RSS (/proc/self/statm) after the last timed train step vs after warm-up
The last line printed is one JSON object with all metrics.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torchvision
import torchvision.transforms as T
from PIL import Image

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(REPO, "tools", "reference"))
from cifar_mobilenetv2 import MobileNetV2  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2023, 0.1994, 0.2010)


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def timed(fn, warmup, steps, after_warmup=None):
    times = []
    for i in range(warmup + steps):
        if i == warmup and after_warmup:
            after_warmup()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times[warmup:]


def img_s(batch, times):
    return batch / statistics.median(times)


class SyntheticCifar(torch.utils.data.Dataset):
    """CIFAR10-like: uint8 HWC array, PIL image built per item as torchvision does."""

    def __init__(self, n, transform, seed):
        rng = np.random.default_rng(seed)
        self.data = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
        self.targets = rng.integers(0, 10, size=n).tolist()
        self.transform = transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.data[i])), self.targets[i]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", choices=("cifar", "paper"), default="cifar")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    B = a.batch_size
    if a.model == "paper":
        model, size, classes = torchvision.models.mobilenet_v2(), 224, 1000
    else:
        model, size, classes = MobileNetV2(num_classes=10), 32, 10
    x = torch.randn(B, 3, size, size)
    y = torch.randint(0, classes, (B,))
    res = {}

    # --- training step ---------------------------------------------------
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    crit = nn.CrossEntropyLoss()

    def train_step():
        opt.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        opt.step()

    rss = {}
    t = timed(train_step, a.warmup, a.steps, lambda: rss.__setitem__("warm", rss_bytes()))
    rss["last"] = rss_bytes()
    res["train_img_s"] = img_s(B, t)
    res["train_step_ms"] = 1000 * statistics.median(t)

    # --- eager inference -------------------------------------------------
    model.eval()

    def infer(m):
        with torch.no_grad():
            m(x)

    t = timed(lambda: infer(model), a.warmup, a.steps)
    res["infer_img_s"] = img_s(B, t)
    one = x[:1].clone()

    def infer_one():
        with torch.no_grad():
            model(one)

    t = timed(infer_one, a.warmup, a.steps)
    res["infer_latency_ms"] = 1000 * statistics.median(t)

    # --- fused (Conv+BN folded) inference --------------------------------
    from torch.fx.experimental.optimization import fuse
    fused = fuse(model)  # symbolic trace + fold every Conv2d->BatchNorm2d pair (eval only)
    with torch.no_grad():
        ref, got = model(x), fused(x)
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in fused.modules())
    res["fused_max_abs_diff"] = (ref - got).abs().max().item()
    res["fused_remaining_bn"] = n_bn
    t = timed(lambda: infer(fused), a.warmup, a.steps)
    res["fused_infer_img_s"] = img_s(B, t)
    res["fused_method"] = "torch.fx.experimental.optimization.fuse"

    # --- augmentation pipeline -------------------------------------------
    tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                    T.Normalize(CIFAR_MEAN, CIFAR_STD)])
    ds = SyntheticCifar(B * (a.warmup + a.steps), tf, a.seed)
    loader = torch.utils.data.DataLoader(ds, batch_size=B, shuffle=True, num_workers=0)
    it = iter(loader)
    t = timed(lambda: next(it), a.warmup, a.steps)
    res["aug_img_s"] = img_s(B, t)

    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    res["rss_growth_pct"] = 100.0 * (rss["last"] - rss["warm"]) / rss["warm"]

    print("train      : %8.1f img/s  (median step %.1f ms, Adam lr 1e-3)" % (res["train_img_s"], res["train_step_ms"]))
    print("infer      : %8.1f img/s  (eval, no_grad)" % res["infer_img_s"])
    print("latency    : %8.2f ms     (eval, no_grad, batch 1)" % res["infer_latency_ms"])
    print("fused infer: %8.1f img/s  (fx Conv+BN fold, %d BN left, max|diff| %.2e)"
          % (res["fused_infer_img_s"], n_bn, res["fused_max_abs_diff"]))
    print("augment    : %8.1f img/s  (RandomCrop+Flip+ToTensor+Normalize, DataLoader workers=0)" % res["aug_img_s"])
    print("peak RSS   : %8.1f MB" % res["peak_rss_mb"])
    print("RSS growth : %8.2f %%  (last train step vs after warm-up)" % res["rss_growth_pct"])

    out = {"framework": "pytorch", "torch": torch.__version__, "torchvision": torchvision.__version__, "model": a.model,
           "threads": a.threads, "batch_size": B, "steps": a.steps, "warmup": a.warmup}
    for k in ("train_img_s", "infer_img_s", "infer_latency_ms", "fused_infer_img_s", "aug_img_s", "peak_rss_mb", "rss_growth_pct"):
        out[k] = round(res[k], 2)
    out["train_step_ms"] = round(res["train_step_ms"], 1)
    out["fused_method"] = res["fused_method"]
    out["fused_max_abs_diff"] = res["fused_max_abs_diff"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
