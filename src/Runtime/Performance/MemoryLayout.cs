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
    /// order, else the same data (so it is always safe to dispose the result). Gradients flow through it. The result
    /// has the canonical channels-last strides (C*H*W, 1, W*C, C), which LibTorch recognizes even where a dimension has
    /// size 1: a 1-channel image is stored alike in both orders, and merely permuting it keeps the plain strides, so
    /// the next convolution (and every layer after it) would run in the plain layout.
    /// </summary>
    public static Tensor ChannelsLast(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4) return input.alias();
        using var nhwc = input.permute(0, 2, 3, 1);
        using var packed = nhwc.contiguous();
        var result = packed.permute(0, 3, 1, 2);
        if (IsChannelsLast(result)) return result;
        using (result)
        {
            // packed is dense in N, H, W, C order: the canonical strides describe the same memory.
            long n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3];
            return packed.as_strided([n, c, h, w], [c * h * w, 1, w * c, c], packed.storage_offset());
        }
    }

    /// <summary>
    /// A handle to <paramref name="input"/> in the plain (NCHW) layout: a copy when its memory is in another order, the
    /// same memory under the plain strides when it is dense in both orders (one channel, or 1x1 maps, with
    /// channels-last strides: LibTorch would take those for channels-last), else the same data. Gradients flow through
    /// it, and it is always safe to dispose.
    /// </summary>
    public static Tensor Plain(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!input.is_contiguous()) return input.contiguous();
        if (input.dim() != 4 || !IsChannelsLast(input)) return input.alias();
        long n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3];
        return input.as_strided([n, c, h, w], [c * h * w, h * w, w, 1], input.storage_offset());
    }

    /// <summary>
    /// Whether <paramref name="tensor"/> is a 4-D tensor whose strides LibTorch takes for channels-last order (its own
    /// rule, <c>is_channels_last_strides_2d</c>: channels innermost, then width, height and batch, with the plain
    /// layout winning where the strides fit both).
    /// </summary>
    public static bool IsChannelsLast(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.dim() != 4) return false;
        long[] sizes = tensor.shape, strides = tensor.stride();
        if (strides[1] == 0) return false;
        long min = 0;
        foreach (int d in (ReadOnlySpan<int>)[1, 3, 2, 0])
        {
            if (sizes[d] == 0 || strides[d] < min) return false;
            if (d == 0 && min == strides[1]) return false;
            min = strides[d];
            if (sizes[d] > 1) min *= sizes[d];
        }
        return true;
    }
}
