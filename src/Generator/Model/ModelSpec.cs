using ArchGen.Generator.Families;

namespace ArchGen.Generator.Model;

/// <summary>A family's own named arguments of its model attribute (beyond those every model has), as a value.</summary>
internal abstract record FamilyOptions;

/// <summary>One row of a model's table as written, as the family's own record (e.g. <c>[Bottleneck(t, c, n, s)]</c>).</summary>
internal abstract record Row;

/// <summary>
/// Everything the generator knows about one model class: plain values only (no symbols, syntax nodes, locations or
/// compilations), so the incremental pipeline can cache it by value. The named arguments every model attribute has
/// are fields here; the rest, and the rows, are the family's own records. The family itself is a stateless singleton,
/// equal only to itself.
/// </summary>
internal sealed record ModelSpec(
    string Namespace,
    string ClassName,
    Family Family,
    int Classes,
    int InputSize,
    int InputChannels,
    FamilyOptions Options,
    EquatableArray<Row> Rows,
    ClassShape Shape)
{
    /// <summary>A spec of <paramref name="family"/> holding every default (names, rows and shape are filled in by the parser).</summary>
    public static ModelSpec Defaults(Family family) =>
        new(string.Empty, string.Empty, family, Classes: 1000, InputSize: 224, InputChannels: 3, family.Defaults, EquatableArray<Row>.Empty, ClassShape.Good);

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
