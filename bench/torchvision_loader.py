#!/usr/bin/env python3
"""torchvision's ImageNet training loader on a folder, timed the way `archgen bench --data` times ArchGen's.

    /usr/bin/python3 bench/torchvision_loader.py DIR [--size 224] [--batch-size 128] [--workers 2] [--epochs 1]

DIR holds one subfolder per class (or is a dataset root whose train/ does). torchvision.datasets.ImageFolder with
PIL decoding, RandomResizedCrop(size) + RandomHorizontalFlip + ToTensor + Normalize(ImageNet), and a shuffling
DataLoader with `workers` worker processes; one warm-up batch (which also starts the workers), then every batch of
`epochs` passes is timed. peak_rss_mb adds the workers' peak to the main process's (getrusage).
The last line printed is one JSON object.
"""
import argparse
import json
import os
import resource
import time

import torch
import torchvision
import torchvision.transforms as T


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    root = os.path.join(args.folder, "train") if os.path.isdir(os.path.join(args.folder, "train")) else args.folder
    torch.manual_seed(0)
    transform = T.Compose([
        T.RandomResizedCrop(args.size),
        T.RandomHorizontalFlip(),
        T.ToTensor(),
        T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    dataset = torchvision.datasets.ImageFolder(root, transform)
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                                         persistent_workers=args.workers > 0)
    next(iter(loader))  # warm-up: workers started, first batch made
    images = 0
    start = time.perf_counter()
    for _ in range(args.epochs):
        for batch, _labels in loader:
            images += batch.shape[0]
    seconds = time.perf_counter() - start
    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    print(f"{images} images ({len(dataset)} in the folder) at {args.size}x{args.size} in {seconds:.2f} s with {args.workers} workers: {images / seconds:.1f} img/s")
    print(json.dumps({
        "framework": "torchvision", "pipeline": "folder", "size": args.size, "batch_size": args.batch_size,
        "workers": args.workers, "images": len(dataset), "images_timed": images,
        "load_img_s": round(images / seconds, 2), "peak_rss_mb": round(rss, 2),
    }))


if __name__ == "__main__":
    main()
