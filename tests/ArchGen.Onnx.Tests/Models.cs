using ArchGen;

// The networks the ONNX tests export: the app's shipped models and configurations of other widths, sizes, input
// channels and class counts.
namespace ArchGen.Onnx.Tests.Models;

/// <summary>As the app ships it.</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Paper, Classes = 1000, InputSize = 224)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 2)]
[Bottleneck(t: 6, c: 32, n: 3, s: 2)]
[Bottleneck(t: 6, c: 64, n: 4, s: 2)]
[Bottleneck(t: 6, c: 96, n: 3, s: 1)]
[Bottleneck(t: 6, c: 160, n: 3, s: 2)]
[Bottleneck(t: 6, c: 320, n: 1, s: 1)]
public partial class MobileNetV2
{
}

/// <summary>As the app ships it.</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 32)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 1)]
[Bottleneck(t: 6, c: 32, n: 3, s: 2)]
[Bottleneck(t: 6, c: 64, n: 4, s: 2)]
[Bottleneck(t: 6, c: 96, n: 3, s: 1)]
[Bottleneck(t: 6, c: 160, n: 3, s: 2)]
[Bottleneck(t: 6, c: 320, n: 1, s: 1)]
public partial class CifarMobileNetV2
{
}

/// <summary>As the app ships it.</summary>
[MobileNetV3(Classes = 1000, InputSize = 224, HeadChannels = 1280)]
[Bneck(3, 16, 16, false, Nonlinearity.ReLU, 1)]
[Bneck(3, 64, 24, false, Nonlinearity.ReLU, 2)]
[Bneck(3, 72, 24, false, Nonlinearity.ReLU, 1)]
[Bneck(5, 72, 40, true, Nonlinearity.ReLU, 2)]
[Bneck(5, 120, 40, true, Nonlinearity.ReLU, 1)]
[Bneck(5, 120, 40, true, Nonlinearity.ReLU, 1)]
[Bneck(3, 240, 80, false, Nonlinearity.HardSwish, 2)]
[Bneck(3, 200, 80, false, Nonlinearity.HardSwish, 1)]
[Bneck(3, 184, 80, false, Nonlinearity.HardSwish, 1)]
[Bneck(3, 184, 80, false, Nonlinearity.HardSwish, 1)]
[Bneck(3, 480, 112, true, Nonlinearity.HardSwish, 1)]
[Bneck(3, 672, 112, true, Nonlinearity.HardSwish, 1)]
[Bneck(5, 672, 160, true, Nonlinearity.HardSwish, 2)]
[Bneck(5, 960, 160, true, Nonlinearity.HardSwish, 1)]
[Bneck(5, 960, 160, true, Nonlinearity.HardSwish, 1)]
public partial class MobileNetV3Large
{
}

/// <summary>As the app ships it.</summary>
[MobileNetV3(Classes = 1000, InputSize = 224, HeadChannels = 1024)]
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
public partial class MobileNetV3Small
{
}

/// <summary>As the app ships it.</summary>
[EfficientNet(Classes = 1000, InputSize = 224)]
[MBConv(1, 3, 16, 1, 1)]
[MBConv(6, 3, 24, 2, 2)]
[MBConv(6, 5, 40, 2, 2)]
[MBConv(6, 3, 80, 3, 2)]
[MBConv(6, 5, 112, 3, 1)]
[MBConv(6, 5, 192, 4, 2)]
[MBConv(6, 3, 320, 1, 1)]
public partial class EfficientNetB0
{
}

[MobileNetV2(Width = 0.75, InputSize = 128, Classes = 7)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 2)]
[Bottleneck(t: 6, c: 32, n: 3, s: 2)]
[Bottleneck(t: 6, c: 64, n: 4, s: 2)]
[Bottleneck(t: 6, c: 96, n: 3, s: 1)]
[Bottleneck(t: 6, c: 160, n: 3, s: 2)]
[Bottleneck(t: 6, c: 320, n: 1, s: 1)]
public partial class PaperW075At128C7
{
}

