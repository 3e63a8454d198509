using ArchGen.Generator.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Generator.Tests;

/// <summary>Builds the generated models and checks them against the originals.</summary>
[Collection(TorchGlobalGeneratorCollection.Name)]
public class ModelTests
{
    [Fact]
    public void CompileTimeCountsMatchThePaperAndTorchvision()
    {
        Assert.Equal(3_504_872L, PaperNet.ParameterCount);
        Assert.Equal(300_774_272L, PaperNet.MultiplyAdds);
        Assert.Equal(2_296_922L, CifarNet.ParameterCount);
        Assert.Equal(91_154_944L, CifarNet.MultiplyAdds);
        Assert.Equal(1_677_128L, PaperW035.ParameterCount);
        Assert.Equal(1_968_680L, PaperW050.ParameterCount);
        Assert.Equal(2_636_424L, PaperW075.ParameterCount);
        Assert.Equal(6_108_776L, PaperW140.ParameterCount);
    }

    [Fact]
    public void FactsLayerTableAddsUpToTheConstants()
    {
        foreach (var facts in new[] { PaperNet.Facts, CifarNet.Facts, FashionNet.Facts, TinyPaperNet.Facts, TinyCifarNet.Facts, PaperW140.Facts })
        {
            Assert.Equal(facts.ParameterCount, facts.Layers.Sum(l => l.Parameters));
            Assert.Equal(facts.MultiplyAdds, facts.Layers.Sum(l => l.MultiplyAdds));
        }

        Assert.Equal("PaperNet", PaperNet.Facts.Name);
        Assert.Equal("ArchGen.Generator.Tests.Models.PaperNet", PaperNet.Facts.FullName);
        Assert.Equal("MobileNetV2, Cifar flavor", CifarNet.Facts.Architecture);
        Assert.Equal(0.2, PaperNet.Facts.Dropout);
        Assert.Equal(0.0, CifarNet.Facts.Dropout);
        Assert.Equal("features.0", PaperNet.Facts.Layers[0].Name);
        Assert.Equal("conv1, bn1", CifarNet.Facts.Layers[0].Name);
        Assert.Equal("layers.3", CifarNet.Facts.Layers[4].Name);
        Assert.Equal("InvertedResidual 24->144->32 3x3 s2, ReLU", CifarNet.Facts.Layers[4].Kind);
        Assert.Equal("linear", CifarNet.Facts.Layers[^1].Name);
        Assert.Equal("3x224x224", PaperNet.Facts.Layers[0].InputShape);
        Assert.Equal("32x112x112", PaperNet.Facts.Layers[0].OutputShape);
    }

    [Fact]
    public void EveryModelRegistersItselfInTheCatalog()
    {
        foreach (var name in new[] { "PaperNet", "CifarNet", "FashionNet", "TinyPaperNet", "TinyCifarNet", "ArchGen.Generator.Tests.Models.PaperW035" })
        {
            Assert.True(ModelCatalog.TryGet(name, out var entry), name);
            Assert.Contains(entry.Facts.Name, name);
        }

        var tiny = ModelCatalog.Get("TinyCifarNet");
        using var model = tiny.Create();
        Assert.IsType<TinyCifarNet>(model);
        using var fused = tiny.Fuse(model);
        Assert.IsType<TinyCifarNet.Fused>(fused);
    }

    private static string[] Expected(string file, Func<string, string> select) =>
        File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Expected", "keys", file))
            .Where(l => l.Length > 0)
            .Select(select)
            .OrderBy(l => l, StringComparer.Ordinal)
            .ToArray();

