using System.Collections.Concurrent;
using System.Globalization;
using ArchGen.Blocks;
using ArchGen.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Performance;

/// <summary>Which paths generated models' convolutions may take.</summary>
public enum LayoutPolicy
{
    /// <summary>The fastest path whose check passed on this machine for the layer's shape (the default).</summary>
    Verified,

    /// <summary>Every convolution in the plain (NCHW) layout, unchecked.</summary>
    Plain,
}

/// <summary>The path one convolution takes for one input shape and mode, and why.</summary>
/// <param name="Path">The path.</param>
/// <param name="Error">
/// The largest relative L2 error of that path's output and gradients against float64 in the check (NaN where nothing was
/// checked: by policy, or for a dtype other than float32).
/// </param>
/// <param name="Why">One line: what was compared and what decided.</param>
public sealed record ConvVerdict(ConvPath Path, double Error, string Why)
{
    /// <summary>The faster paths tried before and rejected, each with its error (empty for a verdict read from the store).</summary>
    public IReadOnlyList<(ConvPath Path, double Error)> Rejected { get; init; } = [];
}

/// <summary>One convolution's verdict for one input, as <see cref="VerifiedLayout.Report"/> lists them.</summary>
/// <param name="Layer">The convolution's state_dict prefix in the model (e.g. <c>features.3.conv.1.0</c>).</param>
/// <param name="Input">Its input shape, N x C x H x W.</param>
/// <param name="Training">Whether gradients were recorded through it (training), or not (inference).</param>
/// <param name="Threads">LibTorch's thread count.</param>
/// <param name="Verdict">What was decided.</param>
public sealed record LayoutEntry(string Layer, string Input, bool Training, int Threads, ConvVerdict Verdict)
{
    /// <summary><c>training</c> or <c>inference</c>.</summary>
    public string Mode => Training ? "training" : "inference";
}

/// <summary>
/// The verified fast paths of <see cref="VerifiedConv2d"/>. LibTorch 2.10's oneDNN kernels on channels-last activations
/// are not exact on every CPU (docs/upstream/channels-last.md): on AMD EPYC VMs with AVX-512, 1x1 convolutions on small
/// maps were off by 0.1 to 0.4 and gradients by up to 148 %. So the first time a convolution of a given structure meets
/// an input shape, mode (gradients recorded or not) and thread count, its candidate paths are run on tensors of the
/// check's own (seeded random input, weights and output gradient, drawn from a generator of its own) and compared with
/// the same convolution computed by ATen in float64 on the plain layout, output and every gradient the mode needs:
/// <list type="bullet">
/// <item>a 1x1 convolution over a larger map tries channels-last oneDNN, then <see cref="ConvPath.Gemm"/>, then plain;</item>
/// <item>a 1x1 convolution over a 1x1 map (squeeze-and-excitation) tries the matrix product first;</item>
/// <item>every other convolution (stem, depthwise) tries channels-last, then plain.</item>
/// </list>
/// The first within <see cref="Tolerance"/> runs. The check never runs the user's module, its weights, its hooks or the
/// global random generator; verdicts are cached for the process, shared by every layer of the same structure, and kept
/// on disk for the other processes of the same machine (<see cref="VerdictStore"/>). Each layer records the verdicts it
/// used (<see cref="Report"/>). Other dtypes than float32 (the float64 reference itself)
/// run plain, unchecked.
/// <para>
/// <c>ARCHGEN_MEMORY_LAYOUT=plain</c> runs every convolution plain. <c>ARCHGEN_FAULT=disagree@layout-check</c> makes
/// every fast path of every layer wrong in its check (fault injection).
/// </para>
/// </summary>
public static class VerifiedLayout
{
    /// <summary>The environment variable that overrides <see cref="Policy"/>.</summary>
    public const string Variable = "ARCHGEN_MEMORY_LAYOUT";

    /// <summary>
    /// The largest relative L2 error against float64 of a path's output and of each gradient that passes. float32 itself
    /// is 5e-8 to 7e-6 off on the catalog models' convolutions at batch sizes 1-128; the faults seen are 1e-2 to 1.5.
    /// </summary>
    public const double Tolerance = 1e-3;

