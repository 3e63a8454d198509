using ArchGen.Blocks;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Performance;

/// <summary>
/// How far a model's float32 logits (as inference computes them) and gradients (as training does) are from the same
/// model's in float64, in the layouts it runs in (see <see cref="VerifiedLayout"/>), against float32's own error in
/// the plain layout.
/// </summary>
/// <param name="LogitError">Max |logit - float64 logit|.</param>
/// <param name="LogitBound">What <paramref name="LogitError"/> may reach: max(1e-4, 20x the plain float32 logits' error).</param>
/// <param name="WorstGradient">The largest relative L2 error of a parameter's gradient, divided by its own bound (max(1e-4, 20x the plain float32 gradient's error)): exact when at most 1.</param>
/// <param name="WorstParameter">The state_dict name of that parameter.</param>
public sealed record ExactnessResult(double LogitError, double LogitBound, double WorstGradient, string WorstParameter)
{
    /// <summary>Whether the logits and every gradient are within their bounds.</summary>
    public bool Exact => LogitError <= LogitBound && WorstGradient <= 1;
}

/// <summary>The exactness check of <c>archgen doctor</c>: eval-mode BatchNorm (well conditioned), loss = sum(logits x R) for a fixed random R.</summary>
public static class Exactness
{
    /// <summary>The floor of every bound.</summary>
    public const double Floor = 1e-4;

    /// <summary>How many times float32's own error (in the plain layout) a result may be off.</summary>
    public const double Factor = 20;

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

        Tensor? r = null; // drawn at the first run, shared by all three
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

        double logitError = MaxAbs(logits, truth.Logits), plainLogitError = MaxAbs(plain.Logits, truth.Logits);
        double worst = 0;
        string worstName = "";
        for (int i = 0; i < names.Count; i++)
        {
            double bound = Math.Max(Floor, Factor * VerifiedLayout.RelativeDifference(plain.Grads[i], truth.Grads[i]));
            double ratio = VerifiedLayout.RelativeDifference(grads[i], truth.Grads[i]) / bound;
            if (!(ratio <= worst)) (worst, worstName) = (ratio, names[i]);
        }
        return new ExactnessResult(logitError, Math.Max(Floor, Factor * plainLogitError), worst, worstName);
    }

    static double MaxAbs(Tensor a, Tensor b)
    {
        using var delta = a.to_type(ScalarType.Float64) - b.to_type(ScalarType.Float64);
        double value = delta.abs().max().item<double>();
        return double.IsNaN(value) ? double.PositiveInfinity : value;
    }
}
