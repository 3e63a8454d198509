namespace ArchGen.Generator.Model;

/// <summary>Which original the model reproduces; mirrors <c>ArchGen.MobileNetV2Flavor</c> (values must match).</summary>
internal enum Flavor
{
    Paper = 0,
    Cifar = 1,
}

/// <summary>One <c>[Bottleneck(t, c, n, s)]</c> row as written.</summary>
internal sealed record RowSpec(int T, int C, int N, int S);

/// <summary>
/// Everything the generator knows about one <c>[MobileNetV2]</c> class: plain values only (no symbols,
/// syntax nodes, locations or compilations), so the incremental pipeline can cache it by value.
/// </summary>
internal sealed record ModelSpec(
    string Namespace,
    string ClassName,
    int FlavorValue,
    int Classes,
    int InputSize,
    int InputChannels,
    double Width,
    int StemChannels,
    int HeadChannels,
    double Dropout,
    EquatableArray<RowSpec> Rows,
    ClassShape Shape)
{
    public Flavor Flavor => (Flavor)FlavorValue;

    /// <summary><c>Namespace.ClassName</c>, or the class name in the global namespace.</summary>
    public string FullName => Namespace.Length == 0 ? ClassName : Namespace + "." + ClassName;

    /// <summary>The flavor's dropout when <see cref="Dropout"/> is negative.</summary>
    public double EffectiveDropout => Dropout >= 0 ? Dropout : Flavor == Flavor.Paper ? 0.2 : 0.0;
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
    bool RowsOnAnotherDeclaration = false)
{
    public static readonly ClassShape Good = new(true, false, false, false, false, true, false);
}
