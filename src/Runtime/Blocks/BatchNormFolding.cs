using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ArchGen.Blocks;

/// <summary>Copies of layers for the fused inference form: BatchNorm folded into the convolution before it.</summary>
public static class BatchNormFolding
{
    /// <summary>
    /// A new convolution with bias that computes <paramref name="conv"/> followed by <paramref name="norm"/> in eval
    /// mode (running statistics, the BatchNorm's eps); a plain copy of <paramref name="conv"/> when there is no norm.
    /// </summary>
    public static VerifiedConv2d Fold(VerifiedConv2d conv, BatchNorm2d? norm)
    {
        ArgumentNullException.ThrowIfNull(conv);
        var weight = conv.weight;
        var s = conv.Structure;
        var fused = new VerifiedConv2d(s.In, s.Out, s.Kernel, s.Stride, s.Padding, s.Groups, bias: true, device: weight.device, dtype: weight.dtype);
        using var noGrad = torch.no_grad();
        if (norm is null)
        {
            fused.weight.copy_(weight);
            if (conv.bias is { } bias) fused.bias!.copy_(bias);
            else fused.bias!.zero_();
            return fused;
        }

        using var std = (norm.running_var! + norm.eps).sqrt_();
        using var scale = norm.weight!.div(std);
        using var shape = scale.reshape(-1, 1, 1, 1);
        using var scaledWeight = weight.mul(shape);
        using var mean = conv.bias is { } convBias ? norm.running_mean!.sub(convBias) : norm.running_mean!.alias();
        using var shift = mean.mul(scale);
        using var foldedBias = norm.bias!.sub(shift);
        fused.weight.copy_(scaledWeight);
        fused.bias!.copy_(foldedBias);
        return fused;
    }

    /// <summary>A copy of <paramref name="conv"/> (any bias included) with its own parameters.</summary>
    public static VerifiedConv2d Copy(VerifiedConv2d conv) => Fold(conv, null);

    /// <summary>A copy of <paramref name="linear"/> with its own parameters.</summary>
    public static Linear Copy(Linear linear)
    {
        ArgumentNullException.ThrowIfNull(linear);
        var weight = linear.weight!;
        var copy = nn.Linear(weight.shape[1], weight.shape[0], hasBias: true, device: weight.device, dtype: weight.dtype);
        using var noGrad = torch.no_grad();
        copy.weight!.copy_(weight);
        if (linear.bias is { } bias) copy.bias!.copy_(bias);
        else copy.bias!.zero_();
        return copy;
    }
}
