using System.Globalization;
using System.Runtime.CompilerServices;
using ArchGen.Blocks;
using ArchGen.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ArchGen.Performance;

/// <summary>Which memory layout a generated model's layers may run in.</summary>
public enum LayoutPolicy
{
    /// <summary>Channels-last where this machine's kernels were shown to agree with the plain layout, plain elsewhere (the default).</summary>
    Verified,

    /// <summary>Every layer in the plain (NCHW) layout.</summary>
    Plain,

    /// <summary>Every layer channels-last, unchecked: only for measuring what the check costs.</summary>
    ChannelsLast,
}

/// <summary>The layout one layer runs in for one input shape and mode, and why.</summary>
/// <param name="ChannelsLast">Whether the layer runs channels-last (else plain).</param>
/// <param name="Worst">The relative L2 difference between the two layouts' outputs (NaN when not compared).</param>
/// <param name="Why">One line: what was compared and what decided.</param>
public sealed record LayoutVerdict(bool ChannelsLast, double Worst, string Why);

/// <summary>One layer's verdict for one input, as <see cref="VerifiedLayout.Report"/> lists them.</summary>
/// <param name="Layer">The layer's state_dict prefix in the model (e.g. <c>features.3</c>).</param>
/// <param name="Input">The input shape, N x C x H x W.</param>
/// <param name="Mode"><c>train</c> or <c>eval</c>, with <c>+grad</c> when gradients were compared too.</param>
/// <param name="Threads">LibTorch's thread count at the check.</param>
/// <param name="Verdict">What was decided.</param>
public sealed record LayoutEntry(string Layer, string Input, string Mode, int Threads, LayoutVerdict Verdict);

/// <summary>The verdicts for every layer of a model on one input (<see cref="VerifiedLayout.Verify"/>).</summary>
/// <param name="Input">The model's input shape, N x C x H x W.</param>
/// <param name="Mode"><c>train</c> or <c>eval</c>, with <c>+grad</c> when gradients were checked.</param>
/// <param name="Threads">LibTorch's thread count.</param>
/// <param name="Layers">Each layer's verdict, in forward order (the classifier after the pooling takes no image and has none).</param>
public sealed record LayoutCheck(string Input, string Mode, int Threads, IReadOnlyList<LayoutEntry> Layers)
{
    /// <summary>How many layers run channels-last.</summary>
    public int ChannelsLast => Layers.Count(l => l.Verdict.ChannelsLast);
}

/// <summary>
/// The verified fast path. Channels-last order (see <see cref="MemoryLayout"/>) lets oneDNN convolve without
/// reordering, but LibTorch 2.10's channels-last kernels are not exact on every CPU (docs/upstream/channels-last.md):
/// on one AVX-512 machine a 1x1 convolution's output was off by 0.26, and its backward kernels gave gradients off by up
/// to 148 %; on this project's machine, with oneDNN capped at AVX2, channels-last gradients were wrong by 1e-4 to 5e-4
/// in some runs and right in others (the plain layout: right every time). A fault that comes and goes cannot be ruled
/// out by checking once, so:
/// <list type="bullet">
/// <item>where gradients are recorded (training), every layer runs plain;</item>
/// <item>without gradients (evaluation, <c>test</c>, <c>predict</c>, the fused form), the first time a layer meets an
/// input shape (batch size, dtype, mode and thread count), it is run once in both layouts on seeded random data, with
/// seeded weights and statistics of its own (so the verdict depends on the layer's structure and input only, and a
/// resumed run decides as the run it continues did), and it runs channels-last only when its outputs agree within
/// <see cref="Tolerance"/> (relative L2). Forward faults, unlike backward ones, were the same on every run.</item>
/// </list>
/// Verdicts are cached for the process. The check puts the layer's weights and statistics back, turns dropout and
/// stochastic depth off while it runs, and does not use the global random generator. It runs the layer's forward, so
/// forward hooks on its sublayers fire for it too.
/// <para>
/// <c>ARCHGEN_MEMORY_LAYOUT=plain</c> runs everything plain; <c>=channels-last</c> runs everything channels-last,
/// unchecked (benchmarks only). <c>ARCHGEN_FAULT=disagree@layout-check</c> makes every check disagree (fault injection).
/// </para>
/// </summary>
public static class VerifiedLayout
{
    /// <summary>The environment variable that overrides <see cref="Policy"/>.</summary>
    public const string Variable = "ARCHGEN_MEMORY_LAYOUT";

