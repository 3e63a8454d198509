#!/usr/bin/env python3
"""Write the seed file of the .pt fuzz test: a tiny model's state_dict as torch.save writes it.

Run from the repository root:
    /usr/bin/python3 tools/reference/make_fuzz_seed.py

Writes tests/ArchGen.Interop.Tests/Fixtures/tiny/weights.pt: model.state_dict() itself (with its _metadata, as
users save it) of conv(3->4, 3x3) + BatchNorm2d(4) + Linear(4->3), seeded. WeightFuzzTests builds the same
module in TorchSharp.
"""
import collections
import os

import torch
import torch.nn as nn

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "tests", "ArchGen.Interop.Tests", "Fixtures", "tiny")

torch.manual_seed(7)
model = nn.Sequential(collections.OrderedDict([
    ("conv", nn.Conv2d(3, 4, 3)),
    ("bn", nn.BatchNorm2d(4)),
    ("pool", nn.AdaptiveAvgPool2d(1)),
    ("flat", nn.Flatten()),
    ("linear", nn.Linear(4, 3)),
]))
model.bn.running_mean.uniform_(-1, 1)
model.bn.running_var.uniform_(0.5, 2)
os.makedirs(OUT, exist_ok=True)
torch.save(model.state_dict(), os.path.join(OUT, "weights.pt"))
print("wrote", os.path.join(OUT, "weights.pt"), "with torch", torch.__version__)
