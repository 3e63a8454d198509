using System.Collections.Immutable;
using System.Reflection;
using ArchGen.Generator.Families;
using ArchGen.Generator.Model;
using ArchGen.Generator.Parsing;
using ArchGen.Generator.Planning;
using ArchGen.Generator.Tests.Infrastructure;
using ArchGen.Generator.Validation;
using Microsoft.CodeAnalysis;
using TorchSharp;
using static ArchGen.Generator.Emitting.Code;

namespace ArchGen.Generator.Tests;

// A fourth family that exists only in this test project (issue 25): a plain CNN, one [ConvLayer(c, s)] row per 3x3
// convolution with BatchNorm and ReLU, then global pooling and a linear classifier. Nothing in src/ names it: it
// reaches the real parser, validator, planner, emitter and analyzer through a catalog the test hands them.

/// <summary><c>[PlainCnn]</c>'s own named argument.</summary>
internal sealed record PlainCnnOptions(double Dropout) : FamilyOptions;

/// <summary><c>[ConvLayer(c, s)]</c>.</summary>
internal sealed record ConvLayerRow(int C, int S) : Row;

internal sealed class PlainCnnFamily : Family<PlainCnnOptions, ConvLayerRow>
{
    public override string Name => "PlainCnn";

    public override string RowName => "ConvLayer";

    public override ImmutableArray<string> RowArguments { get; } = ImmutableArray.Create("c", "s");

    protected override PlainCnnOptions DefaultOptions { get; } = new(Dropout: 0);

    protected override PlainCnnOptions With(PlainCnnOptions options, string name, object value, ArgumentReader reader) =>
        name == "Dropout" ? options with { Dropout = reader.ToDouble(value) } : options;

    protected override ConvLayerRow Read(ImmutableArray<TypedConstant> a, ArgumentReader r) => new(r.Int(a[0]), r.Int(a[1]));

    protected override void Check(PlainCnnOptions options, IReadOnlyList<ConvLayerRow> rows, Checks checks)
    {
        checks.Dropout(options.Dropout);
        for (int r = 0; r < rows.Count; r++)
        {
            checks.Channels(r, rows[r].C);
            checks.Stride(r, rows[r].S);
        }
    }

    protected override LayerPlan Plan(ModelSpec spec, PlainCnnOptions options, IReadOnlyList<ConvLayerRow> rows)
    {
        var b = new PlanBuilder(spec);
        for (int r = 0; r < rows.Count; r++)
        {
            b.Conv("Conv" + N(r), Placement.At("features." + N(r)), rows[r].C, 3, rows[r].S, Activation.ReLU);
        }

        b.Pool("Pool", Placement.Unregistered);
        b.Classifier("Classifier", Placement.At("classifier"), 0, Activation.None, options.Dropout, dropoutLayer: true);
        return b.Build("PlainCnn", "a test's toy family", WeightInit.PyTorchDefault, width: 1.0, options.Dropout);
    }
}

/// <summary>The toy family compiles, runs and is checked through the real pipeline without editing a shared file.</summary>
public class ToyFamilyTests
{
    private static readonly FamilyCatalog WithToy = new([.. FamilyCatalog.Shipped.All, new PlainCnnFamily()]);

    /// <summary>The toy's attributes, declared by the user's own code as the runtime declares the shipped ones.</summary>
    private const string Attributes = """
        namespace ArchGen
        {
            [System.AttributeUsage(System.AttributeTargets.Class)]
            public sealed class PlainCnnAttribute : System.Attribute
            {
                public int Classes { get; set; } = 1000;
                public int InputSize { get; set; } = 224;
                public int InputChannels { get; set; } = 3;
                public double Dropout { get; set; }
            }

            [System.AttributeUsage(System.AttributeTargets.Class, AllowMultiple = true)]
            public sealed class ConvLayerAttribute : System.Attribute
            {
                public ConvLayerAttribute(int c, int s) { }
            }
        }

        """;

