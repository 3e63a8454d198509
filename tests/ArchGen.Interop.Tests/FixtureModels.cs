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
