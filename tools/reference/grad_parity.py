#!/usr/bin/env python3
"""The truth for ArchGen's gradient-parity tests: logits and parameter gradients computed by PyTorch in float64.

    /usr/bin/python3 tools/reference/grad_parity.py MANIFEST.json

The manifest (written by tests/ArchGen.Interop.Tests/GradientParityTests.cs):
    {"model": {...spec...}, "weights": "weights.pt", "cases": [{"batch": 2, "input": "x2.bin", "cotangent": "r2.bin", "out": "truth2.pt"}, ...]}
A spec is {"kind": "mobilenet_v2", "width": 1.0, "classes": 1000}, {"kind": "cifar", "in_channels": 1, "classes": 10}
or {"kind": "config", "name": "V3SmallW05At96C7", "classes": 7} (a configuration of counts.py).
input and cotangent are raw little-endian float32 arrays (N x C x H x W and N x classes).

For each case, out.pt holds (as a dict of tensors): logits and grad/<parameter name> in float64, and f32/logits and
f32/grad/<name> from the same model in float32 (PyTorch's own float32 error, against which the tests scale their
bounds). The model runs in eval mode (BatchNorm on its running statistics, dropout and drop-path off); the loss is
sum(logits * cotangent).
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cifar_mobilenetv2 import MobileNetV2 as CifarMobileNetV2  # noqa: E402
import counts  # noqa: E402
import families  # noqa: E402


def build(spec):
    if spec["kind"] == "mobilenet_v2":
        return torchvision.models.mobilenet_v2(weights=None, width_mult=spec["width"], num_classes=spec["classes"])
    if spec["kind"] == "cifar":
        return CifarMobileNetV2(num_classes=spec["classes"], in_channels=spec["in_channels"])
    cfg = next(c for c in counts.CONFIGS if c.name == spec["name"])
    return families.build(cfg._replace(classes=spec["classes"]))


def run(model, x, r):
    params = [(n, p) for n, p in model.named_parameters()]
    logits = model(x)
    grads = torch.autograd.grad((logits * r).sum(), [p for _, p in params])
    out = {"logits": logits.detach()}
    out.update({"grad/" + n: g for (n, _), g in zip(params, grads)})
    return out


def main():
    torch.set_num_threads(2)
    with open(sys.argv[1]) as f:
        manifest = json.load(f)
    model = build(manifest["model"])
    model.load_state_dict(torch.load(manifest["weights"]), strict=True)
    model.eval()
    for case in manifest["cases"]:
        n = case["batch"]
        x = torch.from_numpy(np.fromfile(case["input"], dtype="<f4")).reshape(n, *case["shape"])
        r = torch.from_numpy(np.fromfile(case["cotangent"], dtype="<f4"))
        r = r.reshape(n, r.numel() // n)
        model.double()
        truth = run(model, x.double(), r.double())
        model.float()
        f32 = run(model, x, r)
        out = dict(truth)
        out.update({"f32/" + k: v for k, v in f32.items()})
        torch.save(out, case["out"])
    print(f"{len(manifest['cases'])} cases")


if __name__ == "__main__":
    main()