    /// <summary>The fault-injection point (<see cref="FaultInjection"/>): <c>ARCHGEN_FAULT=disagree@layout-check</c>.</summary>
    public const string FaultPoint = "layout-check";

    const ulong Seed = 0x5EEDCAFE;

    static readonly Lazy<LayoutPolicy> Configured = new(() => ParsePolicy(Environment.GetEnvironmentVariable(Variable)));
    static readonly AsyncLocal<LayoutPolicy?> Scoped = new();
    static readonly ConcurrentDictionary<CheckKey, ConvVerdict> Verdicts = new();
    static readonly object Gate = new();

    /// <summary>
    /// The policy in force: the innermost <see cref="Use"/> on this flow of execution, else <see cref="Variable"/>
    /// when set (verified or plain), else <see cref="LayoutPolicy.Verified"/>.
    /// </summary>
    public static LayoutPolicy Policy => Scoped.Value ?? Configured.Value;

    /// <summary>Whether verdicts stored by earlier processes of this machine are used (<see cref="VerdictStore"/>; default true). New verdicts are stored either way.</summary>
    public static bool UseStoredVerdicts
    {
        get => VerdictStore.Read;
        set => VerdictStore.Read = value;
    }

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
        _ => throw new ArgumentException($"{Variable} must be verified or plain (got '{value}')."),
    };

    /// <summary>What a verdict depends on: the convolution's structure, the input's shape and device, which gradients flow, and LibTorch's thread count.</summary>
    internal readonly record struct CheckKey(ConvStructure Conv, long N, long H, long W, DeviceType Device, int DeviceIndex, bool InputGrad, bool WeightGrad, int Threads)
    {
        public bool Training => InputGrad || WeightGrad;
    }

    static readonly ConvVerdict PlainByPolicy = new(ConvPath.Plain, double.NaN, $"plain: {Variable}=plain");

    /// <summary>
    /// Fault injection for tests: from now on, <paramref name="layer"/>'s fast paths compute wrong (a forward or a
    /// backward fault), in its own forward and in its checks alike, as on a CPU whose kernels are wrong for it. Its
    /// verdicts so far are forgotten; no other layer is affected.
    /// </summary>
    internal static void InjectFault(VerifiedConv2d layer, LayoutFault fault)
    {
        ArgumentNullException.ThrowIfNull(layer);
        layer.Paths.Fault = fault;
    }

    /// <summary>The path <paramref name="conv"/> takes for inputs shaped like <paramref name="x"/> in the current mode: its own record, the process's cache, or checked now.</summary>
    public static ConvVerdict Decide(VerifiedConv2d conv, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(conv);
        ArgumentNullException.ThrowIfNull(x);
        if (Policy == LayoutPolicy.Plain) return PlainByPolicy;
        if (x.dtype != ScalarType.Float32)
            return new ConvVerdict(ConvPath.Plain, double.NaN, $"plain: {x.dtype} runs LibTorch's plain kernels, unchecked");
        bool grad = torch.is_grad_enabled();
        return Decide(conv, KeyFor(conv, x.shape, x.device, grad && x.requires_grad, grad && Learns(conv)));
    }

    static bool Learns(VerifiedConv2d conv) => conv.weight.requires_grad || conv.bias is { requires_grad: true };

    static CheckKey KeyFor(VerifiedConv2d conv, long[] shape, Device device, bool inputGrad, bool weightGrad) =>
        new(conv.Structure, shape[0], shape[2], shape[3], device.type, device.index, inputGrad, weightGrad, torch.get_num_threads());

    static ConvVerdict Decide(VerifiedConv2d conv, CheckKey key)
    {
        var paths = conv.Paths;
        if (paths.TryGet(key, out var known)) return known;
        var fault = paths.Fault != LayoutFault.None ? paths.Fault : FaultInjection.Disagrees(FaultPoint) ? LayoutFault.Forward : LayoutFault.None;
        var verdict = fault != LayoutFault.None ? Check(key, fault) : Cached(key);
        paths.Record(key, verdict);
        return verdict;
    }

    /// <summary>
    /// Decides now, before any forward, the path of every convolution of <paramref name="model"/> for an input of
    /// <paramref name="inputShape"/>, in training (gradients recorded for the parameters that learn) or inference, as
    /// its forward will: the input shape of each is found by a <see cref="ConvolutionWalk"/>, which runs nothing. The
    /// checks this needs run here, while no activation is held, rather than inside the first step. Returns the verdicts
    /// for that input, which the forward then finds recorded; none under <see cref="LayoutPolicy.Plain"/>.
    /// </summary>
    public static IReadOnlyList<LayoutEntry> Prepare(nn.Module model, long[] inputShape, bool training)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (Policy == LayoutPolicy.Plain || model is not IConvolutionShapes layers) return [];
        var names = Names(model);
        var entries = new List<LayoutEntry>();
        layers.Walk(inputShape, new ConvolutionWalk((conv, shape, flowing) =>
        {
            if (conv.weight.dtype != ScalarType.Float32) return;
            var key = KeyFor(conv, shape, conv.weight.device, training && flowing, training && Learns(conv));
            entries.Add(Entry(names[conv], key, Decide(conv, key)));
        }));
        return entries;
    }

    /// <summary>Forgets the process's verdicts (not the layers' records, nor the store): the next layer to meet a shape checks it again (<c>archgen doctor --repeat</c>).</summary>
    public static void ForgetVerdicts() => Verdicts.Clear();

    [ThreadStatic]
    static long checksRunOnThisThread;

    /// <summary>How many checks this thread has run (tests: a verdict found in the cache runs none).</summary>
    internal static long ChecksRunOnThisThread => checksRunOnThisThread;

    static ConvVerdict Cached(CheckKey key)
    {
        if (Verdicts.TryGetValue(key, out var known)) return known;
        lock (Gate)
        {
            if (Verdicts.TryGetValue(key, out known)) return known;
            // Another process of this machine may have checked it (VerdictStore); else check it now and store it.
            bool stored = key.Device == DeviceType.CPU;
            var verdict = stored ? VerdictStore.Get(VerdictStore.Key(key)) : null;
            if (verdict is null)
            {
                verdict = Check(key, LayoutFault.None);
                if (stored) VerdictStore.Add(VerdictStore.Key(key), verdict);
            }
            Verdicts[key] = verdict;
            return verdict;
        }
    }

    /// <summary>The paths to try for <paramref name="key"/>, fastest first; plain is the last resort and is not among them.</summary>
    static ConvPath[] Candidates(CheckKey key) =>
        !key.Conv.Pointwise ? [ConvPath.ChannelsLast]
        : key.H * key.W == 1 ? [ConvPath.Gemm, ConvPath.ChannelsLast]
        : [ConvPath.ChannelsLast, ConvPath.Gemm];

    /// <summary>The output and the gradients a path computed in a check (null where the mode records none).</summary>
    sealed record Outcome(Tensor Output, Tensor? Input, Tensor? Weight, Tensor? Bias);

    /// <summary>
    /// Runs the candidates of <paramref name="key"/> on tensors of the check's own and returns the first whose output
    /// and gradients are within <see cref="Tolerance"/> of float64, else plain.
    /// </summary>
    static ConvVerdict Check(CheckKey key, LayoutFault fault)
    {
        checksRunOnThisThread++;
        using var scope = torch.NewDisposeScope();
        var conv = key.Conv;
        var device = new Device(key.Device, key.DeviceIndex);
        long[] inputShape = [key.N, conv.In, key.H, key.W];
        var x = CheckData.Fill(inputShape, device, salt: 1);
        using var weightScale = Math.Sqrt((double)conv.Groups / (conv.In * conv.Kernel * conv.Kernel)).ToScalar(); // held: see HeldScalars
        var w = CheckData.Fill(conv.WeightShape, device, salt: 2).mul_(weightScale);
        var b = conv.Bias ? CheckData.Fill([conv.Out], device, salt: 3).mul_(HeldScalars.Tenth) : null;
        var g = key.Training ? CheckData.Fill([key.N, conv.Out, conv.OutputSize(key.H), conv.OutputSize(key.W)], device, salt: 4) : null;

        string input = $"{Shape(inputShape)}, {(key.Training ? "forward and backward" : "forward")}";
        var rejected = new List<string>();
        var errors = new List<(ConvPath, double)>();
        foreach (var path in Candidates(key).Append(ConvPath.Plain))
        {
            double error;
            string what;
            using (torch.NewDisposeScope()) (error, what) = Compare(Run(path, key, x, w, b, g, fault), key, x, w, b, g);
            if (error <= Tolerance)
            {
                string passed = $"{Name(path)}: within {Format(error)} of float64 at {input}";
                return new ConvVerdict(path, error, rejected.Count == 0 ? passed : $"{passed}; {string.Join("; ", rejected)}") { Rejected = errors };
            }
            errors.Add((path, error));
            rejected.Add($"{Name(path)} off by {Format(error)} ({what}){(fault != LayoutFault.None && path != ConvPath.Plain ? ", fault injection" : "")}");
            if (path == ConvPath.Plain)
                return new ConvVerdict(path, error, $"plain, though no path is within {Format(Tolerance)} of float64 at {input}: {string.Join("; ", rejected)}") { Rejected = errors };
        }
        throw new InvalidOperationException("unreachable: plain is always tried last");
    }

    /// <summary>Runs <paramref name="path"/> on copies of the check's tensors, with the gradients <paramref name="key"/>'s mode records.</summary>
    static Outcome Run(ConvPath path, CheckKey key, Tensor x, Tensor w, Tensor? b, Tensor? g, LayoutFault fault)
    {
        using var gradMode = key.Training ? torch.enable_grad() : torch.no_grad();
        var xi = x.detach().requires_grad_(key.InputGrad);
        var wi = w.detach().requires_grad_(key.WeightGrad);
        var bi = b?.detach().requires_grad_(key.WeightGrad);
        var y = ConvPaths.Compute(path, xi, wi, bi, key.Conv, fault);
        if (g is not null)
        {
            // The gradient arrives in the layout the path's output has, as it does in a network of such layers.
            var arriving = path == ConvPath.Plain ? g : MemoryLayout.ChannelsLast(g);
            y.backward([arriving]);
        }
        return new Outcome(y.detach(), key.InputGrad ? xi.grad : null, key.WeightGrad ? wi.grad : null, key.WeightGrad ? bi?.grad : null);
    }

    /// <summary>
    /// The largest relative L2 error of <paramref name="run"/>'s output and gradients against the definition computed in
    /// float64 (<see cref="ConvReference"/>), and which it was. The reference is computed a few images at a time, so the
    /// check needs little memory beyond the path's own tensors.
    /// </summary>
    static (double Error, string What) Compare(Outcome run, CheckKey key, Tensor x, Tensor w, Tensor? b, Tensor? g)
    {
        var conv = key.Conv;
        const ScalarType F64 = ScalarType.Float64;
        using var w64 = w.to_type(F64);
        using var b64 = b?.to_type(F64);
        var sums = new SquaredErrors[4]; // output, input gradient, weight gradient, bias gradient
        var gw = key.WeightGrad ? torch.zeros(conv.WeightShape, F64, x.device) : null;
        var gb = key.WeightGrad && b is not null ? torch.zeros([conv.Out], F64, x.device) : null;
        long chunk = Math.Max(1, (1L << 22) / Math.Max(conv.In * key.H * key.W, conv.Out * conv.OutputSize(key.H) * conv.OutputSize(key.W)));
        for (long start = 0; start < key.N; start += chunk)
        {
            using var images = torch.NewDisposeScope();
            long count = Math.Min(chunk, key.N - start);
            var x64 = x.narrow(0, start, count).to_type(F64);
            sums[0].Add(run.Output.narrow(0, start, count), ConvReference.Forward(x64, w64, b64, conv));
            if (g is null) continue;
            var g64 = g.narrow(0, start, count).to_type(F64);
            if (key.InputGrad) sums[1].Add(run.Input!.narrow(0, start, count), ConvReference.InputGradient(g64, w64, x64.shape, conv));
            gw?.add_(ConvReference.WeightGradient(x64, g64, conv), HeldScalars.One);
            gb?.add_(ConvReference.BiasGradient(g64), HeldScalars.One);
        }
        if (gw is not null) sums[2].Add(run.Weight!, gw);
        if (gb is not null) sums[3].Add(run.Bias!, gb);

        string[] names = ["output", "input gradient", "weight gradient", "bias gradient"];
        var worst = (Error: 0.0, What: names[0]);
        for (int i = 0; i < sums.Length; i++)
        {
            double error = sums[i].Relative;
            if (!(error <= worst.Error)) worst = (error, names[i]);
        }
        return worst;
    }

    /// <summary>Running sums of the squared difference and the squared reference, in float64: a relative L2 error over chunks.</summary>
    struct SquaredErrors
    {
        double difference, reference;

        public void Add(Tensor value, Tensor truth)
        {
            using var delta = value.to_type(ScalarType.Float64).sub_(truth);
            using var squared = delta.mul(delta); // not square(): TorchSharp's is pow with an implicit Scalar (see HeldScalars)
            using var truthSquared = truth.mul(truth);
            difference += squared.sum().item<double>();
            reference += truthSquared.sum().item<double>();
        }

        /// <summary>0 when equal, infinite when the reference is 0 and the value is not, or a NaN was met.</summary>
        public readonly double Relative =>
            double.IsNaN(difference) ? double.PositiveInfinity
            : difference == 0 ? 0
            : reference == 0 ? double.PositiveInfinity
            : Math.Sqrt(difference / reference);
    }

    /// <summary>
    /// Every verdict the convolutions of <paramref name="model"/> ran with (or were prepared with) so far, each named by
    /// its state_dict prefix, in the order the layers first met an input (the forward's order).
    /// </summary>
    public static IReadOnlyList<LayoutEntry> Report(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var entries = new List<LayoutEntry>();
        foreach (var (conv, name) in Names(model).Where(c => c.Key.Paths.FirstUse > 0).OrderBy(c => c.Key.Paths.FirstUse))
            foreach (var (key, verdict) in conv.Paths.Used())
                entries.Add(Entry(name, key, verdict));
        return entries;
    }

    /// <summary>Every convolution of <paramref name="model"/> by its state_dict prefix, in module order.</summary>
    static Dictionary<VerifiedConv2d, string> Names(nn.Module model)
    {
        var names = new Dictionary<VerifiedConv2d, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, module) in model.named_modules())
            if (module is VerifiedConv2d conv) names.TryAdd(conv, name);
        return names;
    }

    static LayoutEntry Entry(string name, CheckKey key, ConvVerdict verdict) =>
        new(name, Shape([key.N, key.Conv.In, key.H, key.W]), key.Training, key.Threads, verdict);

    /// <summary>A path's name as reports give it.</summary>
    public static string Name(ConvPath path) => path switch
    {
        ConvPath.ChannelsLast => "channels-last",
        ConvPath.Gemm => "GEMM",
        _ => "plain",
    };

    static string Shape(long[] shape) => string.Join("x", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));

    static string Format(double value) => value.ToString("0.0E+0", CultureInfo.InvariantCulture);

    /// <summary>The verdicts one layer ran with, in the order it met them, and a fault injected into it.</summary>
    internal sealed class LayerPaths
    {
        static long uses;
        readonly List<(CheckKey Key, ConvVerdict Verdict)> used = new();
        LayoutFault fault;

        /// <summary>When the layer first recorded a verdict, on a process-wide count (0: never): orders reports as the forward runs.</summary>
        public long FirstUse { get; private set; }

        /// <summary>The injected fault (<see cref="InjectFault"/>); setting it forgets the verdicts so far.</summary>
        public LayoutFault Fault
        {
            get => fault;
            set
            {
                lock (used)
                {
                    fault = value;
                    used.Clear();
                }
            }
        }

        public bool TryGet(CheckKey key, out ConvVerdict verdict)
        {
            lock (used)
            {
                foreach (var (k, v) in used)
                {
                    if (k == key)
                    {
                        verdict = v;
                        return true;
                    }
                }
            }
            verdict = null!;
            return false;
        }

        public void Record(CheckKey key, ConvVerdict verdict)
        {
            lock (used)
            {
                if (FirstUse == 0) FirstUse = Interlocked.Increment(ref uses);
                if (!used.Exists(u => u.Key == key)) used.Add((key, verdict));
            }
        }

        public (CheckKey Key, ConvVerdict Verdict)[] Used()
        {
            lock (used) return used.ToArray();
        }
    }
}
