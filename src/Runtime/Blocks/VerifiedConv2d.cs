using ArchGen.Performance;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ArchGen.Blocks;

/// <summary>
/// A 2-D convolution (PyTorch's <c>nn.Conv2d</c>: parameters <c>weight</c> <c>[out, in / groups, k, k]</c> and an optional
/// <c>bias</c>, one module, hooks as any module's) that computes each input through the fastest path verified on this
/// machine for its shape (<see cref="VerifiedLayout"/>): oneDNN on channels-last activations, a matrix product over
/// channels-last activations (1x1 convolutions only), or the plain (NCHW) layout. The check that chooses the path runs
/// on tensors of its own, never on this module, its weights or its hooks.
/// </summary>
public sealed class VerifiedConv2d : Convolution, IConvolutionShapes
{
    /// <summary>A square convolution, as <c>nn.Conv2d(in, out, kernel, stride, padding, groups=groups, bias=bias)</c>.</summary>
    public VerifiedConv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long groups = 1, bool bias = true,
        Device? device = null, ScalarType? dtype = null)
        : base("Conv2d", inChannels, outChannels, [kernelSize, kernelSize], [stride, stride], [padding, padding], null, [1, 1], false, [0, 0], groups, bias,
            PaddingModes.Zeros, device, dtype)
    {
        Structure = new ConvStructure(inChannels, outChannels, kernelSize, stride, padding, groups, bias);
    }

    /// <summary>What the path and its check depend on besides the input: channels, kernel, stride, padding, groups, bias.</summary>
    public ConvStructure Structure { get; }

    /// <summary>What this layer ran, per input shape and mode, and a fault injected into it for tests (see <see cref="VerifiedLayout"/>).</summary>
    internal VerifiedLayout.LayerPaths Paths { get; } = new();

    /// <inheritdoc/>
    public long[]? Walk(long[] input, ConvolutionWalk walk)
    {
        ArgumentNullException.ThrowIfNull(walk);
        return walk.Visit(this, input);
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4 || input.shape[1] != in_channels)
            throw new ArgumentException($"Expected a 4-D input (N x {in_channels} x H x W) to Conv2d, got {string.Join("x", input.shape)}.", nameof(input));
        var verdict = VerifiedLayout.Decide(this, input);
        return ConvPaths.Compute(verdict.Path, input, weight, bias, Structure, Paths.Fault);
    }
}
