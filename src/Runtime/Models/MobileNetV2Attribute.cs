namespace ArchGen;

/// <summary>
/// Declares a MobileNetV2 on a <c>partial class</c>; the rows of the network are the class's
/// <see cref="BottleneckAttribute"/>s in source order. ArchGen's source generator emits the model at build time.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class MobileNetV2Attribute : Attribute
{
    /// <summary>Which original to reproduce. Default <see cref="MobileNetV2Flavor.Paper"/>.</summary>
    public MobileNetV2Flavor Flavor { get; set; } = MobileNetV2Flavor.Paper;

    /// <summary>Number of output classes. Default 1000.</summary>
    public int Classes { get; set; } = 1000;

    /// <summary>Side of the square input image in pixels. Default 224.</summary>
    public int InputSize { get; set; } = 224;

    /// <summary>Channels of the input image. Default 3.</summary>
    public int InputChannels { get; set; } = 3;

    /// <summary>The paper's width multiplier α. Default 1.0.</summary>
    public double Width { get; set; } = 1.0;

    /// <summary>Output channels of the stem convolution before the width multiplier. Default 32.</summary>
    public int StemChannels { get; set; } = 32;

    /// <summary>Channels of the last 1x1 convolution. Default 1280 (scaled only when α &gt; 1, as torchvision does).</summary>
    public int HeadChannels { get; set; } = 1280;

    /// <summary>Dropout before the classifier. Negative (the default) means the flavor's: 0.2 Paper, 0 Cifar.</summary>
    public double Dropout { get; set; } = -1;

    /// <summary>
    /// Whether the block's 1x1 projection stays linear, as the paper builds it (default true). False puts the block's
    /// activation (ReLU6 for Paper, ReLU for Cifar) after the projection's BatchNorm, before any residual add: the
    /// paper's "ReLU6 in bottleneck" ablation (Figure 6a). Adds no parameters.
    /// </summary>
    public bool LinearBottleneck { get; set; } = true;

    /// <summary>Where the residual connections go (default <see cref="ShortcutPlacement.Bottleneck"/>, the paper's); the paper's Figure 6b ablation.</summary>
    public ShortcutPlacement Shortcut { get; set; } = ShortcutPlacement.Bottleneck;
}

/// <summary>One row of the MobileNetV2 table: <c>n</c> inverted-residual blocks with expansion <c>t</c> and <c>c</c> output channels, the first with stride <c>s</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BottleneckAttribute : Attribute
{
    /// <param name="t">Expansion factor of the hidden layer.</param>
    /// <param name="c">Output channels (before the width multiplier).</param>
    /// <param name="n">How many times the block repeats.</param>
    /// <param name="s">Stride of the first repeat (1 or 2); the rest use stride 1.</param>
    public BottleneckAttribute(int t, int c, int n, int s)
    {
        T = t;
        C = c;
        N = n;
        S = s;
    }

    /// <summary>Expansion factor.</summary>
    public int T { get; }

    /// <summary>Output channels.</summary>
    public int C { get; }

    /// <summary>Repeats.</summary>
    public int N { get; }

    /// <summary>Stride of the first repeat.</summary>
    public int S { get; }
}
