namespace ArchGen;

/// <summary>
/// Declares an EfficientNet (Tan &amp; Le 2019) on a <c>partial class</c>, exactly as torchvision 0.14 builds it; the
/// rows are the class's <see cref="MBConvAttribute"/>s in source order (the paper's Table 1 for B0), scaled by the
/// compound-scaling multipliers <see cref="Width"/> and <see cref="Depth"/>. ArchGen's source generator emits the
/// model at build time.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class EfficientNetAttribute : Attribute
{
    /// <summary>Number of output classes. Default 1000.</summary>
    public int Classes { get; set; } = 1000;

    /// <summary>Side of the square input image in pixels. Default 224.</summary>
    public int InputSize { get; set; } = 224;

    /// <summary>Channels of the input image. Default 3.</summary>
    public int InputChannels { get; set; } = 3;

    /// <summary>Width multiplier: channels are scaled and rounded to a multiple of 8. Default 1.0.</summary>
    public double Width { get; set; } = 1.0;

    /// <summary>Depth multiplier: a row of n layers gets ceil(n · Depth). Default 1.0.</summary>
    public double Depth { get; set; } = 1.0;

    /// <summary>Output channels of the stem convolution before the width multiplier. Default 32.</summary>
    public int StemChannels { get; set; } = 32;

    /// <summary>Dropout before the classifier, in [0, 1). Default 0.2.</summary>
    public double Dropout { get; set; } = 0.2;

    /// <summary>The final stochastic-depth (drop-path) rate, reached linearly over the blocks, in [0, 1). Default 0.2.</summary>
    public double StochasticDepth { get; set; } = 0.2;
}

/// <summary>
/// One row (stage) of the EfficientNet table: <c>n</c> MBConv blocks with expansion <c>t</c>,
/// a <c>k</c> x <c>k</c> depthwise convolution and <c>c</c> outputs, the first
/// with stride <c>s</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MBConvAttribute : Attribute
{
    /// <param name="t">Expansion factor.</param>
    /// <param name="k">Depthwise kernel size (odd).</param>
    /// <param name="c">Output channels, before the width multiplier.</param>
    /// <param name="n">Layers, before the depth multiplier.</param>
    /// <param name="s">Stride of the first layer (1 or 2).</param>
    public MBConvAttribute(int t, int k, int c, int n, int s)
    {
        T = t;
        K = k;
        C = c;
        N = n;
        S = s;
    }

    /// <summary>Expansion factor.</summary>
    public int T { get; }

    /// <summary>Depthwise kernel size.</summary>
    public int K { get; }

    /// <summary>Output channels.</summary>
    public int C { get; }

    /// <summary>Layers.</summary>
    public int N { get; }

    /// <summary>Stride of the first layer.</summary>
    public int S { get; }
}
