using static TorchSharp.torch;

namespace ArchGen.Performance;

/// <summary>
/// The memory layout generated models run their activations in.
/// <para>
/// A plain (NCHW) tensor makes LibTorch's oneDNN convolutions reorder every input and output to a blocked layout and
/// back; in channels-last order (NHWC in memory, the logical shape still N x C x H x W) they run on it directly, and
/// every later convolution, BatchNorm, activation and residual add keeps that order. Generated forwards convert their
/// input once with <see cref="ChannelsLast"/>. Parameters stay in the plain layout, so state_dicts, checkpoints and
/// PyTorch weight files are unaffected: on the CIFAR model that was as fast as channels-last weights for inference
/// and within about 10 % for training, where channels-last weights would also put the optimizer state in that layout.
/// </para>
/// </summary>
public static class MemoryLayout
{
    /// <summary>
    /// A new handle to <paramref name="input"/> in channels-last order: a copy when it is a 4-D tensor in another
    /// order, else the same data (so it is always safe to dispose the result). Gradients flow through it.
    /// </summary>
    public static Tensor ChannelsLast(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4) return input.alias();
        using var nhwc = input.permute(0, 2, 3, 1);
        using var packed = nhwc.contiguous();
        return packed.permute(0, 3, 1, 2);
    }

    /// <summary>Whether <paramref name="tensor"/> is a 4-D tensor stored in channels-last order.</summary>
    public static bool IsChannelsLast(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.dim() != 4) return false;
        using var nhwc = tensor.permute(0, 2, 3, 1);
        return nhwc.is_contiguous();
    }
}
