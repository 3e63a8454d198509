using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Blocks;

/// <summary>
/// What every generated network shares: explicit registration under the original's state_dict names, the helpers its
/// straight-line forward is written with, and its weight initialization. The generated part of a
/// <c>[MobileNetV2]</c>, <c>[MobileNetV3]</c> or <c>[EfficientNet]</c> class derives from it.
/// </summary>
public abstract class GeneratedModel : nn.Module<Tensor, Tensor>, IConvolutionShapes
{
    readonly List<nn.Module> flattened = new();

    /// <summary>A model named <paramref name="name"/>; the generated constructor registers its layers.</summary>
    protected GeneratedModel(string name)
        : base(name)
    {
    }

    /// <summary>
    /// The layers <c>forward</c> applies, in order: the stem, the blocks and the head, the global average pooling
    /// (flattened after it) and the classifier. Written by the generator from the same plan as the forward; what the
    /// ONNX export walks.
    /// </summary>
    public abstract IReadOnlyList<nn.Module<Tensor, Tensor>> ForwardLayers { get; }

    /// <summary>Walks <see cref="ForwardLayers"/> as far as the walk can tell their shapes: up to the classifier, which takes the flattened features and has no convolution. Returns the last shape told.</summary>
    public long[]? Walk(long[] input, ConvolutionWalk walk)
    {
        ArgumentNullException.ThrowIfNull(walk);
        var shape = input;
        foreach (var layer in ForwardLayers)
        {
            if (walk.Through(layer, shape) is not { } next) break;
            shape = next;
        }
        return shape;
    }

    /// <summary>Children are registered explicitly under their PyTorch names; the typed fields must not register a second time.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>
    /// Registers the layers of <paramref name="block"/> directly on this model under the given names, where the
    /// original has no module for the block itself (kuangliu's <c>conv1</c> and <c>bn1</c> for the stem); the block
    /// still follows this model's training mode.
    /// </summary>
    protected void RegisterFlattened(nn.Module block, params (string Name, nn.Module? Layer)[] layers)
    {
        ArgumentNullException.ThrowIfNull(block);
        foreach (var (name, layer) in layers)
        {
            if (layer is not null) register_module(name, layer);
        }
        flattened.Add(block);
    }

    /// <inheritdoc/>
    public override void train(bool on = true)
    {
        base.train(on);
        foreach (var block in flattened) block.train(on);
    }

    /// <summary>Initializes every layer as the original network does.</summary>
    protected void InitializeWeights(WeightInit init) => WeightInitialization.Apply(this, init);

    /// <summary>
    /// Runs <paramref name="layer"/> through <c>call</c> (its hooks fire) on <paramref name="x"/>, and disposes
    /// <paramref name="x"/>. Each convolution inside takes the path verified for it on this machine
    /// (<see cref="VerifiedConv2d"/>), so activations stay channels-last from layer to layer where those paths do.
    /// </summary>
    protected static Tensor Apply(nn.Module<Tensor, Tensor> layer, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(x);
        var y = layer.call(x);
        if (!ReferenceEquals(y, x)) x.Dispose();
        return y;
    }

    /// <summary>
    /// <see cref="Apply(nn.Module{Tensor, Tensor}, Tensor)"/> for a block on the wide residual (<c>Shortcut =
    /// ShortcutPlacement.Expansion</c>): <paramref name="wide"/> carries the expanded tensor from block to block
    /// (<see cref="InvertedResidual.Forward"/>). The block runs through that method, so hooks on its layers fire, not
    /// hooks on the block itself.
    /// </summary>
    protected static Tensor Apply(InvertedResidual block, Tensor x, ref Tensor? wide)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(x);
        var y = block.Forward(x, ref wide);
        if (!ReferenceEquals(y, x)) x.Dispose();
        return y;
    }

    /// <summary>Flattens the pooled N x C x 1 x 1 map to N x C and disposes it.</summary>
    protected static Tensor Flatten(Tensor x)
    {
        var y = x.flatten(1);
        x.Dispose();
        return y;
    }

    /// <summary>Keeps a handle to the stage output <paramref name="x"/> in <paramref name="stages"/>[<paramref name="index"/>] when feature maps were asked for.</summary>
    protected static void Keep(Tensor[]? stages, int index, Tensor x)
    {
        if (stages is not null) stages[index] = x.alias();
    }
}
