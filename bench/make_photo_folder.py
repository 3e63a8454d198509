#!/usr/bin/env python3
"""Write a folder of photo-like JPEGs for the loader benchmarks (bench/compare_loader.sh).

    /usr/bin/python3 bench/make_photo_folder.py OUT --images 1000 --size 500x375 [--classes 10] [--seed 0]

OUT/<class>/<n>.jpg: random crops of the committed photographs (tests/ArchGen.Runtime.Tests/Data/Images/Fixtures/
photos), resized to the given size (portrait or landscape at random), with mild sensor-like noise so the JPEGs carry
a real photo's entropy, saved at quality 90 with 4:2:0 chroma (a camera's defaults). 500x375 is an average ImageNet
photo; 4032x3024 is a 12-megapixel phone photo.
"""
import argparse
import os
import random

import numpy as np
from PIL import Image

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
PHOTOS = os.path.join(REPO, "tests", "ArchGen.Runtime.Tests", "Data", "Images", "Fixtures", "photos")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--size", default="500x375")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    rng = random.Random(args.seed)
    noise = np.random.default_rng(args.seed)
    sources = [Image.open(os.path.join(PHOTOS, f)).convert("RGB") for f in sorted(os.listdir(PHOTOS)) if f.endswith(".jpg")]
    for i in range(args.images):
        src = rng.choice(sources)
        w, h = src.size
        cw, ch = rng.randint(w // 2, w), rng.randint(h // 2, h)
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        size = (width, height) if rng.random() < 0.5 else (height, width)
        im = src.crop((x, y, x + cw, y + ch)).resize(size, Image.BICUBIC)
        pixels = np.asarray(im, dtype=np.int16) + noise.normal(0, 3, (size[1], size[0], 3)).astype(np.int16)
        folder = os.path.join(args.out, f"class{i % args.classes:02d}")
        os.makedirs(folder, exist_ok=True)
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(os.path.join(folder, f"{i:06d}.jpg"), quality=90)
    print(f"{args.out}: {args.images} images of {width}x{height} in {args.classes} classes")


if __name__ == "__main__":
    main()
