namespace ArchGen.App.Models;

// The paper's two ablations (MobileNetV2 Figure 6) of the main job's network, for `archgen study`: each differs from
// FashionMnistMobileNetV2 in one argument. See docs/paper.md.

/// <summary><see cref="FashionMnistMobileNetV2"/> with ReLU after every projection: the paper's "ReLU6 in bottleneck" (Figure 6a).</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 28, InputChannels = 1, Width = 1.0, LinearBottleneck = false)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 1)]
[Bottleneck(t: 6, c: 32, n: 3, s: 2)]
[Bottleneck(t: 6, c: 64, n: 4, s: 2)]
[Bottleneck(t: 6, c: 96, n: 3, s: 1)]
[Bottleneck(t: 6, c: 160, n: 3, s: 2)]
[Bottleneck(t: 6, c: 320, n: 1, s: 1)]
public partial class FashionMnistMobileNetV2NonLinear
{
}

/// <summary><see cref="FashionMnistMobileNetV2"/> without residual connections (and without its 1x1 shortcut convolutions): the paper's "no residual" (Figure 6b).</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 28, InputChannels = 1, Width = 1.0, Shortcut = ShortcutPlacement.None)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 1)]
[Bottleneck(t: 6, c: 32, n: 3, s: 2)]
[Bottleneck(t: 6, c: 64, n: 4, s: 2)]
[Bottleneck(t: 6, c: 96, n: 3, s: 1)]
[Bottleneck(t: 6, c: 160, n: 3, s: 2)]
[Bottleneck(t: 6, c: 320, n: 1, s: 1)]
public partial class FashionMnistMobileNetV2NoShortcut
{
}

/// <summary><see cref="FashionMnistMobileNetV2"/> with its residuals between the wide expansions instead of the bottlenecks: the paper's "shortcut between expansions" (Figure 6b).</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 28, InputChannels = 1, Width = 1.0, Shortcut = ShortcutPlacement.Expansion)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 1)]
[Bottleneck(t: 6, c: 32, n: 3, s: 2)]
[Bottleneck(t: 6, c: 64, n: 4, s: 2)]
[Bottleneck(t: 6, c: 96, n: 3, s: 1)]
[Bottleneck(t: 6, c: 160, n: 3, s: 2)]
[Bottleneck(t: 6, c: 320, n: 1, s: 1)]
public partial class FashionMnistMobileNetV2ExpansionShortcut
{
}

// The same network at width 0.35, where the bottlenecks are 8 to 112 channels thin: the paper's argument for linear
// bottlenecks (a ReLU on a thin layer loses information; see `archgen manifold`) predicts a larger effect there.

/// <summary><see cref="FashionMnistMobileNetV2"/> at width 0.35 (every channel count scaled and rounded to a multiple of 8; the 1280-channel head kept).</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 28, InputChannels = 1, Width = 0.35)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 1)]
[Bottleneck(t: 6, c: 32, n: 3, s: 2)]
[Bottleneck(t: 6, c: 64, n: 4, s: 2)]
[Bottleneck(t: 6, c: 96, n: 3, s: 1)]
[Bottleneck(t: 6, c: 160, n: 3, s: 2)]
[Bottleneck(t: 6, c: 320, n: 1, s: 1)]
public partial class FashionMnistMobileNetV2W035
{
}

/// <summary><see cref="FashionMnistMobileNetV2W035"/> with ReLU after every projection (the paper's "ReLU6 in bottleneck" on a thin network).</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 28, InputChannels = 1, Width = 0.35, LinearBottleneck = false)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 1)]
[Bottleneck(t: 6, c: 32, n: 3, s: 2)]
[Bottleneck(t: 6, c: 64, n: 4, s: 2)]
[Bottleneck(t: 6, c: 96, n: 3, s: 1)]
[Bottleneck(t: 6, c: 160, n: 3, s: 2)]
[Bottleneck(t: 6, c: 320, n: 1, s: 1)]
public partial class FashionMnistMobileNetV2W035NonLinear
{
}
