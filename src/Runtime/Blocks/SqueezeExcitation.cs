using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ArchGen.Blocks;

/// <summary>
/// torchvision's <c>SqueezeExcitation</c> (Hu et al. 2018): global average pool (<c>avgpool</c>), 1x1 convolution
/// down to the squeeze width (<c>fc1</c>), <c>activation</c>, 1x1 convolution back (<c>fc2</c>), a gate
/// (<c>scale_activation</c>), and the input scaled channel by channel.
/// </summary>
public sealed class SqueezeExcitation : nn.Module<Tensor, Tensor>, IConvolutionShapes
{
    /// <summary>Global average pooling to 1x1.</summary>
    public readonly AdaptiveAvgPool2d Pool;

    /// <summary>1x1 convolution with bias, channels to squeeze width.</summary>
    public readonly VerifiedConv2d Fc1;

    /// <summary>1x1 convolution with bias, squeeze width back to channels.</summary>
    public readonly VerifiedConv2d Fc2;

    /// <summary>The activation between the two convolutions (ReLU in MobileNetV3, SiLU in EfficientNet).</summary>
    public readonly Activation Activation;

    /// <summary>The gate (hard-sigmoid in MobileNetV3, sigmoid in EfficientNet).</summary>
    public readonly Activation Gate;

    readonly nn.Module<Tensor, Tensor> activationLayer;
    readonly nn.Module<Tensor, Tensor> gateLayer;

    /// <summary>Squeeze-and-excitation of <paramref name="channels"/> through <paramref name="squeezeChannels"/>.</summary>
    public SqueezeExcitation(long channels, long squeezeChannels, Activation activation, Activation gate)
        : this(new VerifiedConv2d(channels, squeezeChannels, 1), new VerifiedConv2d(squeezeChannels, channels, 1), activation, gate)
    {
    }

    SqueezeExcitation(VerifiedConv2d fc1, VerifiedConv2d fc2, Activation activation, Activation gate)
        : base(nameof(SqueezeExcitation))
    {
        if (activation == Activation.None || gate == Activation.None) throw new ArgumentException("Squeeze-and-excitation needs an activation and a gate.");
        Pool = nn.AdaptiveAvgPool2d(1);
        Fc1 = fc1;
        Fc2 = fc2;
        Activation = activation;
        Gate = gate;
        activationLayer = Activations.Create(activation)!;
        gateLayer = Activations.Create(gate)!;
        register_module("avgpool", Pool);
        register_module("fc1", Fc1);
        register_module("fc2", Fc2);
        register_module("activation", activationLayer);
        register_module("scale_activation", gateLayer);
    }

    /// <summary>Children are registered under torchvision's names in the constructor.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <inheritdoc/>
    public long[]? Walk(long[] input, ConvolutionWalk walk)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(walk);
        long[]? shape = input;
        foreach (nn.Module layer in new nn.Module[] { Pool, Fc1, activationLayer, Fc2, gateLayer })
        {
            shape = walk.Through(layer, shape);
            if (shape is null) return null;
        }
        return input; // the input scaled channel by channel
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        using var pooled = Pool.call(input);
        using var squeezed = Fc1.call(pooled);
        using var activated = activationLayer.call(squeezed);
        using var expanded = Fc2.call(activated);
        using var scale = gateLayer.call(expanded);
        return input.mul(scale);
    }

    /// <summary>A copy with its own parameters (the fused form has nothing to fold here).</summary>
    public SqueezeExcitation Copy() => new(BatchNormFolding.Copy(Fc1), BatchNormFolding.Copy(Fc2), Activation, Gate);
}
