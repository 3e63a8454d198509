#!/usr/bin/env python3
"""Write a torchvision model's state_dict as torch.save does, the file a user fine-tunes from.

    /usr/bin/python3 tools/reference/torchvision_state_dict.py mobilenet_v2 OUT.pth [--seed N]

No pretrained weights can be downloaded here, so the weights are torchvision's own seeded initialization (1000
ImageNet classes); the keys, shapes and file format are exactly those of torchvision's ImageNet checkpoints.
"""
import argparse

import torch
import torchvision


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model", help="a torchvision.models builder, e.g. mobilenet_v2")
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    model = getattr(torchvision.models, args.model)()
    torch.save(model.state_dict(), args.out)
    print(f"{args.out}: {args.model}, {sum(p.numel() for p in model.parameters()):,} parameters, {len(model.state_dict())} tensors")


if __name__ == "__main__":
    main()