    [Theory]
    [InlineData("PaperNet", "torchvision_mobilenet_v2")]
    [InlineData("CifarNet", "kuangliu_cifar_mobilenetv2")]
    public void StateDictKeysAndShapesEqualTheOriginals(string model, string original)
    {
        using var module = ModelCatalog.Get(model).Create();
        var actual = module.state_dict()
            .Select(kv => kv.Key + "\t" + string.Join(",", kv.Value.shape))
            .OrderBy(l => l, StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(Expected(original + ".tsv", l => l), actual);
    }

    [Theory]
    [InlineData("PaperNet", "torchvision_mobilenet_v2")]
    [InlineData("CifarNet", "kuangliu_cifar_mobilenetv2")]
    public void NamedModulesPathsEqualTheOriginals(string model, string original)
    {
        using var module = ModelCatalog.Get(model).Create();
        var actual = module.named_modules().Select(m => m.name).Where(n => n.Length > 0).OrderBy(n => n, StringComparer.Ordinal).ToArray();
        Assert.Equal(Expected(original + ".modules.txt", l => l.Split('\t')[0]), actual);
    }

    [Fact]
    public void PaperNetBuildsCountsAndRunsAForwardPass()
    {
        torch.manual_seed(1);
        using var model = new PaperNet();
        Assert.Equal(PaperNet.ParameterCount, model.parameters().Sum(p => p.numel()));
        model.eval();
        using var x = torch.randn(1, 3, 224, 224);
        using var y = model.forward(x);
        Assert.Equal(new long[] { 1, 1000 }, y.shape);
        Assert.True(torch.isfinite(y).all().item<bool>());
    }

    [Fact]
    public void CifarNetBuildsCountsAndRunsAForwardPass()
    {
        torch.manual_seed(2);
        using var model = new CifarNet();
        Assert.Equal(CifarNet.ParameterCount, model.parameters().Sum(p => p.numel()));
        using var x = torch.randn(2, 3, 32, 32);
        using var y = model.forward(x);
        Assert.Equal(new long[] { 2, 10 }, y.shape);
    }

    [Fact]
    public void TheClassCountCanDifferFromTheDeclaredOne()
    {
        using var model = new CifarNet(classes: 3);
        Assert.Equal(new long[] { 3, 1280 }, model.Classifier.Output.weight!.shape);
        Assert.Equal(CifarNet.ParameterCount - (7 * 1281), model.parameters().Sum(p => p.numel()));
        using var x = torch.randn(2, 3, 32, 32);
        using var y = model.forward(x);
        Assert.Equal(new long[] { 2, 3 }, y.shape);

        var entry = ModelCatalog.Get("PaperNet");
        using var paper = entry.Create(5);
        Assert.Equal(new long[] { 5, 1280 }, ((PaperNet)paper).Classifier.Output.weight!.shape);
        using var declared = entry.Create();
        Assert.Equal(new long[] { 1000, 1280 }, ((PaperNet)declared).Classifier.Output.weight!.shape);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CifarNet(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => entry.Create(0));
    }

    [Fact]
    public void FashionNetTakesOneChannel()
    {
        using var model = new FashionNet();
        Assert.Equal(FashionNet.ParameterCount, model.parameters().Sum(p => p.numel()));
        Assert.Equal(new long[] { 32, 1, 3, 3 }, model.Stem.Conv.weight!.shape);
        using var x = torch.randn(2, 1, 32, 32);
        using var y = model.forward(x);
        Assert.Equal(new long[] { 2, 10 }, y.shape);
    }

    [Fact]
    public void WidthVariantsBuildWithTheirCounts()
    {
        using var a = new PaperW035();
        Assert.Equal(PaperW035.ParameterCount, a.parameters().Sum(p => p.numel()));
        using var b = new PaperW140();
        Assert.Equal(PaperW140.ParameterCount, b.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void TypedFieldsAreTheRegisteredModulesAndRegisterOnce()
    {
        using var model = new PaperNet();
        var named = model.named_modules().ToDictionary(m => m.name, m => m.module);
        Assert.Same(model.Stem.Conv, named["features.0.0"]);
        Assert.Same(model.Block5.Depthwise.Conv, named["features.5.conv.1.0"]);
        Assert.Same(model.Block1.Depthwise.Conv, named["features.1.conv.0.0"]);
        Assert.Null(model.Block1.Expand);
        Assert.Same(model.Classifier, named["classifier"]);
        Assert.Same(model.Classifier.Output, named["classifier.1"]);
        Assert.Same(model.Head.Conv, named["features.18.0"]);
        Assert.Equal(model.parameters().Count(), model.named_parameters().Select(p => p.name).Distinct().Count());
        Assert.DoesNotContain(named.Keys, k => k.Contains("Stem") || k.Contains("Block"));
    }

    [Fact]
    public void KuangliuTypedFieldsAreTheFlatlyRegisteredLayers()
    {
        using var model = new CifarNet();
        var named = model.named_modules().ToDictionary(m => m.name, m => m.module);
        Assert.Same(model.Stem.Conv, named["conv1"]);
        Assert.Same(model.Stem.Norm, named["bn1"]);
        Assert.Same(model.Block3.Depthwise.Conv, named["layers.3.conv2"]);
        Assert.Same(model.Block0.Projection!.Conv, named["layers.0.shortcut.0"]);
        Assert.Same(model.Head.Norm, named["bn2"]);
        Assert.Same(model.Classifier.Output, named["linear"]);
        Assert.False(named.ContainsKey("layers.3.shortcut")); // stride-2 blocks have none, as in the exercise
        Assert.Empty(named["layers.2.shortcut"].named_children().ToList()); // identity: an empty nn.Sequential
    }

    [Fact]
    public void MovesToDoubleAndStillRunsAndFuses()
    {
        using var model = new TinyCifarNet();
        model.to(torch.float64);
        Assert.Equal(torch.float64, model.Block1.Depthwise.Conv.weight!.dtype);
        model.eval();
        using var x = torch.randn(new long[] { 2, 3, 16, 16 }, dtype: torch.float64);
        using var y = model.forward(x);
        using var fused = model.Fuse();
        using var z = fused.forward(x);
        Assert.Equal(torch.float64, z.dtype);
        Assert.True(torch.allclose(y, z, rtol: 1e-6, atol: 1e-8));
    }

    [Theory]
    [InlineData(typeof(TinyPaperNet), 64, 7)]
    [InlineData(typeof(TinyCifarNet), 16, 5)]
    public void SmallModelsTrain(Type type, int size, int classes)
    {
        torch.manual_seed(3);
        using var model = (nn.Module<Tensor, Tensor>)Activator.CreateInstance(type)!;
        Assert.Equal((long)type.GetField("ParameterCount")!.GetValue(null)!, model.parameters().Sum(p => p.numel()));
        model.train();
        using var optimizer = torch.optim.SGD(model.parameters(), 0.05);
        using var x = torch.randn(4, 3, size, size);
        using var labels = torch.tensor(new long[] { 0, 1, 2, 3 });
        float first = 0, last = 0;
        for (int step = 0; step < 8; step++)
        {
            optimizer.zero_grad();
            using var logits = model.forward(x);
            Assert.Equal(new long[] { 4, classes }, logits.shape);
            using var loss = nn.functional.cross_entropy(logits, labels);
            loss.backward();
            optimizer.step();
            float value = loss.item<float>();
            if (step == 0)
            {
                first = value;
            }

            last = value;
        }

        Assert.True(float.IsFinite(last));
        Assert.True(last < first, $"loss went from {first} to {last}");
    }
}
