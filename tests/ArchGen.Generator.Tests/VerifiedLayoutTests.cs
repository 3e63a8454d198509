using ArchGen.Blocks;
using ArchGen.Generator.Tests.Models;
using ArchGen.Performance;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Generator.Tests;

/// <summary>
/// The verified fast path (<see cref="VerifiedLayout"/>): a layer runs channels-last only where its results in that
/// layout were shown to match the plain layout's on this machine; elsewhere it runs plain, and stays exact.
/// </summary>
[Trait("Category", "Parity")]
public class VerifiedLayoutTests
{
    /// <summary>A layer whose channels-last kernel is wrong: its output (or only its gradient) changes with the layout of its input, as LibTorch's did on AVX-512 machines.</summary>
    sealed class LayoutSensitive(bool wrongGradientOnly) : nn.Module<Tensor, Tensor>("LayoutSensitive")
    {
        readonly bool gradientOnly = wrongGradientOnly;

        public override Tensor forward(Tensor x)
        {
            if (!MemoryLayout.IsChannelsLast(x)) return x * 2;
            // Same output, but in channels-last the gradient is 30 % off (as the squeeze-and-excitation weights' were).
            return gradientOnly ? x * 2 + (x - x.detach()) * 0.6 : x * 2.5;
        }
    }

    /// <summary>
    /// Every convolution's input layout during <paramref name="forward"/>, by the state_dict name of the convolution.
    /// A shape's first forward also runs each layer's layout check, whose convolutions fire the hooks too: the last call
    /// of each convolution, the forward's own, is the one kept.
    /// </summary>
    internal static Dictionary<string, bool> ConvolutionLayouts(nn.Module<Tensor, Tensor> model, Func<Tensor> forward)
    {
        var seen = new Dictionary<string, bool>();
        var removers = new List<Action>();
        foreach (var (name, module) in model.named_modules())
        {
            if (module is TorchSharp.Modules.Conv2d conv)
            {
                var hook = conv.register_forward_pre_hook((_, input) =>
                {
                    seen[name] = MemoryLayout.IsChannelsLast(input);
                    return input;
                });
                removers.Add(hook.remove);
            }
        }
        using (var output = forward()) { }
        foreach (var remove in removers) remove();
        return seen;
    }

    [Fact]
    public void AWrongOutputInChannelsLastIsCaughtAndTheLayerRunsPlain()
    {
        using var model = new TinyCifarNet();
        var layer = new LayoutSensitive(wrongGradientOnly: false);
        using var x = torch.randn(2, 24, 8, 8);
        using (torch.no_grad())
        {
            var verdict = VerifiedLayout.Decide(layer, x);
            Assert.False(verdict.ChannelsLast);
            Assert.Contains("output", verdict.Why);
        }
    }

    [Fact]
    public void WhereGradientsAreRecordedEveryLayerRunsPlainWhateverItsForwardDoes()
    {
        using var model = new TinyCifarNet();
        var layer = new LayoutSensitive(wrongGradientOnly: true);
        using var x = torch.randn(2, 24, 8, 8);
        using (torch.no_grad())
            Assert.True(VerifiedLayout.Decide(layer, x).ChannelsLast); // its forward is right in both layouts
        // Its gradient is not, and backward faults come and go, so no check clears channels-last for training.
        using var input = torch.randn(2, 24, 8, 8, requires_grad: true);
        var training = VerifiedLayout.Decide(layer, input);
        Assert.False(training.ChannelsLast);
        Assert.Contains("gradients are recorded", training.Why);
        Assert.False(VerifiedLayout.Decide(new TinyCifarNet().Block1, input).ChannelsLast); // a real block too
    }

    [Fact]
    public void ALayerMadeToDisagreeRunsPlainAndTheModelStaysExactlyThePlainModel()
    {
        torch.manual_seed(5);
        using var model = new TinyCifarNet();
        model.eval();
        using var x = torch.randn(4, 3, 16, 16);
        foreach (var layer in model.ForwardLayers) VerifiedLayout.InjectDisagreement(layer);
        using var noGrad = torch.no_grad();

        var layouts = ConvolutionLayouts(model, () => model.forward(x));
        Assert.NotEmpty(layouts);
        Assert.All(layouts, l => Assert.False(l.Value, $"{l.Key} ran channels-last after its check disagreed"));
        Assert.All(VerifiedLayout.Report(model), e => Assert.Contains("fault injection", e.Verdict.Why));

        // Bit for bit the model run plain by policy.
        using var injected = model.forward(x);
        Tensor plain;
        using (VerifiedLayout.Use(LayoutPolicy.Plain)) plain = model.forward(x);
        Assert.True(injected.equal(plain).all().item<bool>());
    }

