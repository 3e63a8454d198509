using TorchSharp;

namespace ArchGen.Performance;

/// <summary>
/// Scalars the runtime passes to LibTorch where it runs often (the layout check and its reference, the blocks' residual
/// sums, test-time averaging), alive as long as the process. TorchSharp 0.107 turns a number given where
/// LibTorch takes a Scalar (and the <c>alpha</c> of <c>add(Tensor)</c>, <c>add_(Tensor)</c> and the + operator, and the
/// exponent of <c>square()</c>) into a temporary that nothing keeps alive once its handle is passed, so the finalizer may free it while LibTorch still
/// reads it; LibTorch then throws ("Expected false to be true", "Unknown scalar type"). Forcing collections beside a loop
/// of <c>add_</c> and <c>mul</c> made 464 of 2.58 million iterations throw, and none with these (docs/upstream/torchsharp-scalars.md).
/// A value computed at run time is held with <c>using var s = value.ToScalar()</c> instead.
/// </summary>
internal static class HeldScalars
{
    /// <summary>1, the alpha of a plain sum or difference.</summary>
    public static readonly Scalar One = 1.0.ToScalar();

    /// <summary>0.5.</summary>
    public static readonly Scalar Half = 0.5.ToScalar();

    /// <summary>0.1.</summary>
    public static readonly Scalar Tenth = 0.1.ToScalar();

    /// <summary>0.3 (a backward fault, <see cref="LayoutFault.Backward"/>).</summary>
    public static readonly Scalar ThreeTenths = 0.3.ToScalar();

    /// <summary>1.05 (a forward fault, <see cref="LayoutFault.Forward"/>).</summary>
    public static readonly Scalar FivePercentMore = 1.05.ToScalar();
}
