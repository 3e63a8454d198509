using ArchGen;

// MobileNetV3 and EfficientNet configurations declared as users declare them; tools/reference/counts.py builds the same
// configurations with torchvision 0.14 and writes their parameter and multiply-add counts (counts.tsv).
namespace ArchGen.Generator.Tests.Models;

/// <summary>torchvision's mobilenet_v3_large: 5,483,032 parameters, 216,589,760 multiply-adds.</summary>
[MobileNetV3()]
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
public partial class V3Large
{
}

/// <summary>torchvision's mobilenet_v3_small: 2,542,856 parameters, 56,510,400 multiply-adds.</summary>
[MobileNetV3(HeadChannels = 1024)]
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
public partial class V3Small
{
}

[MobileNetV3(Width = 0.75, InputSize = 192, Classes = 10)]
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
public partial class V3LargeW075At192C10
{
}

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
public partial class V3SmallW05At96C7
{
}

[MobileNetV3(Width = 1.25, InputSize = 160, HeadChannels = 1024)]
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
public partial class V3SmallW125At160
{
}

/// <summary>A table of our own: 7x7 and 5x5 kernels, SE and hard-swish mixed, one input channel.</summary>
[MobileNetV3(Width = 1.25, InputSize = 80, InputChannels = 1, Classes = 9, HeadChannels = 512)]
[Bneck(3, 16, 16, true, Nonlinearity.HardSwish, 2)]
[Bneck(7, 48, 24, false, Nonlinearity.ReLU, 1)]
[Bneck(5, 96, 24, true, Nonlinearity.HardSwish, 1)]
[Bneck(3, 120, 40, false, Nonlinearity.HardSwish, 2)]
public partial class V3Custom1ChAt80C9
{
}

/// <summary>torchvision's efficientnet_b0: 5,288,548 parameters, 385,814,752 multiply-adds.</summary>
[EfficientNet()]
[MBConv(1, 3, 16, 1, 1)]
[MBConv(6, 3, 24, 2, 2)]
[MBConv(6, 5, 40, 2, 2)]
[MBConv(6, 3, 80, 3, 2)]
[MBConv(6, 5, 112, 3, 1)]
[MBConv(6, 5, 192, 4, 2)]
[MBConv(6, 3, 320, 1, 1)]
public partial class B0
{
}

/// <summary>torchvision's efficientnet_b1.</summary>
[EfficientNet(Depth = 1.1, InputSize = 240)]
[MBConv(1, 3, 16, 1, 1)]
[MBConv(6, 3, 24, 2, 2)]
[MBConv(6, 5, 40, 2, 2)]
[MBConv(6, 3, 80, 3, 2)]
[MBConv(6, 5, 112, 3, 1)]
[MBConv(6, 5, 192, 4, 2)]
[MBConv(6, 3, 320, 1, 1)]
public partial class B1
{
}

/// <summary>torchvision's efficientnet_b3.</summary>
[EfficientNet(Width = 1.2, Depth = 1.4, InputSize = 300)]
[MBConv(1, 3, 16, 1, 1)]
[MBConv(6, 3, 24, 2, 2)]
[MBConv(6, 5, 40, 2, 2)]
[MBConv(6, 3, 80, 3, 2)]
[MBConv(6, 5, 112, 3, 1)]
[MBConv(6, 5, 192, 4, 2)]
[MBConv(6, 3, 320, 1, 1)]
public partial class B3
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

/// <summary>A table of our own: a 7x7 stage, expansions 4 and 3, depth 1.5, one input channel.</summary>
[EfficientNet(Width = 0.75, Depth = 1.5, InputSize = 48, InputChannels = 1, Classes = 6, StemChannels = 24)]
[MBConv(1, 3, 16, 1, 1)]
[MBConv(4, 7, 24, 2, 2)]
[MBConv(3, 5, 40, 3, 2)]
public partial class EffCustom1ChAt48C6
{
}
