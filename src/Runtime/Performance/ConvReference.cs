using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Performance;

/// <summary>
/// A convolution and its gradients computed from the definition, for the check of <see cref="VerifiedLayout"/>: a sum
/// over the kernel's taps of the shifted input times the tap's weights, on the plain layout, without oneDNN, LibTorch's
/// convolution kernels or autograd. For a depthwise convolution each tap scales every channel by its own weight; for any
/// other, each tap is one matrix product per group of the <c>[out / groups, in / groups]</c> weights with the input's
/// channels laid out as rows of <c>images x pixels</c> columns. Callers pass float64 tensors. Every sum passes its alpha
/// as a <see cref="HeldScalars"/> value: TorchSharp's own (implicit) one may be freed while LibTorch reads it, which in a
/// full test run here made a check throw ("Expected false to be true" in <c>Scalar::toDouble</c>).
/// </summary>
public static class ConvReference
{
    /// <summary>The output <c>conv2d(x, weight, bias)</c> of <paramref name="conv"/>'s structure.</summary>
    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, ConvStructure conv)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        long n = x.shape[0], ho = conv.OutputSize(x.shape[2]), wo = conv.OutputSize(x.shape[3]);
        using var padded = Pad(x, conv.Padding);
        Tensor y;
        if (Depthwise(conv))
        {
            y = torch.zeros([n, conv.Out, ho, wo], x.dtype, x.device);
            foreach (var (i, j) in Taps(conv))
            {
                using var shifted = Shifted(padded, 2, i, j, ho, wo, conv.Stride);
                using var tap = Tap(weight, i, j);
                using var scale = tap.view(1, conv.Out, 1, 1);
                using var product = shifted.mul(scale);
                y.add_(product, HeldScalars.One);
            }
        }
        else
        {
            using var channels = padded.permute(1, 0, 2, 3).contiguous(); // in x n x H x W: a row per channel
            using var sum = torch.zeros([conv.Groups, conv.Out / conv.Groups, n * ho * wo], x.dtype, x.device);
            foreach (var (i, j) in Taps(conv))
            {
                using var shifted = Shifted(channels, 2, i, j, ho, wo, conv.Stride);
                using var columns = shifted.reshape(conv.Groups, conv.In / conv.Groups, n * ho * wo);
                using var tap = Tap(weight, i, j);
                using var matrix = tap.view(conv.Groups, conv.Out / conv.Groups, conv.In / conv.Groups);
                using var product = matrix.bmm(columns);
                sum.add_(product, HeldScalars.One);
            }
            using var image = sum.view(conv.Out, n, ho, wo);
            y = image.permute(1, 0, 2, 3).contiguous();
        }
        if (bias is not null)
        {
            using var b = bias.view(1, conv.Out, 1, 1);
            y.add_(b, HeldScalars.One);
        }
        return y;
    }

    /// <summary>The gradient with respect to the input of shape <paramref name="inputShape"/>, given the output's gradient <paramref name="g"/>.</summary>
    public static Tensor InputGradient(Tensor g, Tensor weight, long[] inputShape, ConvStructure conv)
    {
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(inputShape);
        long n = g.shape[0], ho = g.shape[2], wo = g.shape[3], p = conv.Padding;
        long[] padded = [inputShape[2] + 2 * p, inputShape[3] + 2 * p];
        if (Depthwise(conv))
        {
            using var gx = torch.zeros([n, conv.In, padded[0], padded[1]], g.dtype, g.device);
            foreach (var (i, j) in Taps(conv))
            {
                using var shifted = Shifted(gx, 2, i, j, ho, wo, conv.Stride); // a view: what is added lands in gx
                using var tap = Tap(weight, i, j);
                using var scale = tap.view(1, conv.In, 1, 1);
                using var product = g.mul(scale);
                shifted.add_(product, HeldScalars.One);
            }
            return Crop(gx, p, inputShape);
        }

        long groups = conv.Groups, og = conv.Out / groups, cg = conv.In / groups;
        using var outputs = g.permute(1, 0, 2, 3).reshape(groups, og, n * ho * wo);
        using var channels = torch.zeros([conv.In, n, padded[0], padded[1]], g.dtype, g.device);
        foreach (var (i, j) in Taps(conv))
        {
            using var tap = Tap(weight, i, j);
            using var transposed = tap.view(groups, og, cg).transpose(1, 2);
            using var mixed = transposed.bmm(outputs);
            using var image = mixed.view(conv.In, n, ho, wo);
            using var shifted = Shifted(channels, 2, i, j, ho, wo, conv.Stride);
            shifted.add_(image, HeldScalars.One);
        }
        using var batchFirst = channels.permute(1, 0, 2, 3);
        return Crop(batchFirst, p, inputShape);
    }

    /// <summary>The gradient with respect to the weight, given the input <paramref name="x"/> and the output's gradient <paramref name="g"/>.</summary>
    public static Tensor WeightGradient(Tensor x, Tensor g, ConvStructure conv)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(g);
        long n = x.shape[0], ho = g.shape[2], wo = g.shape[3];
        var gw = torch.zeros(conv.WeightShape, x.dtype, x.device);
        using var padded = Pad(x, conv.Padding);
        if (Depthwise(conv))
        {
            foreach (var (i, j) in Taps(conv))
            {
                using var shifted = Shifted(padded, 2, i, j, ho, wo, conv.Stride);
                using var products = g.mul(shifted);
                using var sums = products.sum([0, 2, 3]);
                using var tap = Tap(gw, i, j); // a view of gw
                tap.view(conv.Out).copy_(sums);
            }
            return gw;
        }

        long groups = conv.Groups, og = conv.Out / groups, cg = conv.In / groups;
        using var outputs = g.permute(1, 0, 2, 3).reshape(groups, og, n * ho * wo);
        using var channels = padded.permute(1, 0, 2, 3).contiguous();
        foreach (var (i, j) in Taps(conv))
        {
            using var shifted = Shifted(channels, 2, i, j, ho, wo, conv.Stride);
            using var columns = shifted.reshape(groups, cg, n * ho * wo);
            using var rows = columns.transpose(1, 2);
            using var product = outputs.bmm(rows); // groups x og x cg
            using var tap = Tap(gw, i, j);
            tap.copy_(product.view(conv.Out, cg));
        }
        return gw;
    }

    /// <summary>The gradient with respect to the bias: the output's gradient summed over images and pixels.</summary>
    public static Tensor BiasGradient(Tensor g)
    {
        ArgumentNullException.ThrowIfNull(g);
        return g.sum([0, 2, 3]);
    }

    static bool Depthwise(ConvStructure conv) => conv.Groups == conv.In && conv.Out == conv.In;

    static IEnumerable<(long I, long J)> Taps(ConvStructure conv)
    {
        for (long i = 0; i < conv.Kernel; i++)
        for (long j = 0; j < conv.Kernel; j++)
            yield return (i, j);
    }

    static Tensor Pad(Tensor x, long padding) =>
        padding == 0 ? x.alias() : nn.functional.pad(x, [padding, padding, padding, padding]);

    /// <summary>The input pixels tap (i, j) meets at each output pixel: a strided view of the padded map, whose height is dimension <paramref name="height"/>.</summary>
    static Tensor Shifted(Tensor padded, int height, long i, long j, long ho, long wo, long stride)
    {
        using var rows = padded.slice(height, i, i + stride * (ho - 1) + 1, stride);
        return rows.slice(height + 1, j, j + stride * (wo - 1) + 1, stride);
    }

    /// <summary>The weights of tap (i, j): <c>[out, in / groups]</c>, a view.</summary>
    static Tensor Tap(Tensor weight, long i, long j)
    {
        using var row = weight.select(2, i);
        return row.select(2, j);
    }

    static Tensor Crop(Tensor padded, long p, long[] inputShape)
    {
        using var rows = padded.narrow(2, p, inputShape[2]);
        using var cropped = rows.narrow(3, p, inputShape[3]);
        return cropped.contiguous();
    }
}
