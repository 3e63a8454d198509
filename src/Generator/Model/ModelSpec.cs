namespace ArchGen.Generator.Model;

/// <summary>The network family a model attribute declares; each has a row attribute and a planner.</summary>
internal enum Family
{
    MobileNetV2 = 0,
    MobileNetV3 = 1,
    EfficientNet = 2,
}

/// <summary>
/// One row of a model's table as written: MobileNetV2's <c>[Bottleneck(t, c, n, s)]</c> (K is 3),
/// MobileNetV3's <c>[Bneck(k, exp, c, se, nl, s)]</c> (N is 1), EfficientNet's <c>[MBConv(t, k, c, n, s)]</c>;
/// fields a family's rows do not have are 0.
/// </summary>
internal sealed record RowSpec(int T, int K, int Exp, int C, int N, bool Se, int Nl, int S)
{
    /// <summary>A MobileNetV2 row: <c>[Bottleneck(t, c, n, s)]</c>.</summary>
    public static RowSpec Bottleneck(int t, int c, int n, int s) => new(t, 3, 0, c, n, false, 0, s);
}

/// <summary>
/// Everything the generator knows about one model class: plain values only (no symbols, syntax nodes, locations or
/// compilations), so the incremental pipeline can cache it by value. Arguments a family does not have keep the
/// family's defaults (<see cref="Families"/>).
/// </summary>
internal sealed record ModelSpec(
    string Namespace,
    string ClassName,
    Family Family,
    int FlavorValue,
    int Classes,
    int InputSize,
    int InputChannels,
    double Width,
    double Depth,
    int StemChannels,
    int HeadChannels,
    double Dropout,
    double StochasticDepth,
    EquatableArray<RowSpec> Rows,
    ClassShape Shape)
{
    public MobileNetV2Flavor Flavor => (MobileNetV2Flavor)FlavorValue;

    /// <summary><c>Namespace.ClassName</c>, or the class name in the global namespace.</summary>
    public string FullName => Namespace.Length == 0 ? ClassName : Namespace + "." + ClassName;
}

/// <summary>Facts about the class declaration that decide whether the generator can extend it.</summary>
internal sealed record ClassShape(
    bool IsPartial,
    bool IsNested,
    bool IsGeneric,
    bool IsStaticOrAbstractOrRecord,
    bool HasBaseClass,
    bool TorchSharpReferenced,
    bool HasAttributeErrors,
    bool RowsOnAnotherDeclaration = false,
    string? OtherFamily = null)
{
    public static readonly ClassShape Good = new(true, false, false, false, false, true, false);
}
