#!/usr/bin/env python3
"""Parameter and multiply-add counts of MobileNetV3 and EfficientNet configurations, as torchvision 0.14 builds them.

Writes counts.tsv beside this file: "name<TAB>parameters<TAB>multiply-adds" per configuration. The generator tests
declare each configuration as an ArchGen attribute table of the same name (tests/ArchGen.Generator.Tests/Models/
FamilyModels.cs) and compare the compile-time constants with these numbers.
Run: /usr/bin/python3 tools/reference/counts.py
"""
import os
import sys

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from families import B0, V3_LARGE, V3_SMALL, build, count, effnet, v3  # noqa: E402

CUSTOM_V3 = [(3, 16, 16, True, "HS", 2), (7, 48, 24, False, "RE", 1), (5, 96, 24, True, "HS", 1), (3, 120, 40, False, "HS", 2)]
CUSTOM_EFFNET = [(1, 3, 16, 1, 1), (4, 7, 24, 2, 2), (3, 5, 40, 3, 2)]

CONFIGS = [
    v3("V3Large", V3_LARGE),
    v3("V3Small", V3_SMALL, head=1024),
    v3("V3LargeW075At192C10", V3_LARGE, width=0.75, size=192, classes=10),
    v3("V3SmallW05At96C7", V3_SMALL, width=0.5, size=96, classes=7, head=1024),
    v3("V3SmallW125At160", V3_SMALL, width=1.25, size=160, head=1024),
    v3("V3Custom1ChAt80C9", CUSTOM_V3, width=1.25, size=80, in_channels=1, classes=9, head=512),
    effnet("B0", B0),
    effnet("B1", B0, depth=1.1, size=240),
    effnet("B3", B0, width=1.2, depth=1.4, size=300),
    effnet("B0W05D05At64C5", B0, width=0.5, depth=0.5, size=64, classes=5),
    effnet("EffCustom1ChAt48C6", CUSTOM_EFFNET, width=0.75, depth=1.5, size=48, in_channels=1, classes=6, stem=24),
]


def main():
    torch.set_num_threads(1)
    # The tables reproduce torchvision's own builders.
    assert count(build(CONFIGS[0]), CONFIGS[0]) == count(torchvision.models.mobilenet_v3_large(), CONFIGS[0])
    assert count(build(CONFIGS[1]), CONFIGS[1]) == count(torchvision.models.mobilenet_v3_small(), CONFIGS[1])
    assert count(build(CONFIGS[6]), CONFIGS[6]) == count(torchvision.models.efficientnet_b0(), CONFIGS[6])
    assert count(build(CONFIGS[7]), CONFIGS[7]) == count(torchvision.models.efficientnet_b1(), CONFIGS[7])
    assert count(build(CONFIGS[8]), CONFIGS[8]) == count(torchvision.models.efficientnet_b3(), CONFIGS[8])
    lines = []
    for cfg in CONFIGS:
        params, macs = count(build(cfg), cfg)
        lines.append("%s\t%d\t%d\n" % (cfg.name, params, macs))
        print("%-22s %12s parameters %14s multiply-adds" % (cfg.name, format(params, ","), format(macs, ",")))
    with open(os.path.join(HERE, "counts.tsv"), "w", newline="\n") as f:
        f.writelines(lines)


if __name__ == "__main__":
    main()
