using ArchGen.Generator.Emitting;
using ArchGen.Generator.Families;
using ArchGen.Generator.Model;
using ArchGen.Generator.Parsing;
using ArchGen.Generator.Planning;
using ArchGen.Generator.Validation;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace ArchGen.Generator;

/// <summary>
/// Turns every model class (<c>[MobileNetV2]</c> with its <c>[Bottleneck]</c> rows, …) into TorchSharp code:
/// parse (attributes to an equatable <see cref="ModelSpec"/>) → validate and plan (one <see cref="LayerPlan"/> per
/// model, computed once) → emit. Invalid models are skipped; <see cref="ArchGenAnalyzer"/> reports why. Never throws
/// on user input.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ArchGenGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps, for incremental tests.</summary>
    public static class Steps
    {
        public const string Parse = "ArchGen.Parse";
        public const string TorchSharp = "ArchGen.TorchSharp";
        public const string Combine = "ArchGen.Combine";
        public const string Plan = "ArchGen.Plan";
        public const string Emit = "ArchGen.Emit";
    }

    private readonly FamilyCatalog _families;

    /// <summary>The generator of the families ArchGen ships.</summary>
    public ArchGenGenerator()
        : this(FamilyCatalog.Shipped)
    {
    }

    /// <summary>A generator of <paramref name="families"/> (tests add a family of their own).</summary>
    internal ArchGenGenerator(FamilyCatalog families) => _families = families;

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var torchSharp = context.CompilationProvider
            .Select(static (compilation, _) => compilation.GetTypeByMetadataName(Parser.TorchTypeName) is not null)
            .WithTrackingName(Steps.TorchSharp);

        var catalog = _families;
        foreach (var family in catalog.All)
        {
            var files = context.SyntaxProvider
                .ForAttributeWithMetadataName(
                    family.ModelMetadataName,
                    static (node, _) => node is ClassDeclarationSyntax,
                    (ctx, ct) => Parser.Parse(ctx, family, catalog, ct))
                .Where(static spec => spec is not null)
                .WithTrackingName(Steps.Parse)
                .Combine(torchSharp)
                .Select(static (pair, _) => pair.Left! with { Shape = pair.Left!.Shape with { TorchSharpReferenced = pair.Right } })
                .WithTrackingName(Steps.Combine)
                .Select(static (spec, _) => Validator.ValidPlan(spec))
                .Where(static plan => plan is not null)
                .WithTrackingName(Steps.Plan)
                .Select(static (plan, _) => new GeneratedFile(Emitter.HintName(plan!), Emitter.Emit(plan!)))
                .WithTrackingName(Steps.Emit);

            context.RegisterSourceOutput(files, static (spc, file) => spc.AddSource(file.HintName, SourceText.From(file.Source, System.Text.Encoding.UTF8)));
        }
    }
}

/// <summary>One emitted file.</summary>
internal sealed record GeneratedFile(string HintName, string Source);
