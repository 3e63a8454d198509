using ArchGen.Generator.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Generator.Tests;

/// <summary>MobileNetV3 and EfficientNet compiled from their papers' tables are torchvision's networks.</summary>
[Collection(TorchGlobalGeneratorCollection.Name)]
public class FamilyTests
{
    public static TheoryData<string> Configurations => new(
        File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Expected", "counts.tsv")).Where(l => l.Length > 0).Select(l => l.Split('\t')[0]));

    [Theory]
    [MemberData(nameof(Configurations))]
    public void ParameterAndMultiplyAddCountsEqualTorchvisions(string name)
    {
        var line = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Expected", "counts.tsv")).Single(l => l.StartsWith(name + "\t", StringComparison.Ordinal)).Split('\t');
        var facts = ModelCatalog.Get(name).Facts;
        Assert.Equal(long.Parse(line[1]), facts.ParameterCount);
        Assert.Equal(long.Parse(line[2]), facts.MultiplyAdds);
    }

    [Fact]
    public void TheIssuesReferenceNumbers()
    {
        Assert.Equal(5_483_032L, V3Large.ParameterCount);
        Assert.Equal(216_589_760L, V3Large.MultiplyAdds);
        Assert.Equal(2_542_856L, V3Small.ParameterCount);
        Assert.Equal(56_510_400L, V3Small.MultiplyAdds);
        Assert.Equal(5_288_548L, B0.ParameterCount);
        Assert.Equal(385_814_752L, B0.MultiplyAdds);
    }

    private static string[] Expected(string file, Func<string, string> select) =>
        File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Expected", "keys", file))
            .Where(l => l.Length > 0).Select(select).OrderBy(l => l, StringComparer.Ordinal).ToArray();

    [Theory]
    [InlineData("V3Large", "torchvision_mobilenet_v3_large")]
    [InlineData("V3Small", "torchvision_mobilenet_v3_small")]
    [InlineData("B0", "torchvision_efficientnet_b0")]
    public void StateDictKeysShapesAndModulePathsEqualTorchvisions(string model, string original)
    {
        using var module = ModelCatalog.Get(model).Create();
        var keys = module.state_dict().Select(kv => kv.Key + "\t" + string.Join(",", kv.Value.shape)).OrderBy(l => l, StringComparer.Ordinal).ToArray();
        Assert.Equal(Expected(original + ".tsv", l => l), keys);
        var paths = module.named_modules().Select(m => m.name).Where(n => n.Length > 0).OrderBy(n => n, StringComparer.Ordinal).ToArray();
        Assert.Equal(Expected(original + ".modules.txt", l => l.Split('\t')[0]), paths);
        Assert.Equal(ModelCatalog.Get(model).Facts.ParameterCount, module.parameters().Sum(p => p.numel()));
    }

    [Theory]
    [InlineData("V3SmallW05At96C7", 96)]
    [InlineData("V3Custom1ChAt80C9", 80)]
    [InlineData("B0W05D05At64C5", 64)]
    [InlineData("EffCustom1ChAt48C6", 48)]
    public void BuildsRunsFusesAndTrains(string name, int size)
    {
        torch.manual_seed(41);
        var entry = ModelCatalog.Get(name);
        using var model = entry.Create();
        Assert.Equal(entry.Facts.ParameterCount, model.parameters().Sum(p => p.numel()));
        using var x = torch.randn(3, entry.Facts.InputChannels, size, size);

        model.eval();
        using (torch.no_grad())
        {
            foreach (var (_, m) in model.named_modules())
            {
                if (m is TorchSharp.Modules.BatchNorm2d bn)
                {
                    bn.running_mean!.normal_(0, 0.2);
                    bn.running_var!.uniform_(0.5, 1.5);
                    bn.bias!.normal_(0, 0.2);
                }
            }
        }

        using var y = model.forward(x);
        Assert.Equal(new long[] { 3, entry.Facts.Classes }, y.shape);
        using var fused = entry.Fuse(model);
        using var z = fused.forward(x);
        using var diff = (y - z).abs().max();
        Assert.True(diff.ToDouble() < 1e-4, $"fused differs by {diff.ToDouble()}");
        Assert.DoesNotContain(fused.named_modules(), m => m.module is TorchSharp.Modules.BatchNorm2d or ArchGen.Blocks.StochasticDepth);

        // Training mode for BatchNorm; dropout and stochastic depth stay off: they draw from torch's global generator,
        // which tests running in parallel share, so their masks (and whether six steps lower the loss) would vary.
        model.train();
        foreach (var (_, m) in model.named_modules())
        {
            if (m is TorchSharp.Modules.Dropout or ArchGen.Blocks.StochasticDepth) m.eval();
        }

        using var optimizer = torch.optim.SGD(model.parameters(), 0.05);
        using var labels = torch.tensor(new long[] { 0, 1, 2 });
        double first = 0, last = 0;
        for (int step = 0; step < 6; step++)
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.forward(x), labels);
            loss.backward();
            optimizer.step();
            last = loss.ToDouble();
            if (step == 0) first = last;
        }

        Assert.True(double.IsFinite(last) && last < first, $"loss went from {first} to {last}");
    }

    [Fact]
    public void StochasticDepthGrowsLinearlyOverTheBlocksAndActsOnlyInTraining()
    {
        using var model = new B0();
        var rates = new[] { model.Block1, model.Block2, model.Block8, model.Block16 }.Select(b => b.StochasticDepth!.P).ToArray();
        Assert.Equal(new[] { 0.0, 0.2 * 1 / 16, 0.2 * 7 / 16, 0.2 * 15 / 16 }, rates);
        Assert.Equal("InvertedResidual 80->480->80 3x3, SiLU, SE 20, residual, drop path 0.0875", B0.Facts.Layers[8].Kind);

        // In evaluation the forward is deterministic; in training the residual branches are dropped at random.
        torch.manual_seed(42);
        using var x = torch.randn(4, 3, 64, 64);
        model.eval();
        using var a = model.forward(x);
        using var b = model.forward(x);
        using var same = a.eq(b).all();
        Assert.True(same.item<bool>());
    }

    [Fact]
    public void FeatureStagesFollowTheStrides()
    {
        Assert.Equal(new[] { 2, 4, 8, 16, 32 }, V3Large.Facts.Stages.Select(s => s.Stride));
        Assert.Equal(new[] { 16, 24, 40, 112, 960 }, V3Large.Facts.Stages.Select(s => s.Channels));
        Assert.Equal(new[] { 2, 4, 8, 16, 32 }, V3Small.Facts.Stages.Select(s => s.Stride));
        Assert.Equal("features.0", V3Small.Facts.Stages[0].Layer); // the first bneck has stride 2: the stem ends the stride-2 stage
        Assert.Equal(new[] { 16, 24, 40, 112, 1280 }, B0.Facts.Stages.Select(s => s.Channels));
        Assert.Equal(40, B0.FeatureMaps.Stride8Channels);
    }

    [Fact]
    public void HooksFireOnEveryBlockAndLayer()
    {
        using var model = new V3SmallW05At96C7();
        var fired = new HashSet<string>();
        foreach (var (name, module) in model.named_modules())
        {
            if (module is nn.Module<Tensor, Tensor> m)
            {
                string path = name;
                m.register_forward_hook((_, _, output) =>
                {
                    fired.Add(path);
                    return output;
                });
            }
        }

        using var x = torch.randn(2, 3, 96, 96);
        using var y = model.forward(x);
        var silent = model.named_modules().Select(m => m.name).Where(n => n.Length > 0 && !fired.Contains(n)).ToArray();
        Assert.Equal(new[] { "features" }, silent);
    }
}
