using ArchGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace ArchGen.Generator.Tests;

/// <summary>Each diagnostic fires on its own input, at the offending argument; the release-tracking file lists them all.</summary>
public class DiagnosticTests
{
    private static Diagnostic Single(string source, string id)
    {
        var compilation = Harness.Compile(source);
        var (_, result) = Harness.Generate(compilation);
        var diagnostics = Harness.Analyze(compilation);
        var diagnostic = Assert.Single(diagnostics, d => d.Id == id);
        Assert.Empty(result.GeneratedTrees);
        return diagnostic;
    }

    private static string At(Diagnostic d) => d.Location.SourceTree!.GetText().ToString(d.Location.SourceSpan);

    [Theory]
    [InlineData("t: 0, c: 16, n: 1, s: 1", "ARCH0001", "t: 0")]
    [InlineData("1, 0, 1, 1", "ARCH0002", "0")]
    [InlineData("c: 16, n: -1, t: 1, s: 1", "ARCH0003", "n: -1")]
    [InlineData("1, 16, 1, 4", "ARCH0004", "4")]
    public void RowProblemsPointAtTheArgument(string row, string id, string located)
    {
        var d = Single(Harness.Model("M", "Classes = 10", "1, 16, 1, 1", row), id);
        Assert.Equal(located, At(d));
        Assert.Contains("Row 2", d.GetMessage());
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.EndsWith("#" + id.ToLowerInvariant(), d.Descriptor.HelpLinkUri);
    }

    [Theory]
    [InlineData("Width = -0.5", "ARCH0005")]
    [InlineData("Width = double.NaN", "ARCH0005")]
    [InlineData("Classes = 0", "ARCH0006")]
    [InlineData("InputSize = 0", "ARCH0007")]
    [InlineData("InputChannels = -3", "ARCH0008")]
    [InlineData("StemChannels = 0", "ARCH0010")]
    [InlineData("HeadChannels = 0", "ARCH0011")]
    [InlineData("Dropout = 1", "ARCH0012")]
    [InlineData("Flavor = (MobileNetV2Flavor)2", "ARCH0022")]
    [InlineData("Shortcut = (ShortcutPlacement)7", "ARCH0031")]
    [InlineData("Shortcut = ShortcutPlacement.Expansion", "ARCH0032")] // one t = 1 block: nothing expands, so nothing to join
    public void ModelProblemsPointAtTheArgument(string argument, string id)
    {
        var d = Single(Harness.Model("M", argument, "1, 16, 1, 1"), id);
        Assert.Equal(argument, At(d));
    }

    /// <summary>A residual between expansions needs a block after a stride-1 block of the same expanded width; rows that give one compile.</summary>
    [Theory]
    [InlineData(false, "6, 24, 1, 1")]                // one block: none before it
    [InlineData(false, "6, 24, 1, 2", "6, 24, 1, 1")] // the second block follows a stride-2 one
    [InlineData(false, "6, 24, 1, 1", "6, 32, 1, 1")] // 32 -> 192, then 24 -> 144: the widths differ
    [InlineData(false, "6, 24, 2, 1")]                // 32 -> 192 -> 24, then 24 -> 144 -> 24
    [InlineData(true, "6, 32, 2, 1")]                 // 32 -> 192 -> 32 twice, the first of stride 1
    public void TheResidualBetweenExpansionsNeedsTwoJoinableBlocks(bool joins, params string[] rows)
    {
        var compilation = Harness.Compile(Harness.Model("M", "Flavor = MobileNetV2Flavor.Cifar, Shortcut = ShortcutPlacement.Expansion", rows));
        var found = Harness.Analyze(compilation).Where(d => d.Id == "ARCH0032").ToList();
        var (_, result) = Harness.Generate(compilation);
        if (joins)
        {
            Assert.Empty(found);
            Assert.NotEmpty(result.GeneratedTrees);
        }
        else
        {
            Assert.Equal("Shortcut = ShortcutPlacement.Expansion", At(Assert.Single(found)));
            Assert.Empty(result.GeneratedTrees);
        }
    }