    /// <summary>The largest relative L2 difference between the layouts' outputs that counts as agreement: float32's own noise between them is about 1e-7 to 1e-6; the forward faults seen are 1e-2 to 0.4.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>The fault-injection point (<see cref="FaultInjection"/>): <c>ARCHGEN_FAULT=disagree@layout-check</c>.</summary>
    public const string FaultPoint = "layout-check";

    static readonly Lazy<LayoutPolicy> Configured = new(() => ParsePolicy(Environment.GetEnvironmentVariable(Variable)));
    static readonly AsyncLocal<LayoutPolicy?> Scoped = new();

    /// <summary>
    /// The policy in force: the innermost <see cref="Use"/> on this flow of execution, else <see cref="Variable"/>
    /// when set (verified, plain, channels-last), else <see cref="LayoutPolicy.Verified"/>.
    /// </summary>
    public static LayoutPolicy Policy => Scoped.Value ?? Configured.Value;

    /// <summary>Runs this flow of execution (this thread and what it awaits; not other threads) under <paramref name="scoped"/> until the result is disposed.</summary>
    public static IDisposable Use(LayoutPolicy scoped)
    {
        var previous = Scoped.Value;
        Scoped.Value = scoped;
        return new Restore(() => Scoped.Value = previous);
    }

    sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    /// <summary>Parses a policy name as <see cref="Variable"/> takes it (null or empty: verified).</summary>
    public static LayoutPolicy ParsePolicy(string? value) => value switch
    {
        null or "" or "verified" => LayoutPolicy.Verified,
        "plain" => LayoutPolicy.Plain,
        "channels-last" => LayoutPolicy.ChannelsLast,
        _ => throw new ArgumentException($"{Variable} must be verified, plain or channels-last (got '{value}')."),
    };

    readonly record struct Key(long N, long C, long H, long W, ScalarType Type, bool Training, bool Grad, int Threads);

    sealed class LayerState
    {
        public readonly Dictionary<Key, LayoutVerdict> Verdicts = new();
        public bool InjectedDisagreement;
    }

    static readonly ConditionalWeakTable<nn.Module, LayerState> States = new();
    static readonly object Gate = new();

    /// <summary>
    /// Fault injection for tests: every later check of <paramref name="layer"/> (and of no other module) disagrees, as
    /// on a CPU whose channels-last kernels are wrong for it. Verdicts cached before are forgotten.
    /// </summary>
    public static void InjectDisagreement(nn.Module layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        lock (Gate)
        {
            var state = States.GetOrCreateValue(layer);
            state.InjectedDisagreement = true;
            state.Verdicts.Clear();
        }
    }

    /// <summary>
    /// <paramref name="x"/> in the layout <paramref name="layer"/> runs in for it (checked first if this shape and mode
    /// are new to the layer): <paramref name="x"/> itself when it is in that layout already (or not 4-D), else a copy
    /// through which gradients flow.
    /// </summary>
    public static Tensor Arrange(nn.Module<Tensor, Tensor> layer, Tensor x)
    {
        if (x.dim() != 4) return x;
        bool channelsLast = Decide(layer, x).ChannelsLast;
        if (channelsLast) return MemoryLayout.IsChannelsLast(x) ? x : MemoryLayout.ChannelsLast(x);
        return MemoryLayout.IsChannelsLast(x) || !x.is_contiguous() ? MemoryLayout.Plain(x) : x;
    }

    /// <summary>The verdict for <paramref name="layer"/> on inputs shaped like <paramref name="x"/> in the current mode: cached, or decided now.</summary>
    public static LayoutVerdict Decide(nn.Module<Tensor, Tensor> layer, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(x);
        switch (Policy)
        {
            case LayoutPolicy.Plain: return PlainByPolicy;
            case LayoutPolicy.ChannelsLast: return UncheckedByPolicy;
        }

        var key = KeyFor(layer, x);
        lock (Gate)
        {
            var state = States.GetOrCreateValue(layer);
            if (state.Verdicts.TryGetValue(key, out var known)) return known;
            var verdict = key.Grad ? PlainForGradients : Check(layer, x, state.InjectedDisagreement || FaultInjection.Disagrees(FaultPoint));
            state.Verdicts[key] = verdict;
            return verdict;
        }
    }

