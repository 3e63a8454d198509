using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace ArchGen.Generator.Tests.Infrastructure;

/// <summary>Compiles test sources in memory and runs ArchGen's generator and analyzer over them.</summary>
internal static class Harness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly MetadataReference TorchSharp = MetadataReference.CreateFromFile(typeof(global::TorchSharp.torch).Assembly.Location);
    private static readonly MetadataReference Runtime = MetadataReference.CreateFromFile(typeof(global::ArchGen.ModelCatalog).Assembly.Location);

    private static readonly ImmutableArray<MetadataReference> WithTorch =
        [.. Basic.Reference.Assemblies.Net100.References.All, TorchSharp, Runtime];

    private static readonly ImmutableArray<MetadataReference> WithoutTorch =
        [.. Basic.Reference.Assemblies.Net100.References.All, Runtime];

    public const string Usings = "using ArchGen;\n";

    public static CSharpCompilation Compile(string source, bool torchSharp = true, string assemblyName = "TestModels") =>
        Compile([source], torchSharp, assemblyName);

    public static CSharpCompilation Compile(IEnumerable<string> sources, bool torchSharp = true, string assemblyName = "TestModels") =>
        CSharpCompilation.Create(
            assemblyName,
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
            torchSharp ? WithTorch : WithoutTorch,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable)
                // As the .NET SDK does by default: TorchSharp is built against an older System.Runtime.
                .WithSpecificDiagnosticOptions([new("CS1701", ReportDiagnostic.Suppress), new("CS1702", ReportDiagnostic.Suppress)]));

    public static GeneratorDriver CreateDriver(ArchGenGenerator? generator = null) => CSharpGeneratorDriver.Create(
        [(generator ?? new ArchGenGenerator()).AsSourceGenerator()],
        parseOptions: ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator; returns the compilation with the generated files and the run result.</summary>
    public static (Compilation Output, GeneratorDriverRunResult Result) Generate(Compilation compilation, ArchGenGenerator? generator = null)
    {
        var driver = CreateDriver(generator).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        Assert.Empty(diagnostics);
        var result = driver.GetRunResult();
        Assert.All(result.Results, r => Assert.Null(r.Exception));
        return (output, result);
    }

    /// <summary>ArchGen's analyzer diagnostics, sorted by position.</summary>
    public static ImmutableArray<Diagnostic> Analyze(Compilation compilation, ArchGenAnalyzer? analyzer = null) =>
        [.. compilation
            .WithAnalyzers([analyzer ?? new ArchGenAnalyzer()])
            .GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult()
            .OrderBy(d => d.Location.SourceSpan.Start)
            .ThenBy(d => d.Id, StringComparer.Ordinal)];

    /// <summary>One line per diagnostic: id, severity, position, the source text it points at, and the message.</summary>
    public static string Format(IEnumerable<Diagnostic> diagnostics) =>
        string.Concat(diagnostics.Select(d =>
        {
            var span = d.Location.GetLineSpan();
            string at = d.Location.IsInSource
                ? $"{span.Path}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}) `{d.Location.SourceTree!.GetText().ToString(d.Location.SourceSpan)}`"
                : "(no location)";
            return $"{d.Id} {d.Severity} {at}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)} [{d.Descriptor.HelpLinkUri}]\n";
        }));

    /// <summary>Source for a model with the given attribute arguments and rows.</summary>
    public static string Model(string name, string modelArguments, params string[] rows) =>
        Usings + "\nnamespace Samples;\n\n"
        + $"[MobileNetV2({modelArguments})]\n"
        + string.Concat(rows.Select(r => $"[Bottleneck({r})]\n"))
        + $"public partial class {name}\n{{\n}}\n";

    /// <summary>Source for a model of another family: <paramref name="attribute"/> is the model attribute with its arguments, each row a whole row attribute.</summary>
    public static string Family(string name, string attribute, params string[] rows) =>
        Usings + "\nnamespace Samples;\n\n"
        + $"[{attribute}]\n"
        + string.Concat(rows.Select(r => $"[{r}]\n"))
        + $"public partial class {name}\n{{\n}}\n";

    /// <summary>The MobileNetV3 paper's Table 1 (torchvision's mobilenet_v3_large).</summary>
    public static readonly string[] V3LargeRows =
    [
        "Bneck(3, 16, 16, false, Nonlinearity.ReLU, 1)",
        "Bneck(3, 64, 24, false, Nonlinearity.ReLU, 2)",
        "Bneck(3, 72, 24, false, Nonlinearity.ReLU, 1)",
        "Bneck(5, 72, 40, true, Nonlinearity.ReLU, 2)",
        "Bneck(5, 120, 40, true, Nonlinearity.ReLU, 1)",
        "Bneck(5, 120, 40, true, Nonlinearity.ReLU, 1)",
        "Bneck(3, 240, 80, false, Nonlinearity.HardSwish, 2)",
        "Bneck(3, 200, 80, false, Nonlinearity.HardSwish, 1)",
        "Bneck(3, 184, 80, false, Nonlinearity.HardSwish, 1)",
        "Bneck(3, 184, 80, false, Nonlinearity.HardSwish, 1)",
        "Bneck(3, 480, 112, true, Nonlinearity.HardSwish, 1)",
        "Bneck(3, 672, 112, true, Nonlinearity.HardSwish, 1)",
        "Bneck(5, 672, 160, true, Nonlinearity.HardSwish, 2)",
        "Bneck(5, 960, 160, true, Nonlinearity.HardSwish, 1)",
        "Bneck(5, 960, 160, true, Nonlinearity.HardSwish, 1)",
    ];

    /// <summary>The EfficientNet paper's Table 1 (torchvision's efficientnet_b0).</summary>
    public static readonly string[] B0Rows =
    [
        "MBConv(1, 3, 16, 1, 1)",
        "MBConv(6, 3, 24, 2, 2)",
        "MBConv(6, 5, 40, 2, 2)",
        "MBConv(6, 3, 80, 3, 2)",
        "MBConv(6, 5, 112, 3, 1)",
        "MBConv(6, 5, 192, 4, 2)",
        "MBConv(6, 3, 320, 1, 1)",
    ];

    public static readonly string[] TorchvisionRows =
    [
        "t: 1, c: 16, n: 1, s: 1",
        "t: 6, c: 24, n: 2, s: 2",
        "t: 6, c: 32, n: 3, s: 2",
        "t: 6, c: 64, n: 4, s: 2",
        "t: 6, c: 96, n: 3, s: 1",
        "t: 6, c: 160, n: 3, s: 2",
        "t: 6, c: 320, n: 1, s: 1",
    ];

    public static readonly string[] KuangliuRows =
    [
        "t: 1, c: 16, n: 1, s: 1",
        "t: 6, c: 24, n: 2, s: 1",
        "t: 6, c: 32, n: 3, s: 2",
        "t: 6, c: 64, n: 4, s: 2",
        "t: 6, c: 96, n: 3, s: 1",
        "t: 6, c: 160, n: 3, s: 2",
        "t: 6, c: 320, n: 1, s: 1",
    ];
}