    [Theory]
    [InlineData("Bneck(4, 16, 16, false, Nonlinearity.ReLU, 1)", "ARCH0026", "4")]
    [InlineData("Bneck(3, 0, 16, false, Nonlinearity.ReLU, 1)", "ARCH0001", "0")]
    [InlineData("Bneck(3, 16, 16, false, (Nonlinearity)2, 1)", "ARCH0030", "(Nonlinearity)2")]
    [InlineData("Bneck(3, 16, 16, false, Nonlinearity.ReLU, s: 0)", "ARCH0004", "s: 0")]
    [InlineData("Bneck(k: 3, exp: 16, se: false, nl: Nonlinearity.ReLU, s: 1, c: -1)", "ARCH0002", "c: -1")]
    public void MobileNetV3RowProblemsPointAtTheArgument(string row, string id, string located)
    {
        var d = Single(Harness.Family("M", "MobileNetV3", "Bneck(3, 16, 16, false, Nonlinearity.ReLU, 1)", row), id);
        Assert.Equal(located, At(d));
        Assert.Contains("Row 2", d.GetMessage());
    }

    [Theory]
    [InlineData("MBConv(0, 3, 16, 1, 1)", "ARCH0001", "0")]
    [InlineData("MBConv(1, -5, 16, 1, 1)", "ARCH0026", "-5")]
    [InlineData("MBConv(1, 3, 16, n: 0, s: 1)", "ARCH0003", "n: 0")]
    public void EfficientNetRowProblemsPointAtTheArgument(string row, string id, string located)
    {
        var d = Single(Harness.Family("M", "EfficientNet", "MBConv(1, 3, 16, 1, 1)", row), id);
        Assert.Equal(located, At(d));
    }

    [Theory]
    [InlineData("MobileNetV3", "Dropout = -0.5", "ARCH0012")]
    [InlineData("MobileNetV3", "Width = -1", "ARCH0005")]
    [InlineData("EfficientNet", "Depth = 0", "ARCH0027")]
    [InlineData("EfficientNet", "Depth = double.PositiveInfinity", "ARCH0027")]
    [InlineData("EfficientNet", "StochasticDepth = 1.0", "ARCH0028")]
    [InlineData("EfficientNet", "StochasticDepth = -0.1", "ARCH0028")]
    [InlineData("EfficientNet", "Dropout = 1", "ARCH0012")]
    public void FamilyModelProblemsPointAtTheArgument(string family, string argument, string id)
    {
        string row = family == "MobileNetV3" ? "Bneck(3, 16, 16, false, Nonlinearity.ReLU, 1)" : "MBConv(1, 3, 16, 1, 1)";
        var d = Single(Harness.Family("M", family + "(" + argument + ")", row), id);
        Assert.Equal(argument, At(d));
    }

    [Fact]
    public void RowsOfAnotherFamilyAreRejectedOnThatRow()
    {
        var d = Single(Harness.Family("Mixed", "MobileNetV3", "Bneck(3, 16, 16, false, Nonlinearity.ReLU, 1)", "MBConv(1, 3, 16, 1, 1)"), "ARCH0029");
        Assert.Equal("MBConv(1, 3, 16, 1, 1)", At(d));
        Assert.Contains("[MBConv]", d.GetMessage());
    }

    [Fact]
    public void HugeTablesAreRejectedNotCrashed()
    {
        var d = Single(Harness.Model("Huge", "Width = 1e9", "6, 320, 1, 1"), "ARCH0020");
        Assert.StartsWith("MobileNetV2(", At(d));
        Single(Harness.Model("Deep", "", "6, 32, 100000, 1"), "ARCH0020");
        Single(Harness.Model("Wide", "Classes = 2147483647, HeadChannels = 2147483647", "6, 32, 1, 1"), "ARCH0020");
    }

