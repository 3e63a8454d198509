"""CIFAR-style MobileNetV2 (kuangliu/pytorch-cifar layout), re-implemented.

Faithful to the model in /work/shared/reference/mobilenetv2-reading-and-cifar-exercise.txt:
  * stem: 3x3 conv, stride 1, 32 channels, no bias, BN, ReLU (not ReLU6)
  * blocks: 1x1 expand -> BN -> ReLU -> 3x3 depthwise (stride s) -> BN -> ReLU
            -> 1x1 project -> BN (linear bottleneck)
    residual only when stride == 1; if in != out channels the residual is a
    1x1 conv + BN ("shortcut.0" / "shortcut.1"), otherwise identity (an empty
    nn.Sequential, so it contributes no state_dict keys). Stride-2 blocks have
    no shortcut attribute at all. Note the expansion conv exists even for t=1.
  * head: 1x1 conv 320->1280 (no bias), BN, ReLU, avg_pool2d(4), Linear.
State-dict keys: conv1.weight, bn1.*, layers.<i>.{conv1,bn1,conv2,bn2,conv3,bn3}.*,
layers.<i>.shortcut.{0,1}.*, conv2.weight, bn2.*, linear.{weight,bias}.

Parameterized by num_classes, in_channels and the cfg table (defaults = the
exercise). Only the stem conv depends on in_channels.

The paper's two ablations (MobileNetV2 Figure 6), off by default:
  * linear_bottleneck=False: ReLU after bn3, before the residual add
    ("ReLU6 in bottleneck"; this flavor's activation is ReLU);
  * shortcut="none": no residual at all, so no "shortcut" modules or keys;
  * shortcut="expansion": the paper's "shortcut between expansions": no residual joins the bottlenecks (no
    "shortcut" modules or keys); instead, where a block follows a stride-1 block whose expansion has its width, the
    earlier block's expanded tensor (after its ReLU, and after what it added itself) is added to this block's
    expanded tensor (after its ReLU), so such blocks carry a residual stream between their wide tensors.
The default, shortcut="bottleneck", is the exercise's network.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

# (expansion t, out_planes c, num_blocks n, stride s)
DEFAULT_CFG = (
    (1, 16, 1, 1),
    (6, 24, 2, 1),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def _conv(cin, cout, k, stride=1, groups=1):
    return nn.Conv2d(cin, cout, kernel_size=k, stride=stride, padding=k // 2,
                     groups=groups, bias=False)


class Block(nn.Module):
    """Inverted residual: expand (1x1) + depthwise (3x3) + linear project (1x1)."""

    def __init__(self, in_planes, out_planes, expansion, stride, linear_bottleneck=True, shortcut="bottleneck"):
        super().__init__()
        assert shortcut in ("bottleneck", "expansion", "none"), shortcut
        shortcuts = shortcut == "bottleneck"
        self.stride = stride if shortcuts else None  # None: no residual between bottlenecks
        self.block_stride = stride
        self.linear_bottleneck = linear_bottleneck
        hidden = expansion * in_planes
        self.hidden = hidden
        self.conv1 = _conv(in_planes, hidden, 1)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.conv2 = _conv(hidden, hidden, 3, stride=stride, groups=hidden)
        self.bn2 = nn.BatchNorm2d(hidden)
        self.conv3 = _conv(hidden, out_planes, 1)
        self.bn3 = nn.BatchNorm2d(out_planes)
        if stride == 1 and shortcuts:
            if in_planes == out_planes:
                self.shortcut = nn.Sequential()  # identity, no keys
            else:
                self.shortcut = nn.Sequential(_conv(in_planes, out_planes, 1),
                                              nn.BatchNorm2d(out_planes))

    def forward(self, x, wide=None):
        """The block's output; with `wide` (the previous block's expanded tensor), also its own expanded tensor."""
        y = F.relu(self.bn1(self.conv1(x)))
        if wide is not None:
            y = y + wide
        expanded = y
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        if not self.linear_bottleneck:
            y = F.relu(y)
        if self.stride == 1:
            y = y + self.shortcut(x)
        return y, expanded


def joins(before, block):
    """Whether `block` takes `before`'s expanded tensor: `before` has stride 1 and expands to the same width."""
    return before is not None and before.block_stride == 1 and before.hidden == block.hidden


class MobileNetV2(nn.Module):
    def __init__(self, num_classes=10, in_channels=3, cfg=DEFAULT_CFG,
                 stem_channels=32, head_channels=1280, linear_bottleneck=True, shortcut="bottleneck"):
        super().__init__()
        self.cfg = tuple(tuple(row) for row in cfg)
        self.conv1 = _conv(in_channels, stem_channels, 3)
        self.bn1 = nn.BatchNorm2d(stem_channels)
        blocks = []
        cin = stem_channels
        for t, c, n, s in self.cfg:
            for i in range(n):
                blocks.append(Block(cin, c, t, s if i == 0 else 1, linear_bottleneck, shortcut))
                cin = c
        self.layers = nn.Sequential(*blocks)
        self.wide = shortcut == "expansion"
        self.conv2 = _conv(cin, head_channels, 1)
        self.bn2 = nn.BatchNorm2d(head_channels)
        self.linear = nn.Linear(head_channels, num_classes)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        expanded, before = None, None
        for block in self.layers:
            y, expanded = block(y, expanded if self.wide and joins(before, block) else None)
            before = block
        y = F.relu(self.bn2(self.conv2(y)))
        y = F.avg_pool2d(y, 4)  # as in the exercise: 4x4 map at 32x32 input
        y = y.view(y.size(0), -1)
        return self.linear(y)


def count_params(model):
    return sum(p.numel() for p in model.parameters())
