"""Writes the PyTorch side of ParityTests: seeded weights (randomized BatchNorm statistics), an input batch and
the eval-mode logits of two small originals that match the test project's TinyPaperNet and TinyCifarNet.
Run from the repository root with Debian's torch/torchvision: /usr/bin/python3 tests/ArchGen.Generator.Tests/Expected/make_parity.py
"""
import os
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity")


def make_divisible(v, divisor=8, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class Block(nn.Module):
    """kuangliu/pytorch-cifar MobileNetV2 block (same module names)."""

    def __init__(self, in_planes, out_planes, expansion, stride):
        super().__init__()
        self.stride = stride
        planes = expansion * in_planes
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=1, stride=1, padding=0, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, groups=planes, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_planes, kernel_size=1, stride=1, padding=0, bias=False)
        self.bn3 = nn.BatchNorm2d(out_planes)
        self.shortcut = nn.Sequential()
        if stride == 1 and in_planes != out_planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=1, padding=0, bias=False),
                nn.BatchNorm2d(out_planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return out + self.shortcut(x) if self.stride == 1 else out


class CifarMobileNetV2(nn.Module):
    """kuangliu's model with the table, classes and width as parameters (ArchGen's Cifar flavor)."""

    def __init__(self, cfg, num_classes, width, dropout):
        super().__init__()
        scale = (lambda c: make_divisible(c * width)) if width != 1.0 else (lambda c: c)
        stem = scale(32)
        self.conv1 = nn.Conv2d(3, stem, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        layers, in_planes = [], stem
        for expansion, out_planes, num_blocks, stride in cfg:
            out_planes = scale(out_planes)
            for s in [stride] + [1] * (num_blocks - 1):
                layers.append(Block(in_planes, out_planes, expansion, s))
                in_planes = out_planes
        self.layers = nn.Sequential(*layers)
        head = make_divisible(1280 * max(1.0, width)) if width != 1.0 else 1280
        self.conv2 = nn.Conv2d(in_planes, head, kernel_size=1, stride=1, padding=0, bias=False)
        self.bn2 = nn.BatchNorm2d(head)
        self.dropout = dropout
        self.linear = nn.Linear(head, num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layers(out)
        out = F.relu(self.bn2(self.conv2(out)))
        out = F.avg_pool2d(out, out.shape[-1])
        out = out.view(out.size(0), -1)
        out = F.dropout(out, self.dropout, self.training)
        return self.linear(out)


def randomize(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(7)


def write(name, model, size):
    randomize(model)
    model.eval()
    x = torch.randn(3, 3, size, size)
    with torch.no_grad():
        y = model(x)
    torch.save(model.state_dict(), os.path.join(OUT, name + ".weights.pt"))
    torch.save({"input": x, "logits": y}, os.path.join(OUT, name + ".io.pt"))
    print(name, sum(p.numel() for p in model.parameters()), tuple(y.shape))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    write("tiny_paper", torchvision.models.mobilenet_v2(
        num_classes=7, width_mult=0.5, dropout=0.1,
        inverted_residual_setting=[[1, 16, 1, 1], [6, 24, 2, 2], [4, 32, 2, 2], [6, 64, 1, 2]]), 64)
    write("tiny_cifar", CifarMobileNetV2([(1, 16, 1, 1), (6, 24, 2, 2), (3, 40, 2, 2)], 5, 0.75, 0.3), 16)