    [Fact]
    public void TheCheckLeavesTheModelAsItWas()
    {
        torch.manual_seed(11);
        using var model = new TinyPaperNet();
        model.train();
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        // Train mode without gradients: each check runs the layer's BatchNorm in training, which updates its statistics.
        var check = VerifiedLayout.Verify(model, [3, 3, 64, 64], withGradients: false);
        var entries = check.Layers;
        Assert.Equal(("3x3x64x64", "train"), (check.Input, check.Mode));

        Assert.Equal(model.ForwardLayers.Count - 1, entries.Count); // every layer but the classifier
        Assert.All(entries, e => Assert.Equal("train", e.Mode));
        Assert.All(entries, e => Assert.False(double.IsNaN(e.Verdict.Worst), $"{e.Layer} was not checked"));
        foreach (var (key, value) in model.state_dict())
            Assert.True(value.equal(before[key]).all().item<bool>(), $"{key} changed"); // BatchNorm statistics and num_batches_tracked restored
        Assert.All(model.parameters(), p => Assert.True(p.grad is null, "a parameter's .grad was touched"));
        Assert.All(VerifiedLayout.Verify(model, [3, 3, 64, 64], withGradients: true).Layers, e => Assert.False(e.Verdict.ChannelsLast));
        Assert.True(model.training);
        Assert.All(model.named_modules(), m => Assert.True(m.module.training, $"{m.name} was left in eval mode"));
    }

    [Fact]
    public void VerdictsAreCachedPerShapeAndModeAndNamedByStateDictPrefix()
    {
        using var model = new CifarNet();
        model.eval();
        using (torch.no_grad())
        {
            using var a = model.forward(torch.randn(2, 3, 32, 32));
            using var b = model.forward(torch.randn(2, 3, 32, 32));
            using var c = model.forward(torch.randn(3, 3, 32, 32));
        }
        var report = VerifiedLayout.Report(model);
        int layers = model.ForwardLayers.Count - 1; // the pooling is checked too; the classifier takes 2-D features
        Assert.Equal(2 * layers, report.Count); // batch 2 once, batch 3 once
        Assert.Equal(["2x3x32x32", "3x3x32x32"], report.Where(e => e.Layer == "conv1, bn1").Select(e => e.Input).Order().ToArray());
        Assert.Contains(report, e => e.Layer == "layers.0");
        // kuangliu's pooling is functional, not a module of the model, so model.eval() does not reach it (it has no mode to have).
        Assert.All(report.Where(e => e.Layer != "AdaptiveAvgPool2d"), e => Assert.Equal("eval", e.Mode));
    }

    /// <summary>Where every check passes, the model convolves channels-last (the fast path is kept); where a layer's fails, only that layer runs plain.</summary>
    [Fact]
    public void OnlyTheLayerThatDisagreesLeavesTheFastPath()
    {
        using var model = new CifarNet();
        model.eval();
        using var x = torch.randn(2, 3, 32, 32);
        using var noGrad = torch.no_grad();
        var all = ConvolutionLayouts(model, () => model.forward(x));
        var verdicts = VerifiedLayout.Report(model).ToDictionary(e => e.Layer, e => e.Verdict.ChannelsLast);
        foreach (var (conv, channelsLast) in all)
        {
            string layer = conv.StartsWith("layers.", StringComparison.Ordinal) ? string.Join('.', conv.Split('.').Take(2)) : conv is "conv1" ? "conv1, bn1" : "conv2, bn2";
            Assert.True(verdicts[layer] == channelsLast, $"{conv} ran {(channelsLast ? "channels-last" : "plain")} against its layer's verdict");
        }

        VerifiedLayout.InjectDisagreement(model.Block3);
        var after = ConvolutionLayouts(model, () => model.forward(x));
        Assert.All(after.Where(c => c.Key.StartsWith("layers.3.", StringComparison.Ordinal)), c => Assert.False(c.Value));
        Assert.All(after.Where(c => !c.Key.StartsWith("layers.3.", StringComparison.Ordinal)), c => Assert.Equal(all[c.Key], c.Value));
    }
}
