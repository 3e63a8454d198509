namespace ArchGen.Interop.Tests;

// The generated counterparts of the PyTorch fixtures (tools/reference/make_fixtures.py), defined only by attributes.

[MobileNetV2(Flavor = MobileNetV2Flavor.Paper, Classes = 10, InputSize = 224, Width = 1.0)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 2)]
[Bottleneck(t: 6, c: 32, n: 3, s: 2)]
[Bottleneck(t: 6, c: 64, n: 4, s: 2)]
[Bottleneck(t: 6, c: 96, n: 3, s: 1)]
[Bottleneck(t: 6, c: 160, n: 3, s: 2)]
[Bottleneck(t: 6, c: 320, n: 1, s: 1)]
public partial class PaperW10At224 { }

[MobileNetV2(Flavor = MobileNetV2Flavor.Paper, Classes = 10, InputSize = 160, Width = 0.5)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 2)]
[Bottleneck(t: 6, c: 32, n: 3, s: 2)]
[Bottleneck(t: 6, c: 64, n: 4, s: 2)]
[Bottleneck(t: 6, c: 96, n: 3, s: 1)]
[Bottleneck(t: 6, c: 160, n: 3, s: 2)]
[Bottleneck(t: 6, c: 320, n: 1, s: 1)]
public partial class PaperW05At160 { }

[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 32)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 1)]
[Bottleneck(t: 6, c: 32, n: 3, s: 2)]
[Bottleneck(t: 6, c: 64, n: 4, s: 2)]
[Bottleneck(t: 6, c: 96, n: 3, s: 1)]
[Bottleneck(t: 6, c: 160, n: 3, s: 2)]
[Bottleneck(t: 6, c: 320, n: 1, s: 1)]
public partial class Cifar3At32 { }

[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 32, InputChannels = 1)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 1)]
[Bottleneck(t: 6, c: 32, n: 3, s: 2)]
[Bottleneck(t: 6, c: 64, n: 4, s: 2)]
[Bottleneck(t: 6, c: 96, n: 3, s: 1)]
[Bottleneck(t: 6, c: 160, n: 3, s: 2)]
[Bottleneck(t: 6, c: 320, n: 1, s: 1)]
public partial class Cifar1At32 { }

// MobileNetV3 and EfficientNet: configurations V3SmallW05At96C7, V3Custom1ChAt80C9, B0W05D05At64C5 and
// EffCustom1ChAt48C6 of tools/reference/counts.py.

[MobileNetV3(Width = 0.5, InputSize = 96, Classes = 7, HeadChannels = 1024)]
[Bneck(3, 16, 16, true, Nonlinearity.ReLU, 2)]
[Bneck(3, 72, 24, false, Nonlinearity.ReLU, 2)]
[Bneck(3, 88, 24, false, Nonlinearity.ReLU, 1)]
[Bneck(5, 96, 40, true, Nonlinearity.HardSwish, 2)]
[Bneck(5, 240, 40, true, Nonlinearity.HardSwish, 1)]
[Bneck(5, 240, 40, true, Nonlinearity.HardSwish, 1)]
[Bneck(5, 120, 48, true, Nonlinearity.HardSwish, 1)]
[Bneck(5, 144, 48, true, Nonlinearity.HardSwish, 1)]
[Bneck(5, 288, 96, true, Nonlinearity.HardSwish, 2)]
[Bneck(5, 576, 96, true, Nonlinearity.HardSwish, 1)]
[Bneck(5, 576, 96, true, Nonlinearity.HardSwish, 1)]
public partial class V3SmallW05At96C7 { }

[MobileNetV3(Width = 1.25, InputSize = 80, InputChannels = 1, Classes = 9, HeadChannels = 512)]
[Bneck(3, 16, 16, true, Nonlinearity.HardSwish, 2)]
[Bneck(7, 48, 24, false, Nonlinearity.ReLU, 1)]
[Bneck(5, 96, 24, true, Nonlinearity.HardSwish, 1)]
[Bneck(3, 120, 40, false, Nonlinearity.HardSwish, 2)]
public partial class V3Custom1ChAt80C9 { }

[EfficientNet(Width = 0.5, Depth = 0.5, InputSize = 64, Classes = 5)]
[MBConv(1, 3, 16, 1, 1)]
[MBConv(6, 3, 24, 2, 2)]
[MBConv(6, 5, 40, 2, 2)]
[MBConv(6, 3, 80, 3, 2)]
[MBConv(6, 5, 112, 3, 1)]
[MBConv(6, 5, 192, 4, 2)]
[MBConv(6, 3, 320, 1, 1)]
public partial class B0W05D05At64C5 { }

[EfficientNet(Width = 0.75, Depth = 1.5, InputSize = 48, InputChannels = 1, Classes = 6, StemChannels = 24)]
[MBConv(1, 3, 16, 1, 1)]
[MBConv(4, 7, 24, 2, 2)]
[MBConv(3, 5, 40, 3, 2)]
public partial class EffCustom1ChAt48C6 { }

// The paper's two ablations (MobileNetV2 Figure 6) on small tables: fixtures paper_small_* (torchvision's
// mobilenet_v2 with ReLU6 appended to each block's conv, or use_res_connect off) and cifar_small_* (the exercise's
// network with linear_bottleneck=False or shortcut="none") of tools/reference/make_fixtures.py. One argument each.
// The shortcut between expansions (shortcut="expansion") has tables with a row of three blocks, so that one block
// both takes and passes the expanded tensor.

[MobileNetV2(Flavor = MobileNetV2Flavor.Paper, Classes = 5, InputSize = 64, Width = 0.35, LinearBottleneck = false)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 2)]
[Bottleneck(t: 6, c: 32, n: 2, s: 2)]
public partial class PaperSmallNonLinear { }

[MobileNetV2(Flavor = MobileNetV2Flavor.Paper, Classes = 5, InputSize = 64, Width = 0.35, Shortcut = ShortcutPlacement.None)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 2)]
[Bottleneck(t: 6, c: 32, n: 2, s: 2)]
public partial class PaperSmallNoShortcut { }

[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 32, LinearBottleneck = false)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 2)]
[Bottleneck(t: 6, c: 32, n: 2, s: 2)]
[Bottleneck(t: 6, c: 48, n: 1, s: 2)]
public partial class CifarSmallNonLinear { }

[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 32, InputChannels = 1, Shortcut = ShortcutPlacement.None)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 2)]
[Bottleneck(t: 6, c: 32, n: 2, s: 2)]
[Bottleneck(t: 6, c: 48, n: 1, s: 2)]
public partial class CifarSmallNoShortcut { }

[MobileNetV2(Flavor = MobileNetV2Flavor.Paper, Classes = 5, InputSize = 64, Width = 0.35, Shortcut = ShortcutPlacement.Expansion)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 3, s: 2)]
[Bottleneck(t: 6, c: 32, n: 2, s: 2)]
public partial class PaperSmallExpansionShortcut { }

[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 32, Shortcut = ShortcutPlacement.Expansion)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 3, s: 2)]
[Bottleneck(t: 6, c: 32, n: 2, s: 2)]
[Bottleneck(t: 6, c: 48, n: 1, s: 2)]
public partial class CifarSmallExpansionShortcut { }
