using ArchGen.Blocks;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Performance;

/// <summary>
/// How far a model's float32 logits (as inference computes them) and parameter gradients (as training does) are from
/// the same model's in float64, and whether its gradients come out the same when computed twice.
/// </summary>
/// <param name="LogitError">Max |logit - float64 logit|.</param>
/// <param name="LogitBound">What <paramref name="LogitError"/> may reach: max(1e-4, 20x the plain float32 logits' error).</param>
/// <param name="GradientError">The largest relative L2 error of a parameter's gradient against float64.</param>
/// <param name="WorstParameter">The state_dict name of that parameter.</param>
/// <param name="RepeatDifference">The largest relative L2 difference of a parameter's gradient between two computations of it (0 where the kernels are deterministic; a fault that comes and goes shows here).</param>
public sealed record ExactnessResult(double LogitError, double LogitBound, double GradientError, string WorstParameter, double RepeatDifference)
{
    /// <summary>Whether the logits, every gradient and their repetition are within their bounds.</summary>
    public bool Exact => LogitError <= LogitBound && GradientError <= Exactness.GradientBound && RepeatDifference <= Exactness.RepeatBound;
}

/// <summary>The exactness check of <c>archgen doctor</c>: eval-mode BatchNorm (well conditioned), loss = sum(logits x R) for a fixed random R, gradients computed twice.</summary>
public static class Exactness
{
    /// <summary>The floor of every bound.</summary>
    public const double Floor = 1e-4;

    /// <summary>How many times float32's own error (in the plain layout) the logits may be off.</summary>
    public const double Factor = 20;

    /// <summary>
    /// The largest relative L2 error of a gradient against float64: float32's own, in the plain layout, is 6e-7 to 5e-4
    /// on the catalog models at batches 1-8 here (the stem's BatchNorm sums over every pixel of the batch); the faults
    /// reported were 0.25 to 1.5. Faults that come and go show in <see cref="RepeatBound"/> instead.
    /// </summary>
    public const double GradientBound = 1e-2;

    /// <summary>The largest relative L2 difference between two computations of the same gradient.</summary>
    public const double RepeatBound = 1e-6;

    /// <summary>
    /// Measures <paramref name="model"/> (float32; left in eval mode, its weights unchanged, no <c>.grad</c> touched) on a
    /// random batch of <paramref name="inputShape"/> drawn from <paramref name="seed"/>.
    /// </summary>
    public static ExactnessResult Measure(GeneratedModel model, long[] inputShape, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = torch.NewDisposeScope();
        model.eval();
        using var random = new Generator(seed);
        var x = torch.randn(inputShape, generator: random);
        var names = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();

        Tensor? r = null; // drawn at the first run, shared by all
        // The logits as inference computes them (no gradients: the verified layouts), the gradients as training does.
        (Tensor Logits, IList<Tensor> Grads) Run(Tensor input)
        {
            Tensor inferred;
            using (torch.no_grad()) inferred = model.forward(input);
            var parameters = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (Tensor)p.parameter).ToList();
            var logits = model.forward(input);
            r ??= torch.randn(logits.shape, generator: random);
            var loss = (logits * r.to_type(logits.dtype)).sum();
            return (inferred, torch.autograd.grad([loss], parameters));
        }

        var (logits, grads) = Run(x);
        var again = Run(x).Grads;
        (Tensor Logits, IList<Tensor> Grads) plain;
        using (VerifiedLayout.Use(LayoutPolicy.Plain)) plain = Run(x);
        (Tensor Logits, IList<Tensor> Grads) truth;
        model.to(ScalarType.Float64);
        try
        {
            using (VerifiedLayout.Use(LayoutPolicy.Plain)) truth = Run(x.to_type(ScalarType.Float64)); // the slow, obviously correct reference
        }
        finally
        {
            model.to(ScalarType.Float32); // float32 -> float64 -> float32 is exact
        }

        double worst = 0, repeat = 0;
        string worstName = "";
        for (int i = 0; i < names.Count; i++)
        {
            double error = RelativeError(grads[i], truth.Grads[i]);
            if (!(error <= worst)) (worst, worstName) = (error, names[i]);
            repeat = Math.Max(repeat, RelativeError(again[i], grads[i]));
        }
        return new ExactnessResult(MaxAbsError(logits, truth.Logits), Math.Max(Floor, Factor * MaxAbsError(plain.Logits, truth.Logits)), worst, worstName, repeat);
    }

    /// <summary>max |a - b| in float64 (infinite when either holds a NaN).</summary>
    public static double MaxAbsError(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        using var a64 = a.to_type(ScalarType.Float64);
        using var b64 = b.to_type(ScalarType.Float64);
        using var delta = a64.sub(b64);
        using var max = delta.abs().max();
        double value = max.item<double>();
        return double.IsNaN(value) ? double.PositiveInfinity : value;
    }

    /// <summary>||a - b|| / ||b|| in float64: 0 when both are equal, infinite when b is zero and a is not, or either holds a NaN.</summary>
    public static double RelativeError(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
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
    /// Moves every BatchNorm's statistics and affine parameters of <paramref name="model"/> away from their fresh values
    /// (means and shifts near 0, variances and scales in [0.5, 1.5]), drawn from <paramref name="random"/>, so that eval
    /// mode is not the identity and a fresh model's logits are of a trained one's size.
    /// </summary>
    public static void RandomizeBatchNorm(nn.Module model, Generator random)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var noGrad = torch.no_grad();
        foreach (var (_, module) in model.named_modules())
        {
            if (module is not TorchSharp.Modules.BatchNorm2d bn) continue;
            long c = bn.weight!.shape[0];
            bn.running_mean!.copy_(torch.randn(c, generator: random) * 0.1);
            bn.running_var!.copy_(torch.rand(c, generator: random) + 0.5);
            bn.weight.copy_(torch.rand(c, generator: random) + 0.5);
            bn.bias!.copy_(torch.randn(c, generator: random) * 0.1);
        }
    }
}
