"""MobileNetV3 and EfficientNet built by torchvision 0.14 from ArchGen-style tables.

A config names a network the way an ArchGen attribute table does: the rows as written on the class
([Bneck(k, exp, c, se, nl, s)] or [MBConv(t, k, c, n, s)]), plus Width, Depth, InputSize, InputChannels, Classes,
StemChannels, HeadChannels, Dropout and StochasticDepth. build() hands the rows to torchvision's own config
classes (InvertedResidualConfig, MBConvConfig), so the result is torchvision's network: the same modules, state_dict
keys and initialization. torchvision's stems take 3 channels; for other InputChannels the stem's convolution is
replaced by one of the same shape but the input channels (initialized as torchvision initializes convolutions).

Used by counts.py (parameter and multiply-add counts) and make_fixtures.py (parity fixtures).
"""
import collections

import torch
import torch.nn as nn
from torchvision.models import efficientnet, mobilenetv3

Config = collections.namedtuple(
    "Config", "name family rows width depth size in_channels classes stem head dropout stochastic_depth")

V3_LARGE = [
    (3, 16, 16, False, "RE", 1), (3, 64, 24, False, "RE", 2), (3, 72, 24, False, "RE", 1),
    (5, 72, 40, True, "RE", 2), (5, 120, 40, True, "RE", 1), (5, 120, 40, True, "RE", 1),
    (3, 240, 80, False, "HS", 2), (3, 200, 80, False, "HS", 1), (3, 184, 80, False, "HS", 1),
    (3, 184, 80, False, "HS", 1), (3, 480, 112, True, "HS", 1), (3, 672, 112, True, "HS", 1),
    (5, 672, 160, True, "HS", 2), (5, 960, 160, True, "HS", 1), (5, 960, 160, True, "HS", 1),
]
V3_SMALL = [
    (3, 16, 16, True, "RE", 2), (3, 72, 24, False, "RE", 2), (3, 88, 24, False, "RE", 1),
    (5, 96, 40, True, "HS", 2), (5, 240, 40, True, "HS", 1), (5, 240, 40, True, "HS", 1),
    (5, 120, 48, True, "HS", 1), (5, 144, 48, True, "HS", 1), (5, 288, 96, True, "HS", 2),
    (5, 576, 96, True, "HS", 1), (5, 576, 96, True, "HS", 1),
]
B0 = [(1, 3, 16, 1, 1), (6, 3, 24, 2, 2), (6, 5, 40, 2, 2), (6, 3, 80, 3, 2), (6, 5, 112, 3, 1), (6, 5, 192, 4, 2), (6, 3, 320, 1, 1)]


def v3(name, rows, width=1.0, size=224, in_channels=3, classes=1000, stem=16, head=1280, dropout=0.2):
    return Config(name, "v3", rows, width, 1.0, size, in_channels, classes, stem, head, dropout, 0.0)


def effnet(name, rows, width=1.0, depth=1.0, size=224, in_channels=3, classes=1000, stem=32, dropout=0.2, stochastic_depth=0.2):
    return Config(name, "effnet", rows, width, depth, size, in_channels, classes, stem, None, dropout, stochastic_depth)


def build(cfg):
    if cfg.family == "v3":
        settings, previous = [], cfg.stem
        for k, exp, c, se, nl, s in cfg.rows:
            settings.append(mobilenetv3.InvertedResidualConfig(previous, k, exp, c, se, nl, s, 1, cfg.width))
            previous = c
        last_channel = mobilenetv3.InvertedResidualConfig.adjust_channels(cfg.head, cfg.width)
        model = mobilenetv3.MobileNetV3(settings, last_channel, num_classes=cfg.classes, dropout=cfg.dropout)
    else:
        settings, previous = [], cfg.stem
        for t, k, c, n, s in cfg.rows:
            settings.append(efficientnet.MBConvConfig(t, k, s, previous, c, n, cfg.width, cfg.depth))
            previous = c
        model = efficientnet.EfficientNet(settings, cfg.dropout, stochastic_depth_prob=cfg.stochastic_depth, num_classes=cfg.classes)
    if cfg.in_channels != 3:
        old = model.features[0][0]
        conv = nn.Conv2d(cfg.in_channels, old.out_channels, old.kernel_size, old.stride, old.padding, bias=False)
        nn.init.kaiming_normal_(conv.weight, mode="fan_out")
        model.features[0][0] = conv
    return model


def count(model, cfg):
    """Parameters, and multiply-adds of convolutions and linear layers for one image at the config's size."""
    macs = [0]

    def hook(module, _, output):
        per_output = module.weight.numel() // module.weight.shape[0]
        macs[0] += per_output * output[0].numel()

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, cfg.in_channels, cfg.size, cfg.size))
    for h in handles:
        h.remove()
    return sum(p.numel() for p in model.parameters()), macs[0]