    /// <summary>What a verdict is cached under: the input's shape and dtype, the layer's mode, whether gradients are recorded through it, and LibTorch's thread count.</summary>
    static Key KeyFor(nn.Module<Tensor, Tensor> layer, Tensor x) =>
        new(x.shape[0], x.shape[1], x.shape[2], x.shape[3], x.dtype, layer.training,
            torch.is_grad_enabled() && (x.requires_grad || layer.parameters().Any(p => p.requires_grad)), torch.get_num_threads());

    static readonly LayoutVerdict PlainByPolicy = new(false, double.NaN, $"plain: {Variable}=plain");
    static readonly LayoutVerdict UncheckedByPolicy = new(true, double.NaN, $"channels-last, unchecked: {Variable}=channels-last");
    static readonly LayoutVerdict PlainForGradients = new(false, double.NaN,
        "plain: gradients are recorded, and LibTorch's channels-last backward kernels are not exact on every CPU, with faults that come and go (docs/upstream/channels-last.md)");

    /// <summary>Runs <paramref name="layer"/> forward on seeded random data and weights in both layouts and compares the outputs.</summary>
    static LayoutVerdict Check(nn.Module<Tensor, Tensor> layer, Tensor like, bool injected)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var random = new Generator(0x5EEDCAFE, like.device);
        var x = torch.randn(like.shape, like.dtype, like.device, generator: random);
        // The check runs on weights and statistics of its own, drawn from the seeded generator, so that its verdict
        // depends on the layer's structure, the input and the mode only, never on how far training is; the layer's own
        // values are put back after it (and after each run, the statistics a train-mode BatchNorm updates).
        var state = layer.named_parameters().Select(p => (p.name, (Tensor)p.parameter))
            .Concat(layer.named_buffers()).Where(t => t.Item2.is_floating_point()).ToList();
        var own = layer.parameters().Cast<Tensor>().Concat(layer.buffers()).Select(t => (Tensor: t, Value: t.clone())).ToList();
        foreach (var (name, tensor) in state) tensor.copy_(CheckValue(name, tensor, random));
        var drawn = own.Select(t => t.Tensor.clone()).ToList();
        // Random layers would draw differently in the two runs (and from the global generator): off during the check.
        var randomLayers = new List<nn.Module>();
        foreach (var (_, module) in layer.named_modules())
            if (module.training && module is Dropout or Dropout2d or StochasticDepth) randomLayers.Add(module);
        foreach (var module in randomLayers) module.eval();
        try
        {
            Tensor Run(Tensor input)
            {
                var y = layer.forward(input);
                for (int i = 0; i < own.Count; i++) own[i].Tensor.copy_(drawn[i]);
                return y;
            }

            var plain = Run(x);
            var channelsLast = Run(MemoryLayout.ChannelsLast(x));
            double worst = Exactness.RelativeError(channelsLast, plain);
            string input = Shape(like.shape);
            if (injected)
                return new LayoutVerdict(false, worst, $"plain: the check was made to disagree (fault injection) at {input}");
            return worst <= Tolerance
                ? new LayoutVerdict(true, worst, $"channels-last: its output at {input} agrees with the plain layout's within {Format(worst)} relative L2")
                : new LayoutVerdict(false, worst, $"plain: its channels-last output at {input} differs from the plain layout's by {Format(worst)} relative L2 (allowed {Format(Tolerance)})");
        }
        finally
        {
            foreach (var module in randomLayers) module.train();
            foreach (var (tensor, value) in own) tensor.copy_(value);
        }
    }

    /// <summary>
    /// A value for a layer's tensor during the check, shaped like the networks' own: convolution and linear weights
    /// with unit-variance outputs, BatchNorm scales near 1 and shifts and means near 0, variances in [0.5, 1.5].
    /// </summary>
    static Tensor CheckValue(string name, Tensor like, Generator random)
    {
        if (like.dim() >= 2)
            return torch.randn(like.shape, like.dtype, like.device, generator: random) * Math.Sqrt(1.0 / (like.numel() / like.shape[0]));
        if (name.EndsWith("running_var", StringComparison.Ordinal))
            return torch.rand(like.shape, like.dtype, like.device, generator: random) + 0.5;
        var noise = torch.randn(like.shape, like.dtype, like.device, generator: random) * 0.1;
        return name.EndsWith("weight", StringComparison.Ordinal) ? noise + 1 : noise;
    }

    /// <summary>
    /// Every verdict reached so far for the layers of <paramref name="model"/> (its <see cref="GeneratedModel.ForwardLayers"/>),
    /// named by their state_dict prefix, in forward order.
    /// </summary>
    public static IReadOnlyList<LayoutEntry> Report(GeneratedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var names = LayerNames(model);
        var entries = new List<LayoutEntry>();
        lock (Gate)
        {
            foreach (var layer in model.ForwardLayers)
            {
                if (!States.TryGetValue(layer, out var state)) continue;
                foreach (var (key, verdict) in state.Verdicts)
                    entries.Add(Entry(names[layer], key, verdict));
            }
        }
        return entries;
    }

    /// <summary>
    /// Checks every layer of <paramref name="model"/> for an input of <paramref name="inputShape"/> in the model's
    /// current mode, with gradients when <paramref name="withGradients"/> (as a training step records them), running
    /// it on random data only (its BatchNorm statistics stay as they were); returns the verdicts for that input, which
    /// the model's forward then finds cached.
    /// </summary>
    public static LayoutCheck Verify(GeneratedModel model, long[] inputShape, bool withGradients)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        var names = LayerNames(model);
        var entries = new List<LayoutEntry>();
        using var scope = torch.NewDisposeScope();
        using var gradMode = withGradients ? torch.enable_grad() : torch.no_grad();
        var first = model.parameters().First();
        using var random = new Generator(0x5EEDCAFE, first.device);
        var x = torch.randn(inputShape, first.dtype, first.device, generator: random);
        bool flowing = false; // whether the real input of this layer carries a gradient (some earlier layer learns)
        var layers = model.ForwardLayers;
        foreach (var layer in layers.Take(layers.Count - 1)) // the classifier after the pooling takes the flattened features
        {
            x = x.detach().requires_grad_(withGradients && flowing);
            var key = KeyFor(layer, x);
            entries.Add(Entry(names[layer], key, Decide(layer, x)));
            flowing = key.Grad;
            // The next layer's input shape: the plain layout's output on these random data, BatchNorm statistics kept.
            var buffers = layer.buffers().ToList();
            var saved = buffers.Select(b => b.clone()).ToList();
            using (torch.no_grad())
            {
                x = layer.forward(x.detach());
                for (int i = 0; i < buffers.Count; i++) buffers[i].copy_(saved[i]);
            }
        }
        return new LayoutCheck(Shape(inputShape), (model.training ? "train" : "eval") + (withGradients ? "+grad" : ""), torch.get_num_threads(), entries);
    }

    static Dictionary<nn.Module, string> LayerNames(GeneratedModel model)
    {
        var names = new Dictionary<nn.Module, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, module) in model.named_modules()) names.TryAdd(module, name);
        // A block registered flattened (kuangliu's stem: conv1, bn1) is named by its layers' names.
        foreach (var layer in model.ForwardLayers)
            if (!names.ContainsKey(layer))
            {
                string flattened = string.Join(", ", layer.named_children().Select(c => names.TryGetValue(c.module, out var n) ? n : null).Where(n => n is not null));
                names[layer] = flattened.Length > 0 ? flattened : layer.GetName(); // a layer of the forward only (kuangliu's pooling)
            }
        return names;
    }

    static LayoutEntry Entry(string layer, Key key, LayoutVerdict verdict) =>
        new(layer, Shape([key.N, key.C, key.H, key.W]), (key.Training ? "train" : "eval") + (key.Grad ? "+grad" : ""), key.Threads, verdict);

    static string Shape(long[] shape) => string.Join("x", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));

    static string Format(double value) => value.ToString("0.0E+0", CultureInfo.InvariantCulture);
}
