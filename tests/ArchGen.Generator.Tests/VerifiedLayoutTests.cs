using ArchGen.Blocks;
using ArchGen.Generator.Tests.Models;
using ArchGen.Performance;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Generator.Tests;

/// <summary>
/// The verified fast paths (<see cref="VerifiedLayout"/>): each convolution takes the fastest path whose output and
/// gradients matched float64 on this machine for its shape; the check that decides runs on tensors of its own, so it is
/// invisible to the model's hooks, weights, other threads and the global random generator; a layer whose fast paths
/// are wrong runs plain, alone, and the model stays exact.
/// </summary>
[Trait("Category", "Parity")]
public class VerifiedLayoutTests
{
    /// <summary>Every convolution of <paramref name="model"/> with its state_dict name.</summary>
    internal static List<(string Name, VerifiedConv2d Conv)> Convolutions(nn.Module model) =>
        model.named_modules().Where(m => m.module is VerifiedConv2d).Select(m => (m.name, (VerifiedConv2d)m.module)).ToList();

    /// <summary>
    /// One layer's fast paths made wrong (a forward-only or a backward-only fault, in its own forward and in its check
    /// alike, as on a CPU whose kernels are wrong for it): that layer, and only that layer, runs plain, and the model's
    /// logits and gradients stay within float64's bounds. The fault has teeth: the faulty path is far from the truth.
    /// </summary>
    [Theory]
    [InlineData("forward", "layers.1.conv2")] // a depthwise convolution: channels-last, then plain
    [InlineData("backward", "layers.1.conv2")]
    [InlineData("forward", "layers.1.conv1")] // a 1x1 convolution: channels-last, then GEMM, then plain
    [InlineData("backward", "layers.1.conv3")]
    public void OnlyTheLayerWhoseFastPathsAreWrongRunsPlainAndTheModelStaysExact(string kind, string layer)
    {
        var fault = kind == "forward" ? LayoutFault.Forward : LayoutFault.Backward;
        torch.manual_seed(5);
        using var model = new TinyCifarNet();
        using (var random = new torch.Generator(9)) Exactness.RandomizeBatchNorm(model, random);
        long[] shape = [5, 3, 16, 16];
        var healthy = Measure(model, shape);
        var target = Convolutions(model).Single(c => c.Name == layer).Conv;

        VerifiedLayout.InjectFault(target, fault);
        var result = Exactness.Measure(model, shape, seed: 3);
        var verdicts = Verdicts(model, shape[0]);
        Assert.True(result.Exact, $"logits {result.LogitError:E1} (allowed {result.LogitBound:E1}), worst gradient {result.GradientError:E1} ({result.WorstParameter})");
        foreach (var (key, verdict) in verdicts)
        {
            if (key.Layer == layer)
            {
                // The backward fault leaves the forward right: inference keeps the fast path.
                bool faulty = fault == LayoutFault.Forward || key.Training;
                Assert.True(faulty == (verdict.Path == ConvPath.Plain), $"{key}: {verdict.Why}");
                if (faulty) Assert.Contains("fault injection", verdict.Why);
            }
            else
            {
                Assert.True(healthy[key].Path == verdict.Path, $"{key} changed path: {verdict.Why}");
            }
        }

        // Without the check, the faulty path would be used: it is far from the plain one.
        var s = target.Structure;
        using var x = torch.randn(2, s.In, 8, 8, requires_grad: true);
        var wrong = ConvPaths.Compute(ConvPath.ChannelsLast, x, target.weight, target.bias, s, fault);
        var right = ConvPaths.Compute(ConvPath.Plain, x, target.weight, target.bias, s);
        if (fault == LayoutFault.Forward)
        {
            Assert.True(Exactness.RelativeError(wrong, right) > 1e-2);
        }
        else
        {
            var gradWrong = torch.autograd.grad([wrong.sum()], [x])[0];
            var gradRight = torch.autograd.grad([right.sum()], [x])[0];
            Assert.True(Exactness.RelativeError(gradWrong, gradRight) > 1e-2);
        }
    }

