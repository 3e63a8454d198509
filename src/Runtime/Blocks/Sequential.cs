using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Blocks;

/// <summary>
/// PyTorch's <c>nn.Sequential</c>: children registered as <c>0</c>, <c>1</c>, … (so state_dict keys and
/// <c>named_modules()</c> paths equal PyTorch's) and applied in order, each through <c>call</c> so hooks fire, every
/// intermediate disposed as soon as the next child has consumed it.
/// </summary>
public class Sequential : nn.Module<Tensor, Tensor>, IConvolutionShapes
{
    readonly nn.Module<Tensor, Tensor>[] layers;

    /// <summary>A container of <paramref name="children"/>, in order.</summary>
    public Sequential(params nn.Module<Tensor, Tensor>[] children)
        : this(nameof(Sequential), children)
    {
    }

    /// <summary>For derived blocks that are sequences with typed members (<see cref="ConvBnAct"/>, <see cref="Classifier"/>).</summary>
    protected Sequential(string name, nn.Module<Tensor, Tensor>[] children)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(children);
        layers = (nn.Module<Tensor, Tensor>[])children.Clone();
        for (int i = 0; i < layers.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(layers[i], nameof(children));
            register_module(i.ToString(System.Globalization.CultureInfo.InvariantCulture), layers[i]);
        }
    }

    /// <summary>The children, in the order they are applied.</summary>
    public IReadOnlyList<nn.Module<Tensor, Tensor>> Layers => layers;

    /// <summary>Children are registered by index in the constructor; typed fields of derived blocks must not register a second time.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <inheritdoc/>
    public long[]? Walk(long[] input, ConvolutionWalk walk)
    {
        ArgumentNullException.ThrowIfNull(walk);
        long[]? shape = input;
        foreach (var layer in layers)
        {
            shape = walk.Through(layer, shape);
            if (shape is null) return null;
        }
        return shape;
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        if (layers.Length == 0) return input.alias();
        var x = layers[0].call(input);
        for (int i = 1; i < layers.Length; i++)
        {
            var y = layers[i].call(x);
            if (!ReferenceEquals(y, x) && !ReferenceEquals(x, input)) x.Dispose();
            x = y;
        }
        return x;
    }
}
