using ArchGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace ArchGen.Generator;

/// <summary>
/// Turns every <c>[MobileNetV2]</c> partial class with its <c>[Bottleneck]</c> rows into unrolled TorchSharp code.
/// Invalid models are skipped; <see cref="ArchGenAnalyzer"/> reports why. Never throws on user input.
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
        public const string Valid = "ArchGen.Valid";
        public const string Emit = "ArchGen.Emit";
    }

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var models = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Parser.ModelAttributeName,
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, ct) => Parser.Parse(ctx, ct))
            .Where(static spec => spec is not null)
            .WithTrackingName(Steps.Parse);

        var torchSharp = context.CompilationProvider
            .Select(static (compilation, _) => compilation.GetTypeByMetadataName(Parser.TorchTypeName) is not null)
            .WithTrackingName(Steps.TorchSharp);

        var files = models
            .Combine(torchSharp)
            .Select(static (pair, _) => pair.Left! with { Shape = pair.Left!.Shape with { TorchSharpReferenced = pair.Right } })
            .WithTrackingName(Steps.Combine)
            .Where(static spec => Validator.IsValid(spec))
            .WithTrackingName(Steps.Valid)
            .Select(static (spec, _) => new GeneratedFile(Emitter.HintName(spec), Emitter.Emit(spec) ?? string.Empty))
            .WithTrackingName(Steps.Emit);

        context.RegisterSourceOutput(files, static (spc, file) =>
        {
            if (file.Source.Length > 0)
            {
                spc.AddSource(file.HintName, SourceText.From(file.Source, System.Text.Encoding.UTF8));
            }
        });
    }
}

/// <summary>One emitted file.</summary>
internal sealed record GeneratedFile(string HintName, string Source);
