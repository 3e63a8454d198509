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
/// <param name="Worst">The largest error over the output and every gradient, as a fraction of what is allowed (at most 1 for channels-last; NaN when not compared).</param>
/// <param name="Why">One line: what was compared and what decided.</param>
public sealed record LayoutVerdict(bool ChannelsLast, double Worst, string Why);

/// <summary>One layer's verdict for one input, as <see cref="VerifiedLayout.Report"/> lists them.</summary>
/// <param name="Layer">The layer's state_dict prefix in the model (e.g. <c>features.3</c>).</param>
/// <param name="Input">The input shape, N x C x H x W.</param>
/// <param name="Mode"><c>train</c> or <c>eval</c>, with <c>+grad</c> when gradients were compared too.</param>
/// <param name="Threads">LibTorch's thread count at the check.</param>
/// <param name="Verdict">What was decided.</param>
public sealed record LayoutEntry(string Layer, string Input, string Mode, int Threads, LayoutVerdict Verdict);

/// <summary>
/// The verified fast path. Channels-last order (see <see cref="MemoryLayout"/>) lets oneDNN convolve without
/// reordering, but on some CPUs LibTorch 2.10's channels-last kernels compute wrong outputs or gradients (AVX-512
/// machines: a 1x1 convolution off by 0.26; squeeze-and-excitation weight gradients off by 30 %; see
/// docs/upstream/channels-last.md), while the plain layout is exact everywhere. So no layer runs channels-last on
/// trust: the first time a layer meets an input shape (with a batch size, dtype, mode and thread count), it is run once
/// on random data in both layouts, forward and, when gradients are being recorded, backward (the input's gradient and
/// every trainable parameter's), with weights of its own drawn from a seeded generator, and it runs channels-last only
/// when every result is as exact as the plain layout's (see <see cref="Check"/>). The verdict is cached for the
/// process. The check leaves the layer as it was: its weights and BatchNorm statistics are put back, parameter
/// gradients are not touched (autograd.grad), dropout and stochastic depth are off during it, and the global random
/// generator is not used.
/// <para>
/// <c>ARCHGEN_MEMORY_LAYOUT=plain</c> runs everything plain; <c>=channels-last</c> skips the check (benchmarks of its
/// cost only). <c>ARCHGEN_FAULT=disagree@layout-check</c> makes every check disagree (fault injection).
/// </para>
/// </summary>
public static class VerifiedLayout
{
    /// <summary>The environment variable that overrides <see cref="Policy"/>.</summary>
    public const string Variable = "ARCHGEN_MEMORY_LAYOUT";

    /// <summary>The relative L2 error that always counts as agreement: float32's own noise between layouts is about 1e-7 to 1e-5 in well-conditioned results; the kernel faults seen are 1e-3 to 1.5.</summary>
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
    /// <paramref name="x"/> in the layout <paramref name="layer"/> (a layer of <paramref name="model"/>) runs in for it
    /// (checked first if this shape and mode are new to the layer): <paramref name="x"/> itself when it is in that layout
    /// already (or not 4-D), else a copy through which gradients flow.
    /// </summary>
    public static Tensor Arrange(GeneratedModel model, nn.Module<Tensor, Tensor> layer, Tensor x)
    {
        if (x.dim() != 4) return x;
        bool channelsLast = Decide(model, layer, x).ChannelsLast;
        if (channelsLast) return MemoryLayout.IsChannelsLast(x) ? x : MemoryLayout.ChannelsLast(x);
        return MemoryLayout.IsChannelsLast(x) || !x.is_contiguous() ? MemoryLayout.Plain(x) : x;
    }

    /// <summary>The verdict for <paramref name="layer"/> of <paramref name="model"/> on inputs shaped like <paramref name="x"/> in the current mode: cached, or checked now.</summary>
    public static LayoutVerdict Decide(GeneratedModel model, nn.Module<Tensor, Tensor> layer, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(x);
        switch (Policy)
        {
            case LayoutPolicy.Plain: return PlainByPolicy;
            case LayoutPolicy.ChannelsLast: return UncheckedByPolicy;
        }

        bool grad = torch.is_grad_enabled() && (x.requires_grad || layer.parameters().Any(p => p.requires_grad));
        var key = new Key(x.shape[0], x.shape[1], x.shape[2], x.shape[3], x.dtype, layer.training, grad, torch.get_num_threads());
        lock (Gate)
        {
            var state = States.GetOrCreateValue(layer);
            if (state.Verdicts.TryGetValue(key, out var known)) return known;
            var verdict = Check(model, layer, x, grad, state.InjectedDisagreement || FaultInjection.Disagrees(FaultPoint));
            state.Verdicts[key] = verdict;
            return verdict;
        }
    }

