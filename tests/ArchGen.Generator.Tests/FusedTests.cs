using ArchGen.Generator.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Generator.Tests;

/// <summary>The fused inference form (BatchNorm folded into the convolutions) computes the same logits as the model in eval mode.</summary>
[Trait("Category", "Parity")]
public class FusedTests
{
    /// <summary>Randomizes every BatchNorm's affine parameters and running statistics so folding mistakes show.</summary>
    private static void RandomizeBatchNorms(nn.Module model)
    {
        using var noGrad = torch.no_grad();
        foreach (var (_, module) in model.named_modules())
        {
            if (module is TorchSharp.Modules.BatchNorm2d bn)
            {
                bn.weight!.uniform_(0.5, 1.5);
                bn.bias!.normal_(0, 0.2);
                bn.running_mean!.normal_(0, 0.2);
                bn.running_var!.uniform_(0.5, 1.5);
            }
        }
    }

    private static void AssertFusedAgrees(nn.Module<Tensor, Tensor> model, Func<nn.Module<Tensor, Tensor>> fuse, Tensor x)
    {
        RandomizeBatchNorms(model);
        model.eval();
        using var fused = fuse();
        using var noGrad = torch.no_grad();
        using var expected = model.forward(x);
        using var actual = fused.forward(x);
        Assert.Equal(expected.shape, actual.shape);
        using var diff = (expected - actual).abs().max();
        double max = diff.item<float>();
        Assert.True(max < 1e-4, $"fused and unfused logits differ by {max}");

        // The check can fail: the logits really depend on the running statistics.
        using var spread = expected.std();
        Assert.True(spread.item<float>() > 1e-3);
    }

    [Fact]
    public void CifarFusedMatchesEvalMode()
    {
        torch.manual_seed(11);
        using var model = new CifarNet();
        using var x = torch.randn(2, 3, 32, 32);
        AssertFusedAgrees(model, () => model.Fuse(), x);
    }

    [Fact]
    public void PaperFusedMatchesEvalMode()
    {
        torch.manual_seed(12);
        using var model = new PaperNet();
        using var x = torch.randn(1, 3, 224, 224);
        AssertFusedAgrees(model, () => model.Fuse(), x);
    }

    [Fact]
    public void TinyModelsFusedMatchEvalModeThroughTheCatalog()
    {
        torch.manual_seed(13);
        foreach (var (name, size) in new[] { ("TinyPaperNet", 64), ("TinyCifarNet", 16), ("FashionNet", 32), ("TinyCifarExpansionNet", 16), ("TinyPaperExpansionNet", 64) })
        {
            var entry = ModelCatalog.Get(name);
            using var model = entry.Create();
            using var x = torch.randn(3, entry.Facts.InputChannels, size, size);
            AssertFusedAgrees(model, () => entry.Fuse(model), x);
        }
    }

    [Fact]
    public void FusedHasNoBatchNormAndBiasedConvolutions()
    {
        using var model = new TinyCifarNet();
        using var fused = model.Fuse();
        var modules = fused.named_modules().Select(m => m.module).ToList();
        Assert.DoesNotContain(modules, m => m is TorchSharp.Modules.BatchNorm2d);
        var convolutions = modules.OfType<TorchSharp.Modules.Convolution>().ToList();
        Assert.NotEmpty(convolutions);
        Assert.All(convolutions, c => Assert.NotNull(c.bias));
        Assert.False(fused.training);
    }
}
