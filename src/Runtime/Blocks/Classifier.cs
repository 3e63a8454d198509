using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ArchGen.Blocks;

/// <summary>
/// The classifier on the pooled features, as torchvision's <c>classifier</c> sequences it: [hidden Linear, activation]
/// (MobileNetV3), Dropout, output Linear.
/// </summary>
public sealed class Classifier : Sequential
{
    /// <summary>The hidden layer (MobileNetV3's 1280- or 1024-wide Linear), or null.</summary>
    public readonly Linear? Hidden;

    /// <summary>The activation after the hidden layer.</summary>
    public readonly Activation HiddenActivation;

    /// <summary>Dropout before the output layer, or null (kuangliu's network has none; the fused form drops it).</summary>
    public readonly Dropout? Dropout;

    /// <summary>The output layer: one logit per class.</summary>
    public readonly Linear Output;

    /// <summary>A classifier from <paramref name="inFeatures"/> pooled features to <paramref name="classes"/> logits.</summary>
    /// <param name="inFeatures">Pooled features.</param>
    /// <param name="classes">Logits.</param>
    /// <param name="dropout">Dropout probability before the output layer.</param>
    /// <param name="dropoutLayer">Whether the dropout is a layer even when its probability is 0 (torchvision's classifiers always have it).</param>
    /// <param name="hidden">Width of a hidden layer; 0 for none.</param>
    /// <param name="hiddenActivation">Activation after the hidden layer.</param>
    public Classifier(long inFeatures, long classes, double dropout, bool dropoutLayer, long hidden = 0, Activation hiddenActivation = Activation.None)
        : this(
            hidden > 0 ? nn.Linear(inFeatures, hidden) : null,
            hiddenActivation,
            dropoutLayer || dropout > 0 ? nn.Dropout(dropout, inplace: true) : null,
            nn.Linear(hidden > 0 ? hidden : inFeatures, classes))
    {
    }

    Classifier(Linear? hidden, Activation hiddenActivation, Dropout? dropout, Linear output)
        : base(nameof(Classifier), Sequence(hidden, hiddenActivation, dropout, output))
    {
        Hidden = hidden;
        HiddenActivation = hiddenActivation;
        Dropout = dropout;
        Output = output;
    }

    static nn.Module<Tensor, Tensor>[] Sequence(Linear? hidden, Activation hiddenActivation, Dropout? dropout, Linear output)
    {
        var layers = new List<nn.Module<Tensor, Tensor>>();
        if (hidden is not null)
        {
            layers.Add(hidden);
            if (Activations.Create(hiddenActivation) is { } activation) layers.Add(activation);
        }
        if (dropout is not null) layers.Add(dropout);
        layers.Add(output);
        return layers.ToArray();
    }

    /// <summary>The inference form: copies of the linear layers, no dropout.</summary>
    public Classifier Fuse() => new(Hidden is null ? null : BatchNormFolding.Copy(Hidden), HiddenActivation, null, BatchNormFolding.Copy(Output));
}
