using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Blocks;

/// <summary>
/// torchvision's <c>StochasticDepth(p, "row")</c> (Huang et al. 2016): in training, each image's residual branch is
/// dropped with probability <see cref="P"/> and the kept ones scaled by 1 / (1 - p); in evaluation it passes through.
/// </summary>
public sealed class StochasticDepth : nn.Module<Tensor, Tensor>
{
    /// <summary>A drop-path layer with drop probability <paramref name="p"/> in [0, 1].</summary>
    public StochasticDepth(double p)
        : base(nameof(StochasticDepth))
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "The drop probability must be between 0 and 1.");
        P = p;
    }

    /// <summary>The probability that an image's branch is dropped.</summary>
    public double P { get; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        if (!training || P == 0) return input.alias();
        double survival = 1 - P;
        var shape = new long[input.dim()];
        Array.Fill(shape, 1L);
        shape[0] = input.shape[0];
        using var noise = torch.empty(shape, dtype: input.dtype, device: input.device).bernoulli_(survival);
        if (survival > 0) noise.div_(survival);
        return input.mul(noise);
    }
}
