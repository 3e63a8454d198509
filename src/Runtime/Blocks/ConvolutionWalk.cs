using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ArchGen.Blocks;

/// <summary>A layer that can tell, without running, which convolutions it applies to an input of a given shape, in order.</summary>
public interface IConvolutionShapes
{
    /// <summary>
    /// Passes every convolution this layer applies to an input of <paramref name="input"/> (N x C x H x W) to
    /// <paramref name="walk"/>, in the order the forward applies them; returns the output's shape, or null where it
    /// cannot be told.
    /// </summary>
    long[]? Walk(long[] input, ConvolutionWalk walk);
}

/// <summary>
/// A walk through a network's layers that finds the input shape of each convolution, and whether a gradient flows into
/// it, without running any layer: <see cref="Performance.VerifiedLayout.Prepare"/> checks every convolution's paths
/// this way before a run's first step, on tensors of its own.
/// </summary>
public sealed class ConvolutionWalk
{
    readonly Action<VerifiedConv2d, long[], bool> visit;

    /// <summary>A walk that calls <paramref name="visit"/> with each convolution, its input shape and whether its input carries a gradient.</summary>
    public ConvolutionWalk(Action<VerifiedConv2d, long[], bool> visit)
    {
        ArgumentNullException.ThrowIfNull(visit);
        this.visit = visit;
    }

    /// <summary>Whether the activation at this point of the walk carries a gradient (some layer before it learns).</summary>
    public bool Flowing { get; set; }

    /// <summary>
    /// The output shape of <paramref name="layer"/> for <paramref name="input"/>, its convolutions visited: a layer that
    /// describes itself (<see cref="IConvolutionShapes"/>), global average pooling, or a layer that keeps the shape
    /// (BatchNorm, activations, dropout, stochastic depth); null for any other layer, which ends the walk.
    /// </summary>
    public long[]? Through(nn.Module layer, long[] input)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(input);
        if (layer is IConvolutionShapes described) return described.Walk(input, this);
        long[]? output = layer switch
        {
            AdaptiveAvgPool2d { output_size: [1, 1] or [1] } when input.Length == 4 => [input[0], input[1], 1, 1],
            BatchNorm2d or Dropout or Dropout2d or StochasticDepth or ReLU or ReLU6 or Hardswish or SiLU or Hardsigmoid or Sigmoid or Identity => input,
            _ => null,
        };
        if (output is not null) Flowing |= Learns(layer);
        return output;
    }

    /// <summary>Visits <paramref name="conv"/> with <paramref name="input"/>; returns its output's shape.</summary>
    internal long[] Visit(VerifiedConv2d conv, long[] input)
    {
        visit(conv, input, Flowing);
        Flowing |= Learns(conv);
        var s = conv.Structure;
        return [input[0], s.Out, s.OutputSize(input[2]), s.OutputSize(input[3])];
    }

    static bool Learns(nn.Module layer) => layer.parameters().Any(p => p.requires_grad);
}
