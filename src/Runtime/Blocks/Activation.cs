using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Blocks;

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
