using ArchGen.App.Tests;
using ArchGen.Onnx.Export;
using ArchGen.Onnx.Serving;
using Onnx;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ArchGen.Onnx.Tests;

/// <summary>Exported models run in ONNX Runtime to the TorchSharp model's logits, and ONNX's own checker accepts them.</summary>
[Trait("Category", "Parity")]
public class ExportTests(ITestOutputHelper output)
{
    public const double Tolerance = 1e-4;

    static readonly string[] ModelNames =
    {
        "MobileNetV2", "CifarMobileNetV2", "MobileNetV3Large", "MobileNetV3Small", "EfficientNetB0",
        "PaperW075At128C7", "CifarW05OneChannelAt28C5", "V3CustomOneChannelAt80C9", "B0W05D05At64C5", "EffCustomTwoChannelsAt48C6",
        "PaperNonLinearAt64C5", "CifarNonLinearAt32C10", "CifarNoShortcutAt32C10",
        "PaperExpansionAt64C5", "CifarExpansionAt32C10",
    };

    public static TheoryData<string> Models => new(ModelNames);

    /// <summary>A model with random weights and BatchNorm statistics, in eval mode, and metadata to export it with.</summary>
    internal static (CatalogEntry Entry, nn.Module<Tensor, Tensor> Model, OnnxMetadata Metadata) Prepare(string name, int seed = 1)
    {
        var entry = ModelCatalog.Get("ArchGen.Onnx.Tests.Models." + name);
        torch.manual_seed(seed);
        var model = entry.Create();
        using (torch.no_grad())
        {
            foreach (var (_, module) in model.named_modules())
            {
                if (module is TorchSharp.Modules.BatchNorm2d bn)
                {
                    bn.weight!.uniform_(0.5, 1.5);
                    bn.bias!.normal_(0, 0.2);
                    bn.running_mean!.normal_(0, 0.2);
                    bn.running_var!.uniform_(0.5, 1.5);
                }
                else if (module is TorchSharp.Modules.Linear linear)
                {
                    linear.weight!.normal_(0, 0.05);
                    linear.bias!.normal_(0, 0.05);
                }
            }
        }

        model.eval();
        var f = entry.Facts;
        var metadata = new OnnxMetadata(
            f.Name,
            Enumerable.Range(0, f.Classes).Select(i => "class " + i).ToArray(),
            Enumerable.Repeat(0.5f, f.InputChannels).ToArray(),
            Enumerable.Repeat(0.25f, f.InputChannels).ToArray(),
            f.InputSize,
            f.InputChannels);
        return (entry, model, metadata);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void OnnxRuntimeComputesTheModelsLogits(string name)
    {
        using var dir = new TempDir();
        var (entry, model, metadata) = Prepare(name);
        using (model)
        {
            string path = dir[name + ".onnx"];
            OnnxExporter.Save(entry, model, metadata, path);
            Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
            using var onnx = OnnxClassifier.Load(path, new OnnxSessionSettings(Threads: 2));
            Assert.Equal(metadata.ClassNames, onnx.Metadata.ClassNames);
            Assert.Equal(metadata.Mean, onnx.Metadata.Mean);

            foreach (int batch in new[] { 1, 3 })
            {
                using var scope = torch.NewDisposeScope();
                var x = torch.randn(batch, entry.Facts.InputChannels, entry.Facts.InputSize, entry.Facts.InputSize);
                Tensor expected;
                using (torch.no_grad()) expected = model.forward(x);
                float[] actual = onnx.Run(x.data<float>().ToArray(), batch);
                var got = torch.tensor(actual, expected.shape);
                double delta = (got - expected).abs().max().ToDouble();
                output.WriteLine($"{name}, batch {batch}: max |Δlogit| = {delta:E2} (logits up to {expected.abs().max().ToDouble():F3})");
                Assert.True(delta <= Tolerance, $"{name}, batch {batch}: ONNX Runtime differs from TorchSharp by {delta:E3}");
            }
        }
    }

    [Fact]
    public void TheGraphIsSelfContainedWithASymbolicBatchAndTheMetadata()
    {
        var (entry, model, metadata) = Prepare("CifarMobileNetV2");
        using (model)
        {
            var proto = OnnxExporter.Build(entry, model, metadata);
            Assert.Equal(OnnxExporter.IrVersion, proto.IrVersion);
            Assert.Equal(OnnxExporter.Opset, Assert.Single(proto.OpsetImport).Version);
            var input = Assert.Single(proto.Graph.Input);
            Assert.Equal("input", input.Name);
            Assert.Equal("batch", input.Type.TensorType.Shape.Dim[0].DimParam);
            Assert.Equal(new long[] { 3, 32, 32 }, input.Type.TensorType.Shape.Dim.Skip(1).Select(d => d.DimValue));
            Assert.Equal("logits", Assert.Single(proto.Graph.Output).Name);
            Assert.DoesNotContain(proto.Graph.Node, n => n.OpType == "BatchNormalization");

            // Every weight is an initializer: the state_dict's parameters, BatchNorm folded into conv biases.
            long weights = proto.Graph.Initializer.Sum(t => t.Dims.Aggregate(1L, (a, b) => a * b));
            long bnParameters = model.named_parameters().Where(p => p.name.Contains("bn") || p.name.Contains("shortcut.1")).Sum(p => p.parameter.numel());
            long convOutputs = model.named_modules().Select(m => m.module).OfType<TorchSharp.Modules.Convolution>().Sum(c => c.out_channels);
            Assert.Equal(CifarMobileNetV2Parameters - bnParameters + convOutputs, weights);
            Assert.Contains(proto.MetadataProps, p => p.Key == OnnxMetadata.Keys.ClassNames && p.Value.Contains("class 9"));
        }
    }

    const long CifarMobileNetV2Parameters = 2_296_922;

    /// <summary>
    /// The residual between expansions is one <c>Add</c> per block that takes it, of the block before's expanded
    /// tensor (after its own <c>Add</c>, if any) and this block's expansion, feeding the depthwise convolution.
    /// </summary>
    [Fact]
    public void TheResidualBetweenExpansionsAddsTheExpandedTensorOfTheBlockBefore()
    {
        var (entry, model, metadata) = Prepare("CifarExpansionAt32C10");
        using (model)
        {
            var blocks = ((ArchGen.Blocks.GeneratedModel)model).ForwardLayers.OfType<ArchGen.Blocks.InvertedResidual>().ToList();
            Assert.Equal(new[] { 3, 4 }, blocks.Select((b, i) => (b, i)).Where(p => p.b.TakesWide).Select(p => p.i));
            Assert.Equal(new[] { 2, 3 }, blocks.Select((b, i) => (b, i)).Where(p => p.b.PassesWide).Select(p => p.i));
            var graph = OnnxExporter.Build(entry, model, metadata).Graph;
            var adds = graph.Node.Where(n => n.OpType == "Add" && n.Name.EndsWith(".wide", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, adds.Count);
            string? passed = null;
            foreach (var add in adds)
            {
                // This block's expansion (a Relu after the expansion's convolution), then the tensor the block before passed on.
                Assert.EndsWith(".expand.relu", add.Input[0], StringComparison.Ordinal);
                var producer = graph.Node.Single(n => n.Output.Contains(add.Input[1]));
                Assert.True(producer.Name.EndsWith(".expand.relu", StringComparison.Ordinal) || producer.Name.EndsWith(".wide", StringComparison.Ordinal), producer.Name);
                if (passed is not null) Assert.Equal(passed, add.Input[1]);
                passed = add.Output[0];
                var depthwise = Assert.Single(graph.Node, n => n.Input.Contains(add.Output[0]) && n.OpType == "Conv");
                Assert.Contains(".depthwise", depthwise.Name, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheMetadataRecordsWhetherTheRunUsedFlipTestTimeAugmentation(bool flip)
    {
        using var dir = new TempDir();
        var (entry, model, metadata) = Prepare("CifarW05OneChannelAt28C5");
        using (model)
        {
            string path = dir["m.onnx"];
            OnnxExporter.Save(entry, model, metadata with { FlipTta = flip }, path);
            using var onnx = OnnxClassifier.Load(path, new OnnxSessionSettings(Threads: 1));
            Assert.Equal(flip, onnx.Metadata.FlipTta);
        }

        // A model exported before the key was written reads as without; a value that is not a boolean is named.
        var properties = metadata.ToProperties().ToDictionary(p => p.Key, p => p.Value);
        properties.Remove(OnnxMetadata.Keys.FlipTta);
        Assert.False(OnnxMetadata.FromProperties(properties, "old.onnx").FlipTta);
        properties[OnnxMetadata.Keys.FlipTta] = "yes";
        var e = Assert.Throws<InvalidDataException>(() => OnnxMetadata.FromProperties(properties, "odd.onnx"));
        Assert.Contains("odd.onnx", e.Message);
        Assert.Contains(OnnxMetadata.Keys.FlipTta, e.Message);
    }

    [Fact]
    public void MetadataThatDoesNotFitTheModelIsRefused()
    {
        var (entry, model, metadata) = Prepare("CifarMobileNetV2");
        using (model)
        {
            Assert.Throws<ArgumentException>(() => OnnxExporter.Build(entry, model, metadata with { ClassNames = new[] { "only one" } }));
            Assert.Throws<InvalidDataException>(() => OnnxExporter.Build(entry, model, metadata with { Std = new[] { 1f, 0f, 1f } }));
        }
    }

    [Fact]
    public void LoadingSomethingElseNamesTheFile()
    {
        using var dir = new TempDir();
        string garbage = dir["garbage.onnx"];
        File.WriteAllBytes(garbage, new byte[] { 1, 2, 3, 4, 5 });
        var e = Assert.Throws<InvalidDataException>(() => OnnxClassifier.Load(garbage));
        Assert.Contains(garbage, e.Message);

        // A valid ONNX model without ArchGen's metadata.
        var (entry, model, metadata) = Prepare("B0W05D05At64C5");
        using (model)
        {
            var proto = OnnxExporter.Build(entry, model, metadata);
            proto.MetadataProps.Clear();
            string bare = dir["bare.onnx"];
            File.WriteAllBytes(bare, Google.Protobuf.MessageExtensions.ToByteArray(proto));
            e = Assert.Throws<InvalidDataException>(() => OnnxClassifier.Load(bare));
            Assert.Contains("archgen.model", e.Message);
        }
    }

    [SkippableFact]
    public void OnnxCheckerAcceptsEveryExport()
    {
        bool available = File.Exists("/usr/bin/python3") && Toolchain.Run("/usr/bin/python3", Path.GetTempPath(), "-c", "import onnx").Code == 0;
        if (Environment.GetEnvironmentVariable("ARCHGEN_REQUIRE_ONNX") == "1")
            Assert.True(available, "ARCHGEN_REQUIRE_ONNX=1 but /usr/bin/python3 cannot import onnx (apt-get install python3-onnx)");
        Skip.IfNot(available, "needs /usr/bin/python3 with onnx (apt-get install python3-onnx)");

        using var dir = new TempDir();
        var paths = new List<string>();
        foreach (var name in ModelNames)
        {
            var (entry, model, metadata) = Prepare(name);
            using (model)
            {
                string path = dir[name + ".onnx"];
                OnnxExporter.Save(entry, model, metadata, path);
                paths.Add(path);
            }
        }

        string script = "import sys, onnx\n" +
                        "for p in sys.argv[1:]:\n" +
                        "    onnx.checker.check_model(onnx.load(p), full_check=True)\n" +
                        "print('checked', len(sys.argv) - 1)\n";
        var (code, text) = Toolchain.Run("/usr/bin/python3", dir.Path, ["-c", script, .. paths]);
        Assert.True(code == 0 && text.Contains($"checked {paths.Count}"), text);
    }
}