    /// <summary>
    /// A 1x1 convolution whose channels-last kernel alone is wrong (as on the AMD EPYC VM) falls back to the matrix
    /// product over the same channels-last activations, in training and in inference, on large maps and small ones
    /// alike, and its output is the definition's.
    /// </summary>
    [Theory]
    [InlineData(8, ConvPath.Gemm)]
    [InlineData(4, ConvPath.Gemm)]
    public void WhenChannelsLastAloneIsWrongAPointwiseConvolutionRunsAsAMatrixProduct(int size, ConvPath expected)
    {
        torch.manual_seed(11);
        using var conv = new VerifiedConv2d(24, 40, 1, bias: true);
        VerifiedLayout.InjectFault(conv, LayoutFault.ChannelsLastForward);
        using var x = MemoryLayout.ChannelsLast(torch.randn(3, 24, size, size));
        foreach (bool training in new[] { true, false })
        {
            using var mode = training ? torch.enable_grad() : torch.no_grad();
            using var input = x.detach().requires_grad_(training);
            using var y = conv.call(input);
            var verdict = VerifiedLayout.Decide(conv, input);
            Assert.True(expected == verdict.Path, verdict.Why);
            Assert.Equal([ConvPath.ChannelsLast], verdict.Rejected.Select(r => r.Path));
            Assert.Contains("channels-last off by", verdict.Why);
            using var truth = ConvPaths.Compute(ConvPath.Plain, input.detach().to_type(ScalarType.Float64), conv.weight.detach().to_type(ScalarType.Float64), conv.bias!.detach().to_type(ScalarType.Float64), conv.Structure);
            Assert.True(Exactness.RelativeError(y.detach().to_type(ScalarType.Float64), truth) < 1e-5);
        }

        // The fault is the channels-last path's alone, and it has teeth.
        var s = conv.Structure;
        using var right = ConvPaths.Compute(ConvPath.Plain, x, conv.weight, conv.bias, s);
        using var wrong = ConvPaths.Compute(ConvPath.ChannelsLast, x, conv.weight, conv.bias, s, LayoutFault.ChannelsLastForward);
        using var gemm = ConvPaths.Compute(ConvPath.Gemm, x, conv.weight, conv.bias, s, LayoutFault.ChannelsLastForward);
        Assert.True(Exactness.RelativeError(wrong, right) > 1e-2);
        Assert.True(Exactness.RelativeError(gemm, right) < 1e-5);
    }

    static Dictionary<(string Layer, bool Training), ConvVerdict> Measure(GeneratedModel model, long[] shape)
    {
        Exactness.Measure(model, shape, seed: 3);
        return Verdicts(model, shape[0]);
    }

    static Dictionary<(string Layer, bool Training), ConvVerdict> Verdicts(GeneratedModel model, long batch) =>
        VerifiedLayout.Report(model).Where(e => e.Input.StartsWith($"{batch}x", StringComparison.Ordinal)).ToDictionary(e => (e.Layer, e.Training), e => e.Verdict);

    /// <summary>
    /// Prepare decides every convolution's path for an input without running the model (no hook fires, no weight,
    /// statistic or gradient changes); the forward then finds each verdict recorded, for training and for inference.
    /// </summary>
    [Theory]
    [InlineData("TinyPaperNet", 64)]
    [InlineData("TinyCifarExpansionNet", 16)]
    [InlineData("V3SmallW05At96C7", 96)]
    [InlineData("B0W05D05At64C5", 64)]
    public void PrepareDecidesWhatTheForwardWillMeetWithoutRunningTheModel(string name, int size)
    {
        var entry = ModelCatalog.Get(name);
        using var model = entry.Create();
        var convolutions = Convolutions(model);
        int fired = 0;
        var hooks = model.named_modules().Select(m => m.module).OfType<nn.Module<Tensor, Tensor>>()
            .Select(m => m.register_forward_hook((_, _, _) => { fired++; return null!; })).ToList();
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var f = entry.Facts;
        long[] shape = [9, f.InputChannels, size, size];

        model.train();
        var training = VerifiedLayout.Prepare(model, shape, training: true);
        var inference = VerifiedLayout.Prepare(model, shape, training: false);
        Assert.Equal(0, fired);
        foreach (var (key, value) in model.state_dict()) Assert.True(value.equal(before[key]).all().item<bool>(), $"{key} changed");
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
        Assert.Equal(convolutions.Select(c => c.Name).Order(), training.Select(e => e.Layer).Order());
        Assert.Equal(training.Select(e => e.Layer), inference.Select(e => e.Layer)); // the forward's order, both times
        Assert.Equal(training.Select(e => e.Layer), VerifiedLayout.Report(model).Where(e => e.Training).Select(e => e.Layer));
        Assert.All(training, e => Assert.True(e.Training));
        Assert.All(inference, e => Assert.False(e.Training));
        foreach (var h in hooks) h.remove();

        // The forward meets exactly what was prepared: nothing new is recorded.
        int recorded = VerifiedLayout.Report(model).Count;
        using var x = torch.randn(shape);
        using (var loss = model.forward(x).sum()) loss.backward();
        model.eval();
        using (torch.no_grad()) model.forward(x).Dispose();
        Assert.Equal(recorded, VerifiedLayout.Report(model).Count);
    }

