namespace ArchGen;

/// <summary>
/// Declares a MobileNetV3 (Howard et al. 2019) on a <c>partial class</c>, exactly as torchvision 0.14 builds it; the
/// rows are the class's <see cref="BneckAttribute"/>s in source order (the paper's Table 1 for Large, Table 2 for
/// Small). ArchGen's source generator emits the model at build time.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class MobileNetV3Attribute : Attribute
{
    /// <summary>Number of output classes. Default 1000.</summary>
    public int Classes { get; set; } = 1000;

    /// <summary>Side of the square input image in pixels. Default 224.</summary>
    public int InputSize { get; set; } = 224;

    /// <summary>Channels of the input image. Default 3.</summary>
    public int InputChannels { get; set; } = 3;

    /// <summary>Width multiplier: every channel count (expanded sizes and the classifier's hidden width too) is scaled and rounded to a multiple of 8. Default 1.0.</summary>
    public double Width { get; set; } = 1.0;

    /// <summary>Output channels of the stem convolution before the width multiplier. Default 16.</summary>
    public int StemChannels { get; set; } = 16;

    /// <summary>The classifier's hidden width before the width multiplier: 1280 for Large, 1024 for Small. Default 1280.</summary>
    public int HeadChannels { get; set; } = 1280;

    /// <summary>Dropout in the classifier, in [0, 1). Default 0.2.</summary>
    public double Dropout { get; set; } = 0.2;
}

/// <summary>
/// One row of the MobileNetV3 table: a bottleneck with a <c>k</c> x <c>k</c> depthwise
/// convolution, <c>exp</c> expanded channels and <c>c</c> outputs, optional
/// squeeze-and-excitation, nonlinearity <c>nl</c> and stride <c>s</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BneckAttribute : Attribute
{
    /// <param name="k">Depthwise kernel size (odd).</param>
    /// <param name="exp">Expanded channels ("exp size"), before the width multiplier.</param>
    /// <param name="c">Output channels ("#out"), before the width multiplier.</param>
    /// <param name="se">Whether the block has squeeze-and-excitation.</param>
    /// <param name="nl">The block's nonlinearity.</param>
    /// <param name="s">Stride (1 or 2).</param>
    public BneckAttribute(int k, int exp, int c, bool se, Nonlinearity nl, int s)
    {
        K = k;
        Exp = exp;
        C = c;
        SE = se;
        NL = nl;
        S = s;
    }

    /// <summary>Depthwise kernel size.</summary>
    public int K { get; }

    /// <summary>Expanded channels.</summary>
    public int Exp { get; }

    /// <summary>Output channels.</summary>
    public int C { get; }

    /// <summary>Squeeze-and-excitation.</summary>
    public bool SE { get; }

    /// <summary>Nonlinearity.</summary>
    public Nonlinearity NL { get; }

    /// <summary>Stride.</summary>
    public int S { get; }
}