    static readonly LayoutVerdict PlainByPolicy = new(false, double.NaN, $"plain: {Variable}=plain");
    static readonly LayoutVerdict UncheckedByPolicy = new(true, double.NaN, $"channels-last, unchecked: {Variable}=channels-last");

    /// <summary>How many times the plain float32 layout's own error (against float64) the channels-last one may reach, where gradients are checked.</summary>
    public const double Factor = 20;

    /// <summary>
    /// Runs <paramref name="layer"/> on random data in both layouts and compares the output and, with
    /// <paramref name="grad"/>, every gradient. With gradients, both are measured against the layer's float64 twin
    /// (the same layer of a float64 copy of the model, given the layer's weights and statistics, in the plain layout):
    /// channels-last passes where each result's relative L2 error is within max(<see cref="Tolerance"/>,
    /// <see cref="Factor"/> x the plain layout's), so that a gradient float32 cannot compute well in any layout (a
    /// BatchNorm weight's in training, whose terms cancel) is judged by what float32 can do. Without gradients (or a
    /// twin) the two layouts must agree within <see cref="Tolerance"/>.
    /// </summary>
    static LayoutVerdict Check(GeneratedModel model, nn.Module<Tensor, Tensor> layer, Tensor like, bool grad, bool injected)
    {
        using var scope = torch.NewDisposeScope();
        using var random = new Generator(0x5EEDCAFE, like.device);
        var x = torch.randn(like.shape, like.dtype, like.device, generator: random);
        var parameters = grad ? layer.named_parameters().Where(p => p.parameter.requires_grad).ToList() : [];
        // The check runs on weights and statistics of its own, drawn from the seeded generator, so that its verdict
        // depends on the layer's structure, the input and the mode only, never on how far training is (a resumed run
        // decides as the run it continues did); the layer's own values are put back after it.
        var state = layer.named_parameters().Select(p => (p.name, (Tensor)p.parameter))
            .Concat(layer.named_buffers()).Where(t => t.Item2.is_floating_point()).ToList();
        var ownValues = state.Select(t => t.Item2.clone()).ToList();
        using (torch.no_grad())
            foreach (var (name, tensor) in state) tensor.copy_(CheckValue(name, tensor, random));
        var twin = grad ? TwinOf(model, layer) : null;
        var buffers = layer.buffers().ToList();
        var saved = buffers.Select(b => b.clone()).ToList();
        // Random layers would draw differently in the runs (and from the global generator): off during the check.
        var randomLayers = new List<nn.Module>();
        foreach (var (_, module) in layer.named_modules())
            if (module.training && module is Dropout or Dropout2d or StochasticDepth) randomLayers.Add(module);
        foreach (var module in randomLayers) module.eval();
        try
        {
            Tensor? cotangent = null;
            List<Tensor> Run(nn.Module<Tensor, Tensor> target, Tensor input, IReadOnlyList<Tensor> trainable)
            {
                var arranged = input.detach().requires_grad_(grad);
                var y = target.forward(arranged);
                var results = new List<Tensor> { y.detach() };
                if (grad)
                {
                    cotangent ??= torch.randn(y.shape, y.dtype, y.device, generator: random);
                    results.AddRange(torch.autograd.grad([y], [arranged, .. trainable], [cotangent.to_type(y.dtype)], allow_unused: true));
                }
                using (torch.no_grad())
                    for (int i = 0; i < buffers.Count; i++) buffers[i].copy_(saved[i]);
                return results;
            }

            var trainable = parameters.Select(p => (Tensor)p.parameter).ToList();
            var plain = Run(layer, x, trainable);
            var channelsLast = Run(layer, MemoryLayout.ChannelsLast(x), trainable);
            List<Tensor>? truth = null;
            if (twin is not null)
            {
                var twinParameters = twin.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
                using (Use(LayoutPolicy.Plain)) truth = Run(twin, x.to_type(ScalarType.Float64), parameters.Select(p => twinParameters[p.name]).ToList());
            }

            double worst = 0; // the largest error as a fraction of what is allowed
            string worstWhat = "output";
            for (int i = 0; i < plain.Count; i++)
            {
                double ratio = truth is null
                    ? RelativeDifference(channelsLast[i], plain[i]) / Tolerance
                    : RelativeDifference(channelsLast[i], truth[i]) / Math.Max(Tolerance, Factor * RelativeDifference(plain[i], truth[i]));
                if (!(ratio <= worst))
                {
                    worst = ratio;
                    worstWhat = i == 0 ? "output" : i == 1 ? "input gradient" : $"gradient of {parameters[i - 2].name}";
                }
            }
            string input = Shape(like.shape);
            string against = truth is null ? "the plain layout's (float32)" : "float64's (plain float32's error x 20, at least 1e-4)";
            if (injected)
                return new LayoutVerdict(false, worst, $"plain: the check was made to disagree (fault injection) at {input}");
            return worst <= 1
                ? new LayoutVerdict(true, worst, $"channels-last: {(grad ? "output and gradients" : "output")} at {input} within {Format(worst)} of the bound against {against}")
                : new LayoutVerdict(false, worst, $"plain: the channels-last {worstWhat} at {input} is off by {Format(worst)} times the bound against {against}");
        }
        finally
        {
            foreach (var module in randomLayers) module.train();
            using (torch.no_grad())
                for (int i = 0; i < state.Count; i++) state[i].Item2.copy_(ownValues[i]);
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

    static readonly ConditionalWeakTable<GeneratedModel, GeneratedModel?> Twins = new();

    /// <summary>
    /// The layer of a float64 copy of <paramref name="model"/> (built once per model from its catalog entry) at
    /// <paramref name="layer"/>'s place, given <paramref name="layer"/>'s current weights, statistics and modes; null
    /// where the model has no catalog entry (a fused form).
    /// </summary>
    static nn.Module<Tensor, Tensor>? TwinOf(GeneratedModel model, nn.Module<Tensor, Tensor> layer)
    {
        var layers = model.ForwardLayers;
        int index = -1;
        for (int i = 0; i < layers.Count; i++)
            if (ReferenceEquals(layers[i], layer)) index = i;
        if (index < 0) return null;
        var copy = Twins.GetValue(model, m =>
        {
            if (!ModelCatalog.TryGet(m.GetType().FullName!, out var entry)) return null;
            using var rng = torch.get_rng_state(); // building initializes weights from the global generator: leave it as it was
            var built = entry.Create() as GeneratedModel;
            torch.set_rng_state(rng);
            if (built is null) return null;
            built.to(ScalarType.Float64);
            return built.ForwardLayers.Count == layers.Count ? built : null;
        });
        if (copy is null) return null;
        var twin = copy.ForwardLayers[index];
        var target = twin.state_dict();
        using (torch.no_grad())
            foreach (var (key, value) in layer.state_dict())
            {
                if (!target.TryGetValue(key, out var slot) || !slot.shape.SequenceEqual(value.shape)) return null;
                slot.copy_(value);
            }
        var modes = layer.named_modules().ToDictionary(m => m.name, m => m.module.training);
        foreach (var (name, module) in twin.named_modules())
            if (modes.TryGetValue(name, out bool training)) module.train(training);
        return twin;
    }

    /// <summary>||a - b|| / ||b|| in float64 (0 when both are zero; infinite when they differ and b is zero; NaN counts as a difference).</summary>
    internal static double RelativeDifference(Tensor a, Tensor b)
    {
        if (a.IsInvalid != b.IsInvalid) return double.PositiveInfinity;
        if (a.IsInvalid) return 0;
        using var a64 = a.to_type(ScalarType.Float64);
        using var b64 = b.to_type(ScalarType.Float64);
        using var delta = a64 - b64;
        double difference = delta.norm().item<double>(), reference = b64.norm().item<double>();
        if (double.IsNaN(difference)) return double.PositiveInfinity;
        if (difference == 0) return 0;
        return reference == 0 ? double.PositiveInfinity : difference / reference;
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
    public static IReadOnlyList<LayoutEntry> Verify(GeneratedModel model, long[] inputShape, bool withGradients)
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
            var verdict = Decide(model, layer, x);
            bool grad = withGradients && (flowing || layer.parameters().Any(p => p.requires_grad));
            entries.Add(Entry(names[layer], new Key(x.shape[0], x.shape[1], x.shape[2], x.shape[3], x.dtype, layer.training, grad, torch.get_num_threads()), verdict));
            flowing = grad;
            // The next layer's input shape: the plain layout's output on these random data, BatchNorm statistics kept.
            var buffers = layer.buffers().ToList();
            var saved = buffers.Select(b => b.clone()).ToList();
            using (torch.no_grad())
            {
                x = layer.forward(x.detach());
                for (int i = 0; i < buffers.Count; i++) buffers[i].copy_(saved[i]);
            }
        }
        return entries;
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
