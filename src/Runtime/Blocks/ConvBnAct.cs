using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ArchGen.Blocks;

/// <summary>
/// torchvision's <c>Conv2dNormActivation</c>: a convolution without bias (child <c>0</c>), BatchNorm (child
/// <c>1</c>) and an in-place activation (child <c>2</c>, absent for a linear bottleneck), applied in order.
/// The fused form (<see cref="Fuse"/>) has a biased convolution and no BatchNorm.
/// </summary>
public sealed class ConvBnAct : Sequential
{
    /// <summary>The convolution: padding (k - 1) / 2, so stride 1 keeps the map's size.</summary>
    public readonly VerifiedConv2d Conv;

    /// <summary>The BatchNorm after the convolution; null in the fused form.</summary>
    public readonly BatchNorm2d? Norm;

    /// <summary>The activation after the BatchNorm.</summary>
    public readonly Activation Activation;

    /// <summary>The activation's module, or null for <see cref="Activation.None"/>.</summary>
    public readonly nn.Module<Tensor, Tensor>? ActivationLayer;

    /// <summary>A convolution (no bias), BatchNorm with the given eps and momentum, and an activation.</summary>
    public ConvBnAct(long inChannels, long outChannels, long kernelSize, long stride = 1, long groups = 1,
        Activation activation = Activation.None, double eps = 1e-5, double momentum = 0.1)
        : this(
            new VerifiedConv2d(inChannels, outChannels, kernelSize, stride, padding: (kernelSize - 1) / 2, groups: groups, bias: false),
            nn.BatchNorm2d(outChannels, eps: eps, momentum: momentum),
            activation,
            Activations.Create(activation))
    {
    }

    ConvBnAct(VerifiedConv2d conv, BatchNorm2d? norm, Activation activation, nn.Module<Tensor, Tensor>? activationLayer)
        : base(nameof(ConvBnAct), Sequence(conv, norm, activationLayer))
    {
        Conv = conv;
        Norm = norm;
        Activation = activation;
        ActivationLayer = activationLayer;
    }

    static nn.Module<Tensor, Tensor>[] Sequence(VerifiedConv2d conv, BatchNorm2d? norm, nn.Module<Tensor, Tensor>? activation)
    {
        var layers = new List<nn.Module<Tensor, Tensor>> { conv };
        if (norm is not null) layers.Add(norm);
        if (activation is not null) layers.Add(activation);
        return layers.ToArray();
    }

    /// <summary>The inference form: the BatchNorm folded into a biased copy of the convolution, the same activation.</summary>
    public ConvBnAct Fuse() => new(BatchNormFolding.Fold(Conv, Norm), null, Activation, Activations.Create(Activation));
}
