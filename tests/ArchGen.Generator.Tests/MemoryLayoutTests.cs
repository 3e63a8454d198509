using ArchGen.Generator.Tests.Models;
using ArchGen.Performance;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Generator.Tests;

/// <summary>Generated forwards run their activations channels-last, whatever layout the caller's input has.</summary>
public class MemoryLayoutTests
{
    /// <summary>Runs <paramref name="model"/> on a plain (NCHW) input and returns every convolution's input layout.</summary>
    private static List<(string Name, bool ChannelsLast)> ConvolutionInputLayouts(nn.Module<Tensor, Tensor> model, Tensor x)
    {
        var seen = new List<(string, bool)>();
        var hooks = new List<Action>();
        foreach (var (name, module) in model.named_modules())
        {
            if (module is TorchSharp.Modules.Conv2d conv)
            {
                var remover = conv.register_forward_pre_hook((_, input) =>
                {
                    seen.Add((name, MemoryLayout.IsChannelsLast(input)));
                    return input;
                });
                hooks.Add(remover.remove);
            }
        }
        using (torch.no_grad())
        using (var output = model.forward(x)) { }
        foreach (var remove in hooks) remove();
        return seen;
    }

    private static void AssertAllChannelsLast(nn.Module<Tensor, Tensor> model, Tensor x)
    {
        var layouts = ConvolutionInputLayouts(model, x);
        Assert.NotEmpty(layouts);
        Assert.All(layouts, l => Assert.True(l.ChannelsLast, $"{l.Name} received a plain NCHW input"));
        Assert.False(MemoryLayout.IsChannelsLast(x)); // the caller's tensor is left as it was
    }

    [Theory]
    [InlineData("TinyCifarNet", 16)]
    [InlineData("TinyPaperNet", 64)]
    [InlineData("FashionNet", 32)] // one input channel
    public void ModelAndItsFusedFormConvolveChannelsLast(string name, int size)
    {
        var entry = ModelCatalog.Get(name);
        using var model = entry.Create();
        model.eval();
        using var x = torch.randn(2, entry.Facts.InputChannels, size, size);
        AssertAllChannelsLast(model, x);
        using var fused = entry.Fuse(model);
        AssertAllChannelsLast(fused, x);
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
