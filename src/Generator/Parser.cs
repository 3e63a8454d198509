using System;
using System.Collections.Immutable;
using System.Threading;
using ArchGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace ArchGen.Generator;

/// <summary>A parsed model together with the attributes it came from (the analyzer needs them for locations).</summary>
internal sealed class ParsedModel
{
    public ParsedModel(ModelSpec spec, AttributeData model, ImmutableArray<AttributeData> rows, ImmutableArray<AttributeData> strayRows, string? baseClassName)
    {
        Spec = spec;
        Model = model;
        Rows = rows;
        StrayRows = strayRows;
        BaseClassName = baseClassName;
    }

    public ModelSpec Spec { get; }

    public AttributeData Model { get; }

    public ImmutableArray<AttributeData> Rows { get; }

    /// <summary>Rows written on another partial declaration of the class (not part of the model).</summary>
    public ImmutableArray<AttributeData> StrayRows { get; }

    public string? BaseClassName { get; }
}

/// <summary>Reads a <c>[MobileNetV2]</c> class (symbol and attributes) into a <see cref="ModelSpec"/>. Never throws on bad input.</summary>
internal static class Parser
{
    public const string ModelAttributeName = "ArchGen.MobileNetV2Attribute";
    public const string RowAttributeName = "ArchGen.BottleneckAttribute";
    public const string TorchTypeName = "TorchSharp.torch";

    /// <summary>The generator's transform for <c>ForAttributeWithMetadataName</c>.</summary>
    public static ModelSpec? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.Attributes.Length == 0)
        {
            return null;
        }

        cancellationToken.ThrowIfCancellationRequested();

        // Whether TorchSharp is referenced is decided by the pipeline from the compilation, not here.
        return Parse(type, context.Attributes[0], torchSharpReferenced: true, cancellationToken).Spec;
    }

    public static ParsedModel Parse(INamedTypeSymbol type, AttributeData model, bool torchSharpReferenced, CancellationToken cancellationToken)
    {
        bool attributeErrors = model.AttributeConstructor is null;
        int flavor = 0, classes = 1000, inputSize = 224, inputChannels = 3, stem = 32, head = 1280;
        double width = 1.0, dropout = -1;
        foreach (var named in model.NamedArguments)
        {
            var value = named.Value;
            if (value.Kind == TypedConstantKind.Error || value.Value is null)
            {
                attributeErrors = true;
                continue;
            }

            switch (named.Key)
            {
                case "Flavor": flavor = ToInt(value.Value, ref attributeErrors); break;
                case "Classes": classes = ToInt(value.Value, ref attributeErrors); break;
                case "InputSize": inputSize = ToInt(value.Value, ref attributeErrors); break;
                case "InputChannels": inputChannels = ToInt(value.Value, ref attributeErrors); break;
                case "StemChannels": stem = ToInt(value.Value, ref attributeErrors); break;
                case "HeadChannels": head = ToInt(value.Value, ref attributeErrors); break;
                case "Width": width = ToDouble(value.Value, ref attributeErrors); break;
                case "Dropout": dropout = ToDouble(value.Value, ref attributeErrors); break;
            }
        }

        // Rows belong to the declaration that carries [MobileNetV2]: the generator's cache is keyed on that declaration.
        var modelDeclaration = DeclarationOf(model, cancellationToken);
        var rowAttributes = ImmutableArray.CreateBuilder<AttributeData>();
        var strayRows = ImmutableArray.CreateBuilder<AttributeData>();
        var rows = ImmutableArray.CreateBuilder<RowSpec>();
        foreach (var attribute in type.GetAttributes())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (attribute.AttributeClass?.ToDisplayString() != RowAttributeName)
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
            if (attribute.AttributeConstructor is null || args.Length != 4)
            {
                attributeErrors = true;
                continue;
            }

            int[] v = new int[4];
            for (int i = 0; i < 4; i++)
            {
                if (args[i].Kind == TypedConstantKind.Error || args[i].Value is null)
                {
                    attributeErrors = true;
                }
                else
                {
                    v[i] = ToInt(args[i].Value!, ref attributeErrors);
                }
            }

            rowAttributes.Add(attribute);
            rows.Add(new RowSpec(v[0], v[1], v[2], v[3]));
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
        if (baseType is not null && baseType.SpecialType != SpecialType.System_Object && !IsTorchModule(baseType))
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
            HasAttributeErrors: attributeErrors,
            RowsOnAnotherDeclaration: strayRows.Count > 0);

        var spec = new ModelSpec(
            Namespace: NamespaceOf(type),
            ClassName: type.Name,
            FlavorValue: flavor,
            Classes: classes,
            InputSize: inputSize,
            InputChannels: inputChannels,
            Width: width,
            StemChannels: stem,
            HeadChannels: head,
            Dropout: dropout,
            Rows: new EquatableArray<RowSpec>(rows.ToImmutable()),
            Shape: shape);
        return new ParsedModel(spec, model, rowAttributes.ToImmutable(), strayRows.ToImmutable(), baseClassName);
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

    /// <summary>The generated part's own base, <c>TorchSharp.torch.nn.Module&lt;Tensor, Tensor&gt;</c>, is not a user base class.</summary>
    private static bool IsTorchModule(INamedTypeSymbol type) =>
        type.Name == "Module"
        && type.TypeArguments.Length == 2
        && type.ContainingType?.Name == "nn"
        && type.ContainingType.ContainingType?.Name == "torch"
        && type.ContainingType.ContainingType.ContainingNamespace?.Name == "TorchSharp"
        && type.TypeArguments[0].Name == "Tensor"
        && type.TypeArguments[1].Name == "Tensor";

    private static int ToInt(object value, ref bool error)
    {
        try
        {
            return Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is InvalidCastException or OverflowException or FormatException)
        {
            error = true;
            return 0;
        }
    }

    private static double ToDouble(object value, ref bool error)
    {
        try
        {
            return Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is InvalidCastException or OverflowException or FormatException)
        {
            error = true;
            return 0;
        }
    }
}
