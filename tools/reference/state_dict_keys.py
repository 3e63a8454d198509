#!/usr/bin/env python3
"""Dump state_dict keys and shapes of the reference models as TSV.

Writes (relative to this file):
  keys/torchvision_mobilenet_v2.tsv      torchvision.models.mobilenet_v2(), 1000 classes
  keys/kuangliu_cifar_mobilenetv2.tsv    cifar_mobilenetv2.MobileNetV2(), 10 classes
One line per key, in state_dict order: "key<TAB>d0,d1,..." (empty shape for 0-dim).
Run from anywhere: /usr/bin/python3 tools/reference/state_dict_keys.py
"""
import os
import sys

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cifar_mobilenetv2 import MobileNetV2 as CifarMobileNetV2  # noqa: E402


def dump(model, path):
    lines = ["%s\t%s\n" % (k, ",".join(str(d) for d in v.shape))
             for k, v in model.state_dict().items()]
    with open(path, "w", newline="\n") as f:
        f.writelines(lines)
    print("%s: %d keys" % (os.path.relpath(path), len(lines)))


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    out = os.path.join(HERE, "keys")
    os.makedirs(out, exist_ok=True)
    # torchvision >= 0.13: mobilenet_v2(*, weights=None, progress=True, **kwargs)
    dump(torchvision.models.mobilenet_v2(weights=None, num_classes=1000),
         os.path.join(out, "torchvision_mobilenet_v2.tsv"))
    dump(CifarMobileNetV2(num_classes=10),
         os.path.join(out, "kuangliu_cifar_mobilenetv2.tsv"))


if __name__ == "__main__":
    main()
