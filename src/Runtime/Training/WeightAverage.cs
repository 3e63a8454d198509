using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Training;

/// <summary>
/// An exponential moving average of a model's weights (<c>--ema</c>), kept in a second instance of the model: after
/// optimizer step <c>n</c> (1-based), every floating-point parameter and buffer of the average moves towards the
/// model's, <c>avg = d * avg + (1 - d) * w</c> with <c>d = min(decay, (1 + n) / (10 + n))</c>, the warm-up of
/// TensorFlow's <c>ExponentialMovingAverage</c>, so early averages are not dominated by the random initialization.
/// Integer buffers (BatchNorm's <c>num_batches_tracked</c>) are copied. The decay depends only on <c>n</c>, so a
/// resumed run continues the same average.
/// </summary>
public sealed class WeightAverage : IDisposable
{
    readonly (Tensor Average, Tensor Source, bool Floating)[] pairs;

    /// <summary>Starts the average at <paramref name="model"/>'s current weights, held in <paramref name="average"/> (a model of the same structure, which this object then owns).</summary>
    public WeightAverage(nn.Module<Tensor, Tensor> model, nn.Module<Tensor, Tensor> average, double decay)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(average);
        if (!(decay > 0 && decay < 1)) throw new ArgumentOutOfRangeException(nameof(decay), decay, "The decay must be in (0, 1).");
        Decay = decay;
        Model = average;
        var source = model.state_dict();
        var target = average.state_dict();
        if (source.Count != target.Count || source.Keys.Except(target.Keys).Any())
            throw new ArgumentException("The average's model does not have the same state_dict keys as the trained model.", nameof(average));
        pairs = source.Select(kv => (target[kv.Key], kv.Value, kv.Value.is_floating_point())).ToArray();
        using (torch.no_grad())
            foreach (var (avg, w, _) in pairs) avg.copy_(w);
        average.eval();
    }

    /// <summary>The averaged model (always in eval mode); evaluate, export or checkpoint it like the trained one.</summary>
    public nn.Module<Tensor, Tensor> Model { get; }

    /// <summary>The decay the average tends to.</summary>
    public double Decay { get; }

    /// <summary>The decay applied after optimizer step <paramref name="step"/> (1-based).</summary>
    public double DecayAt(long step) => Math.Min(Decay, (1.0 + step) / (10.0 + step));

    /// <summary>Moves the average towards the model's current weights after optimizer step <paramref name="step"/> (1-based).</summary>
    public void Update(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(step);
        double decay = DecayAt(step);
        using var noGrad = torch.no_grad();
        using Scalar keep = decay, take = 1 - decay; // two native scalars per update, not two per tensor
        foreach (var (avg, w, floating) in pairs)
        {
            if (floating) avg.mul_(keep).add_(w, alpha: take);
            else avg.copy_(w);
        }
    }

    /// <summary>Disposes the averaged model.</summary>
    public void Dispose() => Model.Dispose();
}
