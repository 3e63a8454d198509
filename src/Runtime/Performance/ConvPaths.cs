using static TorchSharp.torch;

namespace ArchGen.Performance;

/// <summary>How a <see cref="Blocks.VerifiedConv2d"/> computes: the kernels LibTorch runs for it and the layout of its output.</summary>
public enum ConvPath
{
    /// <summary>oneDNN's convolution on channels-last activations (NHWC in memory); the output is channels-last.</summary>
    ChannelsLast,

    /// <summary>
    /// A 1x1 convolution as a matrix product: the channels-last activations are an <c>[N·H·W, in]</c> matrix, multiplied
    /// by the <c>[in, out]</c> weight through ATen's <c>linear</c> (BLAS), forward and backward, without a copy; the output
    /// is channels-last.
    /// </summary>
    Gemm,

    /// <summary>LibTorch's convolution on the plain (NCHW) layout; the output is plain.</summary>
    Plain,
}

/// <summary>A fault injected into a layer for tests: its fast paths compute a wrong output, or a right output with a wrong gradient.</summary>
internal enum LayoutFault
{
    None,

    /// <summary>The channels-last and GEMM paths' outputs are 5 % too large.</summary>
    Forward,

    /// <summary>The channels-last and GEMM paths' outputs are right, their weight and input gradients 30 % too large.</summary>
    Backward,

    /// <summary>Only the channels-last path's output is 5 % too large (as on the AMD EPYC VM, where the matrix product is right).</summary>
    ChannelsLastForward,
}

/// <summary>What a convolution's path and its check depend on besides the input: a square kernel, stride and padding, groups, bias.</summary>
/// <param name="In">Input channels.</param>
/// <param name="Out">Output channels.</param>
/// <param name="Kernel">Kernel size (square).</param>
/// <param name="Stride">Stride (both dimensions).</param>
/// <param name="Padding">Zero padding (both dimensions).</param>
/// <param name="Groups">Groups (the input channels for a depthwise convolution).</param>
/// <param name="Bias">Whether the convolution adds a bias.</param>
public readonly record struct ConvStructure(long In, long Out, long Kernel, long Stride, long Padding, long Groups, bool Bias)
{
    /// <summary>A 1x1 convolution over every pixel (stride 1, no padding, one group): a matrix product on channels-last activations.</summary>
    public bool Pointwise => Kernel == 1 && Stride == 1 && Padding == 0 && Groups == 1;

    /// <summary>The weight's shape, <c>[out, in / groups, k, k]</c>.</summary>
    public long[] WeightShape => [Out, In / Groups, Kernel, Kernel];

    /// <summary>The output's height (or width) for an input's.</summary>
    public long OutputSize(long size) => (size + 2 * Padding - Kernel) / Stride + 1;

    /// <inheritdoc/>
    public override string ToString() =>
        $"{In}->{Out} {Kernel}x{Kernel}{(Stride != 1 ? $" s{Stride}" : "")}{(Groups == 1 ? "" : Groups == In ? " depthwise" : $" g{Groups}")}{(Bias ? " +bias" : "")}";
}

/// <summary>The three ways to compute a convolution (<see cref="ConvPath"/>), each returning a new tensor that owns nothing of its input.</summary>
public static class ConvPaths
{
    /// <summary>The convolution of <paramref name="x"/> (any layout) by <paramref name="weight"/> and <paramref name="bias"/> through <paramref name="path"/>; gradients flow as through <c>conv2d</c>.</summary>
    public static Tensor Compute(ConvPath path, Tensor x, Tensor weight, Tensor? bias, ConvStructure conv) =>
        Compute(path, x, weight, bias, conv, LayoutFault.None);

    internal static Tensor Compute(ConvPath path, Tensor x, Tensor weight, Tensor? bias, ConvStructure conv, LayoutFault fault)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        var y = path switch
        {
            ConvPath.Gemm => Gemm(x, weight, bias, conv),
            ConvPath.ChannelsLast => Convolve(x, MemoryLayout.ChannelsLast, weight, bias, conv),
            _ => Convolve(x, MemoryLayout.Plain, weight, bias, conv),
        };
        bool faulty = fault != LayoutFault.None && path != ConvPath.Plain && (path == ConvPath.ChannelsLast || fault != LayoutFault.ChannelsLastForward);
        return faulty ? Inject(y, fault) : y;
    }

    static Tensor Convolve(Tensor x, Func<Tensor, Tensor> arrange, Tensor weight, Tensor? bias, ConvStructure conv)
    {
        using var arranged = arrange(x);
        return nn.functional.conv2d(arranged, weight, bias, [conv.Stride, conv.Stride], [conv.Padding, conv.Padding], [1, 1], conv.Groups);
    }

    static Tensor Gemm(Tensor x, Tensor weight, Tensor? bias, ConvStructure conv)
    {
        if (!conv.Pointwise) throw new ArgumentException($"Only a 1x1 convolution with stride 1, no padding and one group is a matrix product ({conv}).");
        long n = x.shape[0], h = x.shape[2], w = x.shape[3];
        using var packed = MemoryLayout.ChannelsLast(x); // canonical channels-last strides: N, H, W, C dense
        using var nhwc = packed.permute(0, 2, 3, 1);
        using var rows = nhwc.view(n * h * w, conv.In);
        using var matrix = weight.view(conv.Out, conv.In);
        using var product = nn.functional.linear(rows, matrix, bias);
        using var image = product.view(n, h, w, conv.Out);
        return image.permute(0, 3, 1, 2);
    }

    /// <summary>A fault as a wrong kernel would make it (<see cref="LayoutFault"/>).</summary>
    static Tensor Inject(Tensor y, LayoutFault fault)
    {
        using (y)
        {
            if (fault != LayoutFault.Backward) return y.mul(HeldScalars.FivePercentMore);
            // y + 0.3 (y - y): the same values, a gradient 1.3 times the true one (to the weight and the input alike).
            using var zero = y - y.detach();
            using var scaled = zero.mul(HeldScalars.ThreeTenths);
            return y.add(scaled, HeldScalars.One);
        }
    }
}