[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Width = 0.5, InputSize = 28, InputChannels = 1, Classes = 5, Dropout = 0.3)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 1)]
[Bottleneck(t: 6, c: 32, n: 3, s: 2)]
[Bottleneck(t: 6, c: 64, n: 4, s: 2)]
[Bottleneck(t: 6, c: 96, n: 3, s: 1)]
[Bottleneck(t: 6, c: 160, n: 3, s: 2)]
[Bottleneck(t: 6, c: 320, n: 1, s: 1)]
public partial class CifarW05OneChannelAt28C5
{
}

[MobileNetV3(Width = 1.25, InputSize = 80, InputChannels = 1, Classes = 9, HeadChannels = 512)]
[Bneck(3, 16, 16, true, Nonlinearity.HardSwish, 2)]
[Bneck(7, 48, 24, false, Nonlinearity.ReLU, 1)]
[Bneck(5, 96, 24, true, Nonlinearity.HardSwish, 1)]
[Bneck(3, 120, 40, false, Nonlinearity.HardSwish, 2)]
public partial class V3CustomOneChannelAt80C9
{
}

[EfficientNet(Width = 0.5, Depth = 0.5, InputSize = 64, Classes = 5)]
[MBConv(1, 3, 16, 1, 1)]
[MBConv(6, 3, 24, 2, 2)]
[MBConv(6, 5, 40, 2, 2)]
[MBConv(6, 3, 80, 3, 2)]
[MBConv(6, 5, 112, 3, 1)]
[MBConv(6, 5, 192, 4, 2)]
[MBConv(6, 3, 320, 1, 1)]
public partial class B0W05D05At64C5
{
}

[EfficientNet(Width = 0.75, Depth = 1.5, InputSize = 48, InputChannels = 2, Classes = 6, StemChannels = 24)]
[MBConv(1, 3, 16, 1, 1)]
[MBConv(4, 7, 24, 2, 2)]
[MBConv(3, 5, 40, 3, 2)]
public partial class EffCustomTwoChannelsAt48C6
{
}

/// <summary>The paper's linear-bottleneck ablation: ReLU6 after every projection, before the identity residuals.</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Paper, Classes = 5, InputSize = 64, Width = 0.5, LinearBottleneck = false)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 2)]
[Bottleneck(t: 6, c: 32, n: 2, s: 2)]
public partial class PaperNonLinearAt64C5
{
}

/// <summary>The ablation on the exercise's layout: ReLU after every projection, before its identity or 1x1 shortcut.</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 32, LinearBottleneck = false)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 2)]
[Bottleneck(t: 6, c: 32, n: 2, s: 2)]
public partial class CifarNonLinearAt32C10
{
}

/// <summary>The shortcut ablation: no residual connection anywhere (and no 1x1 shortcut convolutions).</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 32, Shortcut = ShortcutPlacement.None)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 2)]
[Bottleneck(t: 6, c: 32, n: 2, s: 2)]
public partial class CifarNoShortcutAt32C10
{
}

/// <summary>The shortcut between expansions, torchvision's layout: blocks 2 -> 3 -> 4 join (the last two of a row of three, then the next row's first block).</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Paper, Classes = 5, InputSize = 64, Width = 0.5, Shortcut = ShortcutPlacement.Expansion)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 3, s: 2)]
[Bottleneck(t: 6, c: 32, n: 2, s: 2)]
public partial class PaperExpansionAt64C5
{
}

/// <summary>The shortcut between expansions on the exercise's layout: blocks 2 -> 3 -> 4 join (0-based, in forward order).</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 32, Shortcut = ShortcutPlacement.Expansion)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 3, s: 2)]
[Bottleneck(t: 6, c: 32, n: 2, s: 2)]
public partial class CifarExpansionAt32C10
{
}