    [Fact]
    public void StaticAndRecordClassesAreRejected()
    {
        Single(Harness.Usings + "[MobileNetV2][Bottleneck(1, 16, 1, 1)] public static partial class S { }", "ARCH0021");
        Single(Harness.Usings + "[MobileNetV2][Bottleneck(1, 16, 1, 1)] public partial record R { }", "ARCH0021");
    }

    [Fact]
    public void RowsOnAnotherPartialDeclarationAreRejected()
    {
        var compilation = Harness.Compile(
        [
            Harness.Usings + "namespace Samples;\n[MobileNetV2(Classes = 10)]\n[Bottleneck(1, 16, 1, 1)]\npublic partial class Split { }\n",
            Harness.Usings + "namespace Samples;\n[Bottleneck(6, 24, 2, 2)]\npublic partial class Split { }\n",
        ]);
        var (_, result) = Harness.Generate(compilation);
        Assert.Empty(result.GeneratedTrees);
        var d = Assert.Single(Harness.Analyze(compilation));
        Assert.Equal("ARCH0024", d.Id);
        Assert.Equal("Bottleneck(6, 24, 2, 2)", At(d));
    }

    [Theory]
    [InlineData("Block1")]
    [InlineData("Block2")]
    [InlineData("Fused")]
    [InlineData("Stem")]
    [InlineData("FeatureMaps")]
    [InlineData("Classifier")]
    [InlineData("@var")]
    public void NamesOfGeneratedMembersAreRejected(string name)
    {
        var d = Single(Harness.Model(name, "", "1, 16, 1, 1", "6, 24, 1, 2"), "ARCH0025");
        Assert.Equal(name, At(d));
    }

    [Theory]
    [InlineData("Block")]
    [InlineData("Block3")]
    [InlineData("Linear")]
    public void NamesTheEmittedCodeDoesNotDeclareAreFine(string name)
    {
        var compilation = Harness.Compile(Harness.Model(name, "", "1, 16, 1, 1", "6, 24, 1, 2"));
        var (output, result) = Harness.Generate(compilation);
        Assert.Single(result.GeneratedTrees);
        Assert.Empty(Harness.Analyze(compilation));
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Fact]
    public void BrokenArgumentsStopGenerationWithoutACrash()
    {
        var compilation = Harness.Compile(Harness.Model("Broken", "Classes = 10", "1, 16, 1"));
        Assert.Contains(compilation.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
        var (_, result) = Harness.Generate(compilation);
        Assert.Empty(result.GeneratedTrees);
        Assert.Contains(Harness.Analyze(compilation), d => d.Id == "ARCH0023");
    }

    [Fact]
    public void ValidModelsHaveNoDiagnostics()
    {
        var compilation = Harness.Compile(Harness.Model("Good", "Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 32", Harness.KuangliuRows));
        var (output, result) = Harness.Generate(compilation);
        Assert.Single(result.GeneratedTrees);
        Assert.Empty(Harness.Analyze(output));
    }

    [Fact]
    public void ReleaseTrackingListsEverySupportedDiagnostic()
    {
        string path = Path.Combine(SourceTree.ProjectDirectory, "..", "..", "src", "Generator", "AnalyzerReleases.Unshipped.md");
        var listed = File.ReadAllLines(path)
            .Where(l => l.StartsWith("ARCH", StringComparison.Ordinal))
            .Select(l => l.Split('|').Select(p => p.Trim()).ToArray())
            .ToDictionary(p => p[0], p => p);
        var supported = new ArchGenAnalyzer().SupportedDiagnostics;
        Assert.Equal(supported.Select(d => d.Id).Order(), listed.Keys.Order());
        foreach (var d in supported)
        {
            Assert.Equal(d.DefaultSeverity.ToString(), listed[d.Id][2]);
            Assert.Equal(d.Title.ToString(), listed[d.Id][3]);
        }
    }
}
