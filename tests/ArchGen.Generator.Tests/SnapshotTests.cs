using ArchGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace ArchGen.Generator.Tests;

/// <summary>Locks the emitted code and the diagnostics; see <see cref="Snapshot"/> for the review workflow.</summary>
public class SnapshotTests
{
    private static IEnumerable<(string, string)> GenerateCompiling(string source)
    {
        var (output, result) = Harness.Generate(Harness.Compile(source));
        var problems = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(problems.Count == 0, "generated code does not compile cleanly:\n" + Harness.Format(problems));
        Assert.Empty(Harness.Analyze(output));
        var files = result.Results.Single().GeneratedSources;
        Assert.Single(files);
        return files.Select(f => (f.HintName, f.SourceText.ToString()));
    }

    [Fact]
    public void PaperModel() => Snapshot.VerifyFiles(GenerateCompiling(Harness.Model(
        "MobileNetV2", "Flavor = MobileNetV2Flavor.Paper, Classes = 1000, InputSize = 224, InputChannels = 3, Width = 1.0", Harness.TorchvisionRows)));

    [Fact]
    public void CifarModel() => Snapshot.VerifyFiles(GenerateCompiling(Harness.Model(
        "CifarMobileNetV2", "Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 32", Harness.KuangliuRows)));

    [Fact]
    public void HalfWidthModel() => Snapshot.VerifyFiles(GenerateCompiling(Harness.Model(
        "MobileNetV2Half", "Width = 0.5", Harness.TorchvisionRows)));

    [Fact]
    public void FashionMnistModel() => Snapshot.VerifyFiles(GenerateCompiling(Harness.Model(
        "FashionMobileNetV2", "Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 32, InputChannels = 1", Harness.KuangliuRows)));

    /// <summary>The paper's two ablations (Figure 6) on the exercise's network: ReLU after each projection, no residuals.</summary>
    [Fact]
    public void AblatedCifarModel() => Snapshot.VerifyFiles(GenerateCompiling(Harness.Model(
        "AblatedCifarMobileNetV2", "Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 32, LinearBottleneck = false, Shortcut = ShortcutPlacement.None", Harness.KuangliuRows)));

    /// <summary>The paper's shortcut between expansions (Figure 6b) on the exercise's network: the wide residual the forward carries from block to block.</summary>
    [Fact]
    public void ExpansionShortcutCifarModel() => Snapshot.VerifyFiles(GenerateCompiling(Harness.Model(
        "ExpansionCifarMobileNetV2", "Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 32, Shortcut = ShortcutPlacement.Expansion", Harness.KuangliuRows)));

    [Fact]
    public void MobileNetV3LargeModel() => Snapshot.VerifyFiles(GenerateCompiling(Harness.Family(
        "MobileNetV3Large", "MobileNetV3(Classes = 1000, InputSize = 224, HeadChannels = 1280)", Harness.V3LargeRows)));

    [Fact]
    public void EfficientNetB0Model() => Snapshot.VerifyFiles(GenerateCompiling(Harness.Family(
        "EfficientNetB0", "EfficientNet(Classes = 1000, InputSize = 224, Width = 1.0, Depth = 1.0, StochasticDepth = 0.2)", Harness.B0Rows)));

    [Fact]
    public void BadFamilyValues() => VerifyDiagnostics(Harness.Usings + """
        namespace Samples;

        [MobileNetV3(Dropout = -0.1, Width = 0, HeadChannels = 0)]
        [Bneck(4, 16, 16, false, Nonlinearity.ReLU, 1)]
        [Bneck(k: 3, exp: 0, c: 24, se: true, nl: (Nonlinearity)5, s: 3)]
        public partial class BadV3 { }

        [EfficientNet(Depth = -1, StochasticDepth = 1, Dropout = 1)]
        [MBConv(0, -3, 16, 1, 1)]
        [MBConv(6, 3, 24, 0, 2)]
        public partial class BadEfficientNet { }

        [EfficientNet]
        public partial class NoMBConvRows { }

        [MBConv(1, 3, 16, 1, 1)]
        public partial class MBConvRowsOnly { }

        [MobileNetV3]
        [Bneck(3, 16, 16, false, Nonlinearity.ReLU, 1)]
        [Bottleneck(1, 16, 1, 1)]
        public partial class TwoFamiliesOfRows { }

        [MobileNetV2]
        [EfficientNet]
        [MBConv(1, 3, 16, 1, 1)]
        public partial class TwoModels { }
        """);

