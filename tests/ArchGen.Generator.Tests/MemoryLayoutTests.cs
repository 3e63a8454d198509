using ArchGen.Blocks;
using ArchGen.Generator.Tests.Models;
using ArchGen.Performance;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Generator.Tests;

/// <summary>Generated forwards run each layer in the layout verified for it on this machine, whatever layout the caller's input has.</summary>
[Trait("Category", "Parity")]
public class MemoryLayoutTests
{
    /// <summary>Every convolution ran in the layout its layer's verdict (<see cref="VerifiedLayout"/>) gives it, and, where all verdicts are channels-last, the whole network did.</summary>
    private static void AssertEachLayerRunsInItsVerifiedLayout(GeneratedModel model, Tensor x)
    {
        Dictionary<string, bool> layouts;
        using (torch.no_grad()) layouts = VerifiedLayoutTests.ConvolutionLayouts(model, () => model.forward(x));
        Assert.NotEmpty(layouts);
        var verdicts = VerifiedLayout.Report(model); // this model's first forward: one shape, one mode per layer
        Assert.Equal(model.ForwardLayers.Count - 1, verdicts.Count);
        foreach (var (name, channelsLast) in layouts)
        {
            var layer = verdicts.Single(v => name.StartsWith(v.Layer + ".", StringComparison.Ordinal) || v.Layer.Split(", ").Contains(name));
            Assert.True(layer.Verdict.ChannelsLast == channelsLast, $"{name} received a {(channelsLast ? "channels-last" : "plain")} input against its verdict: {layer.Verdict.Why}");
        }
        Assert.False(MemoryLayout.IsChannelsLast(x)); // the caller's tensor is left as it was
    }

    [Theory]
    [InlineData("TinyCifarNet", 16)]
    [InlineData("TinyPaperNet", 64)]
    [InlineData("FashionNet", 32)] // one input channel
    public void ModelAndItsFusedFormConvolveInTheirVerifiedLayouts(string name, int size)
    {
        var entry = ModelCatalog.Get(name);
        using var model = entry.Create();
        model.eval();
        using var x = torch.randn(2, entry.Facts.InputChannels, size, size);
        AssertEachLayerRunsInItsVerifiedLayout((GeneratedModel)model, x);
        using var fused = entry.Fuse(model);
        AssertEachLayerRunsInItsVerifiedLayout((GeneratedModel)fused, x);
    }

    [Fact]
    public void PlainAndChannelsLastInputsGiveTheSameLogitsAndGradients()
    {
        // CifarNet has no dropout: the test needs no random state (other tests use the global generator concurrently).
        torch.manual_seed(21);
        using var model = new CifarNet();
        using var x = torch.randn(2, 3, 32, 32);
        using var packed = MemoryLayout.ChannelsLast(x);
        model.eval();
        using (torch.no_grad())
        {
            using var a = model.forward(x);
            using var b = model.forward(packed);
            Assert.True(a.allclose(b, rtol: 1e-5, atol: 1e-6));
        }

        model.train();
        var grads = new List<Tensor>();
        foreach (var input in new[] { x, packed })
        {
            model.zero_grad();
            using var loss = model.forward(input).square().mean();
            loss.backward();
            grads.Add(model.parameters().First(p => p.dim() == 4).grad!.clone());
        }
        Assert.True(grads[0].allclose(grads[1], rtol: 1e-4, atol: 1e-6));
        Assert.True(grads[0].abs().sum().item<float>() > 0);
    }
}
