using ArchGen;

// Models declared the way users declare them; ArchGen's generator (referenced as an analyzer) builds them at compile time.
namespace ArchGen.Generator.Tests.Models;

/// <summary>torchvision mobilenet_v2: 3,504,872 parameters, 300,774,272 multiply-adds.</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Paper, Classes = 1000, InputSize = 224, InputChannels = 3, Width = 1.0)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 2)]
[Bottleneck(t: 6, c: 32, n: 3, s: 2)]
[Bottleneck(t: 6, c: 64, n: 4, s: 2)]
[Bottleneck(t: 6, c: 96, n: 3, s: 1)]
[Bottleneck(t: 6, c: 160, n: 3, s: 2)]
[Bottleneck(t: 6, c: 320, n: 1, s: 1)]
public partial class PaperNet
{
}

/// <summary>kuangliu/pytorch-cifar MobileNetV2: 2,296,922 parameters, 91,154,944 multiply-adds.</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 32)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 1)]
[Bottleneck(t: 6, c: 32, n: 3, s: 2)]
[Bottleneck(t: 6, c: 64, n: 4, s: 2)]
[Bottleneck(t: 6, c: 96, n: 3, s: 1)]
[Bottleneck(t: 6, c: 160, n: 3, s: 2)]
[Bottleneck(t: 6, c: 320, n: 1, s: 1)]
public partial class CifarNet
{
}

/// <summary>Fashion-MNIST padded to 32x32: one input channel.</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 32, InputChannels = 1)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 1)]
[Bottleneck(t: 6, c: 32, n: 3, s: 2)]
[Bottleneck(t: 6, c: 64, n: 4, s: 2)]
[Bottleneck(t: 6, c: 96, n: 3, s: 1)]
[Bottleneck(t: 6, c: 160, n: 3, s: 2)]
[Bottleneck(t: 6, c: 320, n: 1, s: 1)]
internal partial class FashionNet
{
}

/// <summary>A small Paper model (width 0.5, 64x64, dropout in the Cifar flavor's place) for fast training checks.</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Paper, Classes = 7, InputSize = 64, Width = 0.5, Dropout = 0.1)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 2)]
[Bottleneck(t: 4, c: 32, n: 2, s: 2)]
[Bottleneck(t: 6, c: 64, n: 1, s: 2)]
public partial class TinyPaperNet
{
}

/// <summary>A small model of each flavor with the residual between expansions (blocks 2 -> 3 -> 4 join in each).</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 5, InputSize = 16, Width = 0.75, Shortcut = ShortcutPlacement.Expansion)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 3, s: 2)]
[Bottleneck(t: 6, c: 40, n: 2, s: 2)]
public partial class TinyCifarExpansionNet
{
}

[MobileNetV2(Classes = 5, InputSize = 64, Width = 0.5, Shortcut = ShortcutPlacement.Expansion)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 3, s: 2)]
[Bottleneck(t: 6, c: 32, n: 2, s: 2)]
public partial class TinyPaperExpansionNet
{
}

/// <summary>A small Cifar model with dropout and width 0.75.</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 5, InputSize = 16, Width = 0.75, Dropout = 0.3)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 2)]
[Bottleneck(t: 3, c: 40, n: 2, s: 2)]
public partial class TinyCifarNet
{
}

[MobileNetV2(Width = 0.35)]
[Bottleneck(1, 16, 1, 1)]
[Bottleneck(6, 24, 2, 2)]
[Bottleneck(6, 32, 3, 2)]
[Bottleneck(6, 64, 4, 2)]
[Bottleneck(6, 96, 3, 1)]
[Bottleneck(6, 160, 3, 2)]
[Bottleneck(6, 320, 1, 1)]
public partial class PaperW035
{
}

[MobileNetV2(Width = 0.5)]
[Bottleneck(1, 16, 1, 1)]
[Bottleneck(6, 24, 2, 2)]
[Bottleneck(6, 32, 3, 2)]
[Bottleneck(6, 64, 4, 2)]
[Bottleneck(6, 96, 3, 1)]
[Bottleneck(6, 160, 3, 2)]
[Bottleneck(6, 320, 1, 1)]
public partial class PaperW050
{
}

[MobileNetV2(Width = 0.75)]
[Bottleneck(1, 16, 1, 1)]
[Bottleneck(6, 24, 2, 2)]
[Bottleneck(6, 32, 3, 2)]
[Bottleneck(6, 64, 4, 2)]
[Bottleneck(6, 96, 3, 1)]
[Bottleneck(6, 160, 3, 2)]
[Bottleneck(6, 320, 1, 1)]
public partial class PaperW075
{
}

[MobileNetV2(Width = 1.4)]
[Bottleneck(1, 16, 1, 1)]
[Bottleneck(6, 24, 2, 2)]
[Bottleneck(6, 32, 3, 2)]
[Bottleneck(6, 64, 4, 2)]
[Bottleneck(6, 96, 3, 1)]
[Bottleneck(6, 160, 3, 2)]
[Bottleneck(6, 320, 1, 1)]
public partial class PaperW140
{
}
