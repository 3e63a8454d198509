using System.Collections.Immutable;
using System.Threading;
using ArchGen.Generator.Families;
using ArchGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace ArchGen.Generator.Parsing;

/// <summary>A parsed model together with the attributes it came from (the analyzer needs them for locations).</summary>
internal sealed class ParsedModel
{
    public ParsedModel(ModelSpec spec, AttributeData model, ImmutableArray<AttributeData> rows, ImmutableArray<AttributeData> strayRows, AttributeData? otherFamily, string? baseClassName)
    {
        Spec = spec;
        Model = model;
        Rows = rows;
        StrayRows = strayRows;
        OtherFamily = otherFamily;
        BaseClassName = baseClassName;
    }

    public ModelSpec Spec { get; }

    public AttributeData Model { get; }

    /// <summary>The rows of the model, in source order.</summary>
    public ImmutableArray<AttributeData> Rows { get; }

    /// <summary>Rows written on another partial declaration of the class (not part of the model).</summary>
    public ImmutableArray<AttributeData> StrayRows { get; }

    /// <summary>The first model or row attribute of another family on the class, or null.</summary>
    public AttributeData? OtherFamily { get; }

    public string? BaseClassName { get; }
}

/// <summary>Reads a model class (symbol and attributes) into a <see cref="ModelSpec"/>. Never throws on bad input.</summary>
internal static class Parser
{
    public const string TorchTypeName = "TorchSharp.torch";

    /// <summary>The generator's transform for <c>ForAttributeWithMetadataName</c> of <paramref name="family"/>'s model attribute.</summary>
    public static ModelSpec? Parse(GeneratorAttributeSyntaxContext context, Family family, FamilyCatalog catalog, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.Attributes.Length == 0
            || catalog.ByModelAttribute(context.Attributes[0].AttributeClass) != family)
        {
            return null;
        }

        cancellationToken.ThrowIfCancellationRequested();

        // Whether TorchSharp is referenced is decided by the pipeline from the compilation, not here.
        return Parse(type, context.Attributes[0], family, catalog, torchSharpReferenced: true, cancellationToken).Spec;
    }

    public static ParsedModel Parse(INamedTypeSymbol type, AttributeData model, Family family, FamilyCatalog catalog, bool torchSharpReferenced, CancellationToken cancellationToken)
    {
        var reader = new ArgumentReader();
        bool attributeErrors = model.AttributeConstructor is null;
        var spec = ModelSpec.Defaults(family);
        foreach (var named in model.NamedArguments)
        {
            var value = named.Value;
            if (value.Kind == TypedConstantKind.Error || value.Value is null)
            {
                attributeErrors = true;
                continue;
            }

            object v = value.Value;
            spec = named.Key switch
            {
                "Classes" => spec with { Classes = reader.ToInt(v) },
                "InputSize" => spec with { InputSize = reader.ToInt(v) },
                "InputChannels" => spec with { InputChannels = reader.ToInt(v) },
                _ => spec with { Options = family.WithArgument(spec.Options, named.Key, v, reader) },
            };
        }

        // Rows belong to the declaration that carries the model attribute: the generator's cache is keyed on it.
        var modelDeclaration = DeclarationOf(model, cancellationToken);
        var rowAttributes = ImmutableArray.CreateBuilder<AttributeData>();
        var strayRows = ImmutableArray.CreateBuilder<AttributeData>();
        var rows = ImmutableArray.CreateBuilder<Row>();
        AttributeData? otherFamily = null;
        string? otherFamilyName = null;
        foreach (var attribute in type.GetAttributes())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var rowFamily = catalog.ByRowAttribute(attribute.AttributeClass);
            var modelFamily = catalog.ByModelAttribute(attribute.AttributeClass);
            if ((rowFamily ?? modelFamily) is { } other && other != family)
            {
                if (otherFamily is null)
                {
                    otherFamily = attribute;
                    otherFamilyName = "[" + (rowFamily?.RowName ?? other.Name) + "]";
                }

                continue;
            }

            if (rowFamily is null)
            {
                continue;
            }

            var declaration = DeclarationOf(attribute, cancellationToken);
            if (modelDeclaration is not null && declaration is not null && declaration != modelDeclaration)
            {
                strayRows.Add(attribute);
                continue;
            }

            var args = attribute.ConstructorArguments;
            if (attribute.AttributeConstructor is null || args.Length != family.RowArguments.Length)
            {
                attributeErrors = true;
                continue;
            }

            rowAttributes.Add(attribute);
            rows.Add(family.ReadRow(args, reader));
        }

        bool isPartial = true;
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                isPartial = false;
            }
        }

        string? baseClassName = null;
        var baseType = type.BaseType;
        if (baseType is not null && baseType.SpecialType != SpecialType.System_Object && !IsGeneratedBase(baseType))
        {
            baseClassName = baseType.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);
        }

        var shape = new ClassShape(
            IsPartial: isPartial,
            IsNested: type.ContainingType is not null,
            IsGeneric: type.IsGenericType,
            IsStaticOrAbstractOrRecord: type.IsStatic || type.IsAbstract || type.IsRecord || type.TypeKind != TypeKind.Class,
            HasBaseClass: baseClassName is not null,
            TorchSharpReferenced: torchSharpReferenced,
            HasAttributeErrors: attributeErrors || reader.Error,
            RowsOnAnotherDeclaration: strayRows.Count > 0,
            OtherFamily: otherFamilyName);

        spec = spec with
        {
            Namespace = NamespaceOf(type),
            ClassName = type.Name,
            Rows = new EquatableArray<Row>(rows.ToImmutable()),
            Shape = shape,
        };
        return new ParsedModel(spec, model, rowAttributes.ToImmutable(), strayRows.ToImmutable(), otherFamily, baseClassName);
    }

    /// <summary>The dotted namespace, without keyword escapes (<c>@</c>); the emitter escapes where needed.</summary>
    private static string NamespaceOf(INamedTypeSymbol type)
    {
        var parts = new System.Collections.Generic.List<string>();
        for (var ns = type.ContainingNamespace; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace)
        {
            parts.Insert(0, ns.Name);
        }

        return string.Join(".", parts);
    }

    private static SyntaxNode? DeclarationOf(AttributeData attribute, CancellationToken cancellationToken) =>
        attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).Parent?.Parent as TypeDeclarationSyntax;

    /// <summary>The generated part's own base, <c>ArchGen.Blocks.GeneratedModel</c>, is not a user base class.</summary>
    private static bool IsGeneratedBase(INamedTypeSymbol type) =>
        type.Name == "GeneratedModel"
        && type.ContainingNamespace is { Name: "Blocks", ContainingNamespace: { Name: "ArchGen", ContainingNamespace.IsGlobalNamespace: true } };
}