    /// <summary>Every convolution's output is in the layout of its path: channels-last for the channels-last and GEMM paths, plain for the plain one.</summary>
    [Theory]
    [InlineData("TinyCifarNet", 16)]
    [InlineData("TinyPaperNet", 64)]
    [InlineData("FashionNet", 32)] // one input channel
    [InlineData("V3SmallW05At96C7", 96)]
    public void EachConvolutionsOutputIsInItsPathsLayout(string name, int size)
    {
        var entry = ModelCatalog.Get(name);
        using var model = entry.Create();
        model.eval();
        using var x = torch.randn(3, entry.Facts.InputChannels, size, size);
        using var fused = entry.Fuse(model);
        foreach (var form in new[] { model, fused })
        {
            var layouts = new Dictionary<string, (bool ChannelsLast, long Pixels)>();
            var hooks = Convolutions(form).Select(c => c.Conv.register_forward_hook((_, _, output) =>
            {
                layouts[c.Name] = (MemoryLayout.IsChannelsLast(output), output.shape[2] * output.shape[3]);
                return null!;
            })).ToList();
            using (torch.no_grad()) form.forward(x).Dispose();
            foreach (var h in hooks) h.remove();
            var verdicts = VerifiedLayout.Report(form).Where(e => e.Input.StartsWith("3x", StringComparison.Ordinal)).ToDictionary(e => e.Layer, e => e.Verdict);
            Assert.Equal(Convolutions(form).Count, layouts.Count);
            foreach (var (layer, (channelsLast, pixels)) in layouts)
            {
                if (pixels == 1) continue; // a 1x1 map is stored alike in both orders
                Assert.True(channelsLast == (verdicts[layer].Path != ConvPath.Plain), $"{layer}'s output is {(channelsLast ? "channels-last" : "plain")}: {verdicts[layer].Why}");
            }
            Assert.False(MemoryLayout.IsChannelsLast(x)); // the caller's tensor is left as it was
        }
    }

    /// <summary>Under <c>ARCHGEN_MEMORY_LAYOUT=plain</c> every convolution runs plain, and the answers agree with the verified paths'.</summary>
    [Fact]
    public void ThePlainPolicyRunsEveryConvolutionPlainWithTheSameAnswers()
    {
        using var model = new TinyCifarNet();
        model.eval();
        using var x = torch.randn(2, 3, 16, 16);
        using var noGrad = torch.no_grad();
        using var verified = model.forward(x);
        var outputs = new List<bool>();
        var hooks = Convolutions(model).Select(c => c.Conv.register_forward_hook((_, _, output) => { outputs.Add(MemoryLayout.IsChannelsLast(output)); return null!; })).ToList();
        Tensor plain;
        using (VerifiedLayout.Use(LayoutPolicy.Plain)) plain = model.forward(x);
        foreach (var h in hooks) h.remove();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, Assert.False);
        Assert.True(Exactness.MaxAbsError(plain, verified) < 1e-4);
    }

    /// <summary>Verdicts are shared by every layer of the same structure and input: a second model's forward runs no check.</summary>
    [Fact]
    public void VerdictsAreSharedByLayersOfTheSameStructure()
    {
        using var first = new TinyPaperNet();
        using var second = new TinyPaperNet();
        first.eval();
        second.eval();
        using var x = torch.randn(13, 3, 64, 64);
        using var noGrad = torch.no_grad();
        first.forward(x).Dispose();
        long checks = VerifiedLayout.ChecksRunOnThisThread;
        second.forward(x).Dispose();
        Assert.Equal(checks, VerifiedLayout.ChecksRunOnThisThread);
        Assert.Equal(VerifiedLayout.Report(first).Select(e => (e.Layer, e.Verdict)), VerifiedLayout.Report(second).Select(e => (e.Layer, e.Verdict)));
    }

    /// <summary>A channels-last input gives the same logits and gradients as a plain one: each convolution arranges its input itself.</summary>
    [Fact]
    public void PlainAndChannelsLastInputsGiveTheSameLogitsAndGradients()
    {
        using var model = new CifarNet(); // no dropout: the test needs no random state
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
