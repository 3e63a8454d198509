using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace ArchGen.Generator.Model;

/// <summary>
/// What the parser and the analyzer need to know of a family: its model and row attributes, the names of the row's
/// arguments (to locate diagnostics), how a row's arguments become a <see cref="RowSpec"/>, and the defaults of the
/// model attribute's named arguments. Adding a family means one entry here and one planner.
/// </summary>
internal sealed class FamilyInfo
{
    private readonly System.Func<ImmutableArray<TypedConstant>, RowReader, RowSpec> _readRow;

    public FamilyInfo(Family family, string name, string row, string[] rowArguments, ModelSpec defaults, System.Func<ImmutableArray<TypedConstant>, RowReader, RowSpec> readRow)
    {
        Family = family;
        Name = name;
        Row = row;
        RowArguments = ImmutableArray.Create(rowArguments);
        Defaults = defaults;
        _readRow = readRow;
    }

    public Family Family { get; }

    /// <summary>The model attribute's name without <c>Attribute</c>, e.g. <c>MobileNetV2</c>.</summary>
    public string Name { get; }

    /// <summary>The row attribute's name without <c>Attribute</c>, e.g. <c>Bottleneck</c>.</summary>
    public string Row { get; }

    public string ModelMetadataName => "ArchGen." + Name + "Attribute";

    public string RowMetadataName => "ArchGen." + Row + "Attribute";

    /// <summary>The row constructor's parameter names, in order.</summary>
    public ImmutableArray<string> RowArguments { get; }

    /// <summary>A spec holding the model attribute's defaults (names, rows and shape are filled in by the parser).</summary>
    public ModelSpec Defaults { get; }

    /// <summary>Reads a row's constructor arguments (as many as <see cref="RowArguments"/>).</summary>
    public RowSpec ReadRow(ImmutableArray<TypedConstant> arguments, RowReader reader) => _readRow(arguments, reader);

    private static ModelSpec Spec(Family family, int stem, int head, double dropout, double stochasticDepth) =>
        new(string.Empty, string.Empty, family, 0, 1000, 224, 3, 1.0, 1.0, stem, head, dropout, stochasticDepth, EquatableArray<RowSpec>.Empty, ClassShape.Good);

    public static readonly ImmutableArray<FamilyInfo> All = ImmutableArray.Create(
        new FamilyInfo(
            Family.MobileNetV2,
            "MobileNetV2",
            "Bottleneck",
            new[] { "t", "c", "n", "s" },
            Spec(Family.MobileNetV2, stem: 32, head: 1280, dropout: -1, stochasticDepth: 0),
            static (a, r) => RowSpec.Bottleneck(r.Int(a[0]), r.Int(a[1]), r.Int(a[2]), r.Int(a[3]))),
        new FamilyInfo(
            Family.MobileNetV3,
            "MobileNetV3",
            "Bneck",
            new[] { "k", "exp", "c", "se", "nl", "s" },
            Spec(Family.MobileNetV3, stem: 16, head: 1280, dropout: 0.2, stochasticDepth: 0),
            static (a, r) => new RowSpec(T: 0, K: r.Int(a[0]), Exp: r.Int(a[1]), C: r.Int(a[2]), N: 1, Se: r.Bool(a[3]), Nl: r.Int(a[4]), S: r.Int(a[5]))),
        new FamilyInfo(
            Family.EfficientNet,
            "EfficientNet",
            "MBConv",
            new[] { "t", "k", "c", "n", "s" },
            Spec(Family.EfficientNet, stem: 32, head: 1280, dropout: 0.2, stochasticDepth: 0.2),
            static (a, r) => new RowSpec(T: r.Int(a[0]), K: r.Int(a[1]), Exp: 0, C: r.Int(a[2]), N: r.Int(a[3]), Se: false, Nl: 0, S: r.Int(a[4]))));

    public static FamilyInfo Of(Family family)
    {
        foreach (var info in All)
        {
            if (info.Family == family)
            {
                return info;
            }
        }

        throw new System.ArgumentOutOfRangeException(nameof(family));
    }

    /// <summary>The family whose model attribute is <paramref name="attribute"/>, or null.</summary>
    public static FamilyInfo? ByModelAttribute(INamedTypeSymbol? attribute) => Find(attribute, model: true);

    /// <summary>The family whose row attribute is <paramref name="attribute"/>, or null.</summary>
    public static FamilyInfo? ByRowAttribute(INamedTypeSymbol? attribute) => Find(attribute, model: false);

    private static FamilyInfo? Find(INamedTypeSymbol? attribute, bool model)
    {
        if (attribute is null || attribute.ContainingNamespace is not { Name: "ArchGen", ContainingNamespace.IsGlobalNamespace: true })
        {
            return null;
        }

        foreach (var info in All)
        {
            if (attribute.Name == (model ? info.Name : info.Row) + "Attribute")
            {
                return info;
            }
        }

        return null;
    }
}

/// <summary>Converts attribute arguments, remembering whether any did not compile to a value.</summary>
internal sealed class RowReader
{
    public bool Error { get; private set; }

    public int Int(TypedConstant value)
    {
        if (value.Kind == TypedConstantKind.Error || value.Value is null)
        {
            Error = true;
            return 0;
        }

        return ToInt(value.Value);
    }

    public bool Bool(TypedConstant value)
    {
        if (value.Kind == TypedConstantKind.Error || value.Value is not bool b)
        {
            Error = true;
            return false;
        }

        return b;
    }

    public int ToInt(object value) => Convert(value, static (v, c) => System.Convert.ToInt32(v, c));

    public double ToDouble(object value) => Convert(value, static (v, c) => System.Convert.ToDouble(v, c));

    private T Convert<T>(object value, System.Func<object, System.IFormatProvider, T> convert)
    {
        try
        {
            return convert(value, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (System.Exception e) when (e is System.InvalidCastException or System.OverflowException or System.FormatException)
        {
            Error = true;
            return default!;
        }
    }
}