    private static string Model(string rows, string model = "[PlainCnn(Classes = 5, InputSize = 16, Dropout = 0.1)]") =>
        Attributes + "namespace Samples\n{\n    using ArchGen;\n\n    " + model + "\n" + rows + "    public partial class ToyPlainCnn { }\n}\n";

    private const string GoodRows = "    [ConvLayer(8, 1)]\n    [ConvLayer(16, 2)]\n    [ConvLayer(32, 2)]\n";

    [Fact]
    public void TheToyFamilyCompilesThroughTheRealPipelineAndItsModelRuns()
    {
        var (output, result) = Harness.Generate(Harness.Compile(Model(GoodRows)), new ArchGenGenerator(WithToy));
        var generated = Assert.Single(result.GeneratedTrees);
        Assert.EndsWith("Samples.ToyPlainCnn.g.cs", generated.FilePath);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
        Assert.Empty(Harness.Analyze(output, new ArchGenAnalyzer(WithToy)));

        // By hand: 3x3 convolutions without bias, each with BatchNorm (2 per channel), then Linear 32 -> 5.
        const long expected = (3 * 8 * 9) + 16 + (8 * 16 * 9) + 32 + (16 * 32 * 9) + 64 + (32 * 5) + 5;
        using var stream = new MemoryStream();
        Assert.True(output.Emit(stream).Success);
        var type = Assembly.Load(stream.ToArray()).GetType("Samples.ToyPlainCnn", throwOnError: true)!;
        Assert.Equal(expected, (long)type.GetField("ParameterCount")!.GetValue(null)!);

        using var model = (ArchGen.Blocks.GeneratedModel)Activator.CreateInstance(type)!;
        Assert.Equal(expected, model.parameters().Sum(p => p.numel()));
        Assert.Equal(
            ["classifier.1.bias", "classifier.1.weight", "features.0.0.weight", "features.0.1.bias", "features.0.1.num_batches_tracked", "features.0.1.running_mean",
             "features.0.1.running_var", "features.0.1.weight"],
            model.state_dict().Keys.Where(k => k.StartsWith("features.0", StringComparison.Ordinal) || k.StartsWith("classifier", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        model.eval();
        using var logits = model.forward(torch.randn(2, 3, 16, 16));
        Assert.Equal([2L, 5L], logits.shape);
    }

    [Fact]
    public void TheToyFamilysRulesAndTheSharedOnesAreReportedWhereTheyBelong()
    {
        var analyzer = new ArchGenAnalyzer(WithToy);
        string Report(string source) => Harness.Format(Harness.Analyze(Harness.Compile(source), analyzer));

        // Its own rules, on the row argument and on its named argument.
        string bad = Report(Model("    [ConvLayer(8, 3)]\n    [ConvLayer(0, 1)]\n", "[PlainCnn(Classes = 0, Dropout = 1.5)]"));
        Assert.Contains("ARCH0004 Error Source0.cs(23,19) `3`: Row 1: stride s = 3 must be 1 or 2", bad);
        Assert.Contains("ARCH0002 Error Source0.cs(24,16) `0`: Row 2: output channels c = 0 must be at least 1", bad);
        Assert.Contains("ARCH0006 Error Source0.cs(22,15) `Classes = 0`: Classes = 0 must be at least 1", bad);
        Assert.Contains("ARCH0012 Error Source0.cs(22,28) `Dropout = 1.5`: Dropout = 1.5 must be in [0, 1)", bad);

        // The shared ones: no rows, rows without a model, another family's rows.
        Assert.Contains("ARCH0016", Report(Model(string.Empty)));
        Assert.Contains("ARCH0017 Error", Report(Model(GoodRows, model: string.Empty)));
        Assert.Contains("ARCH0029 Error", Report(Model(GoodRows + "    [Bottleneck(1, 16, 1, 1)]\n")));

        // The shipped generator and analyzer do not know the toy.
        var (_, result) = Harness.Generate(Harness.Compile(Model(GoodRows)));
        Assert.Empty(result.GeneratedTrees);
        Assert.Empty(Harness.Analyze(Harness.Compile(Model(GoodRows))));
    }
}
