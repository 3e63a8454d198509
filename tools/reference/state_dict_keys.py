#!/usr/bin/env python3
"""Dump state_dict keys and shapes, and named_modules paths, of the reference models.

Writes (relative to this file), for each reference model NAME:
  keys/NAME.tsv           one line per state_dict key, in order: "key<TAB>d0,d1,..." (empty shape for 0-dim)
  keys/NAME.modules.txt   one line per named_modules() path (the root excluded), in order: "path<TAB>ClassName"
The models: torchvision_mobilenet_v2, torchvision_mobilenet_v3_large, torchvision_mobilenet_v3_small and
torchvision_efficientnet_b0 (torchvision 0.14's builders, 1000 classes) and kuangliu_cifar_mobilenetv2
(cifar_mobilenetv2.MobileNetV2(), 10 classes).
Run from anywhere: /usr/bin/python3 tools/reference/state_dict_keys.py
"""
import os
import sys

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cifar_mobilenetv2 import MobileNetV2 as CifarMobileNetV2  # noqa: E402


def write(path, lines):
    with open(path, "w", newline="\n") as f:
        f.writelines(lines)
    print("%s: %d lines" % (os.path.relpath(path), len(lines)))


def dump(model, out, name):
    write(os.path.join(out, name + ".tsv"),
          ["%s\t%s\n" % (k, ",".join(str(d) for d in v.shape)) for k, v in model.state_dict().items()])
    write(os.path.join(out, name + ".modules.txt"),
          ["%s\t%s\n" % (n, type(m).__name__) for n, m in model.named_modules() if n])


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    out = os.path.join(HERE, "keys")
    os.makedirs(out, exist_ok=True)
    # torchvision >= 0.13: mobilenet_v2(*, weights=None, progress=True, **kwargs)
    dump(torchvision.models.mobilenet_v2(weights=None, num_classes=1000), out, "torchvision_mobilenet_v2")
    dump(torchvision.models.mobilenet_v3_large(weights=None), out, "torchvision_mobilenet_v3_large")
    dump(torchvision.models.mobilenet_v3_small(weights=None), out, "torchvision_mobilenet_v3_small")
    dump(torchvision.models.efficientnet_b0(weights=None), out, "torchvision_efficientnet_b0")
    dump(CifarMobileNetV2(num_classes=10), out, "kuangliu_cifar_mobilenetv2")


if __name__ == "__main__":
    main()