    [Fact]
    public void BadRowValues() => VerifyDiagnostics(Harness.Model(
        "BadRows",
        "Classes = 10, InputSize = 32",
        "t: 0, c: 16, n: 1, s: 1",
        "t: 6, c: -24, n: 2, s: 2",
        "6, 32, 0, 2",
        "t: 6, c: 64, n: 4, s: 3",
        "s: 2, n: 1, c: 8, t: 1"));

    [Fact]
    public void BadModelValues() => VerifyDiagnostics(Harness.Model(
        "BadModel",
        "Classes = 0, InputSize = -1, InputChannels = 0, Width = 0, StemChannels = 0, HeadChannels = -5, Dropout = 1.5, Flavor = (MobileNetV2Flavor)7",
        "t: 1, c: 16, n: 1, s: 1"));

    [Fact]
    public void BadClassShapes() => VerifyDiagnostics(Harness.Usings + """
        namespace Samples;

        [MobileNetV2]
        [Bottleneck(1, 16, 1, 1)]
        public class NotPartial { }

        public partial class Outer
        {
            [MobileNetV2]
            [Bottleneck(1, 16, 1, 1)]
            public partial class Nested { }
        }

        [MobileNetV2]
        [Bottleneck(1, 16, 1, 1)]
        public partial class Generic<T> { }

        public class SomeBase { }

        [MobileNetV2]
        [Bottleneck(1, 16, 1, 1)]
        public partial class WithBase : SomeBase { }

        [MobileNetV2]
        public partial class NoRows { }

        [Bottleneck(1, 16, 1, 1)]
        public partial class RowsOnly { }

        [MobileNetV2]
        [Bottleneck(1, 16, 1, 1)]
        public abstract partial class Abstract { }
        """);

    [Fact]
    public void StrideOnOneByOneMap() => VerifyDiagnostics(Harness.Model(
        "TinyInput",
        "Flavor = MobileNetV2Flavor.Cifar, Classes = 10, InputSize = 2",
        "t: 1, c: 16, n: 1, s: 2",
        "t: 6, c: 24, n: 1, s: 2"), generates: true);

    [Fact]
    public void WithoutTorchSharp()
    {
        var compilation = Harness.Compile(Harness.Model("NoTorch", "Classes = 10", "1, 16, 1, 1"), torchSharp: false);
        var (output, result) = Harness.Generate(compilation);
        Assert.Empty(result.GeneratedTrees);
        Snapshot.VerifyText(Harness.Format(Harness.Analyze(output)));
    }

    [Fact]
    public void NoStaleSnapshots()
    {
        var stale = Snapshot.StaleFiles();
        if (Snapshot.Accepting)
        {
            foreach (var file in stale)
            {
                File.Delete(Path.Combine(Snapshot.Directory(), file));
            }

            return;
        }

        Assert.True(stale.Count == 0, "Snapshots no test produces (delete them, or run with ARCHGEN_ACCEPT_SNAPSHOTS=1): " + string.Join(", ", stale));
    }

    private static void VerifyDiagnostics(string source, bool generates = false, [System.Runtime.CompilerServices.CallerMemberName] string method = "")
    {
        // Invalid tables never reach the emitter (no file, no crash); the analyzer reports each of them.
        var (output, result) = Harness.Generate(Harness.Compile(source));
        Assert.Equal(generates ? 1 : 0, result.GeneratedTrees.Length);
        Snapshot.VerifyText(Harness.Format(Harness.Analyze(output)), method: method);
    }
}
