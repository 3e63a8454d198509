using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Blocks;

/// <summary>The nonlinearities the generated networks use.</summary>
public enum Activation
{
    /// <summary>No activation (a linear bottleneck).</summary>
    None,

    /// <summary>max(0, x).</summary>
    ReLU,

    /// <summary>min(max(0, x), 6): MobileNetV2.</summary>
    ReLU6,

    /// <summary>x · ReLU6(x + 3) / 6: MobileNetV3.</summary>
    HardSwish,

    /// <summary>x · sigmoid(x), also called swish: EfficientNet.</summary>
    SiLU,

    /// <summary>ReLU6(x + 3) / 6: the gate of MobileNetV3's squeeze-and-excitation.</summary>
    HardSigmoid,

    /// <summary>1 / (1 + e^-x): the gate of EfficientNet's squeeze-and-excitation.</summary>
    Sigmoid,
}

/// <summary>Creates the TorchSharp module of an <see cref="Activation"/>.</summary>
public static class Activations
{
    /// <summary>
    /// The activation as a module, in place where PyTorch's originals are (ReLU, ReLU6, hard-swish and SiLU after a
    /// BatchNorm); null for <see cref="Activation.None"/>.
    /// </summary>
    public static nn.Module<Tensor, Tensor>? Create(Activation activation) => activation switch
    {
        Activation.None => null,
        Activation.ReLU => nn.ReLU(inplace: true),
        Activation.ReLU6 => nn.ReLU6(inplace: true),
        Activation.HardSwish => nn.Hardswish(inplace: true),
        Activation.SiLU => nn.SiLU(inplace: true),
        Activation.HardSigmoid => nn.Hardsigmoid(),
        Activation.Sigmoid => nn.Sigmoid(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
    };
}
