using System.Collections.Immutable;
using System.Linq;
using ArchGen.Generator.Families;
using ArchGen.Generator.Model;
using ArchGen.Generator.Parsing;
using ArchGen.Generator.Validation;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace ArchGen.Generator;

/// <summary>
/// Reports ArchGen's diagnostics (ARCH0001…) using the same <see cref="Validator"/> (and so the same plan) as the generator,
/// each located on the offending attribute argument.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ArchGenAnalyzer : DiagnosticAnalyzer
{
    private readonly FamilyCatalog _families;

    /// <summary>The analyzer of the families ArchGen ships.</summary>
    public ArchGenAnalyzer()
        : this(FamilyCatalog.Shipped)
    {
    }

    /// <summary>An analyzer of <paramref name="families"/> (tests add a family of their own).</summary>
    internal ArchGenAnalyzer(FamilyCatalog families) => _families = families;

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = Diagnostics.All;

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (!_families.All.Any(f => start.Compilation.GetTypeByMetadataName(f.ModelMetadataName) is not null))
            {
                return; // no family's attribute is referenced (ArchGen.Runtime is not)
            }

            bool torchSharp = start.Compilation.GetTypeByMetadataName(Parser.TorchTypeName) is not null;
            start.RegisterSymbolAction(ctx => AnalyzeType(ctx, torchSharp), SymbolKind.NamedType);
        });
    }

    private void AnalyzeType(SymbolAnalysisContext context, bool torchSharp)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        AttributeData? model = null;
        Family? family = null;
        AttributeData? firstRow = null;
        Family? rowFamily = null;
        foreach (var attribute in type.GetAttributes())
        {
            if (model is null && _families.ByModelAttribute(attribute.AttributeClass) is { } f)
            {
                model = attribute;
                family = f;
            }
            else if (firstRow is null && _families.ByRowAttribute(attribute.AttributeClass) is { } r)
            {
                firstRow = attribute;
                rowFamily = r;
            }
        }

        if (model is null || family is null)
        {
            if (firstRow is not null && rowFamily is not null)
            {
                context.ReportDiagnostic(Diagnostic.Create(Diagnostics.RowsWithoutModel, AttributeLocation(firstRow, type), type.Name, rowFamily.RowName, rowFamily.Name));
            }

            return;
        }

        var parsed = Parser.Parse(type, model, family, _families, torchSharp, context.CancellationToken);
        foreach (var problem in Validator.Validate(parsed.Spec, parsed.BaseClassName, out _))
        {
            var location = Locate(problem.Target, parsed, family, type);
            context.ReportDiagnostic(Diagnostic.Create(problem.Descriptor, location, problem.Args.Cast<object>().ToArray()));
        }
    }

    private static Location Locate(Target target, ParsedModel parsed, Family family, INamedTypeSymbol type)
    {
        switch (target.Kind)
        {
            case TargetKind.ModelArgument:
                return NamedArgumentLocation(parsed.Model, target.Argument) ?? AttributeLocation(parsed.Model, type);
            case TargetKind.RowArgument:
                if (target.Row >= 0 && target.Row < parsed.Rows.Length)
                {
                    var row = parsed.Rows[target.Row];
                    return RowArgumentLocation(row, target.Argument, family) ?? AttributeLocation(row, type);
                }

                return AttributeLocation(parsed.Model, type);
            case TargetKind.ClassName:
                return ClassNameLocation(type);
            case TargetKind.StrayRow:
                return parsed.StrayRows.IsEmpty ? AttributeLocation(parsed.Model, type) : AttributeLocation(parsed.StrayRows[0], type);
            case TargetKind.OtherFamily:
                return parsed.OtherFamily is null ? AttributeLocation(parsed.Model, type) : AttributeLocation(parsed.OtherFamily, type);
            case TargetKind.BaseList:
                return BaseListLocation(type) ?? ClassNameLocation(type);
            default:
                return AttributeLocation(parsed.Model, type);
        }
    }

    private static Location AttributeLocation(AttributeData attribute, INamedTypeSymbol type) =>
        attribute.ApplicationSyntaxReference?.GetSyntax().GetLocation() ?? ClassNameLocation(type);

    private static Location ClassNameLocation(INamedTypeSymbol type) =>
        type.Locations.FirstOrDefault(l => l.IsInSource) ?? Location.None;

    private static Location? NamedArgumentLocation(AttributeData attribute, string? name)
    {
        if (name is null || attribute.ApplicationSyntaxReference?.GetSyntax() is not AttributeSyntax syntax || syntax.ArgumentList is null)
        {
            return null;
        }

        // The last one wins, as it does for the value.
        Location? found = null;
        foreach (var argument in syntax.ArgumentList.Arguments)
        {
            if (argument.NameEquals?.Name.Identifier.ValueText == name)
            {
                found = argument.GetLocation();
            }
        }

        return found;
    }

    private static Location? RowArgumentLocation(AttributeData attribute, string? name, Family family)
    {
        if (name is null || attribute.ApplicationSyntaxReference?.GetSyntax() is not AttributeSyntax syntax || syntax.ArgumentList is null)
        {
            return null;
        }

        var arguments = syntax.ArgumentList.Arguments;
        foreach (var argument in arguments)
        {
            if (argument.NameColon?.Name.Identifier.ValueText == name)
            {
                return argument.GetLocation();
            }
        }

        int position = family.RowArguments.IndexOf(name);
        if (position >= 0 && position < arguments.Count && arguments[position].NameColon is null && arguments[position].NameEquals is null)
        {
            return arguments[position].GetLocation();
        }

        return null;
    }

    private static Location? BaseListLocation(INamedTypeSymbol type)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax() is TypeDeclarationSyntax { BaseList: { } baseList } && baseList.Types.Count > 0)
            {
                return baseList.Types[0].GetLocation();
            }
        }

        return null;
    }
}
