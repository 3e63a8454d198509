using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen;

/// <summary>One line of a model's layer table, resolved at compile time by the generator: one step of the forward pass.</summary>
/// <param name="Name">Where the layer sits in the state_dict, e.g. <c>features.3</c> (or the names of its layers where the original has no module for it, e.g. <c>conv1, bn1</c>).</param>
/// <param name="Kind">What the layer is, e.g. <c>InvertedResidual 24->144->32 3x3 s2, ReLU6</c>.</param>
/// <param name="InputShape">Shape of one image entering the layer, C x H x W (or features for the classifier).</param>
/// <param name="OutputShape">Shape of one image leaving the layer.</param>
/// <param name="Parameters">Trainable parameters of the layer.</param>
/// <param name="MultiplyAdds">Multiply-adds of the layer for one image (convolutions and linear layers).</param>
public sealed record LayerFact(string Name, string Kind, string InputShape, string OutputShape, long Parameters, long MultiplyAdds);

/// <summary>A feature map at the end of a resolution stage (see the generated <c>ForwardFeatures</c>).</summary>
/// <param name="Stride">Its stride from the input: the input's side divided by the map's, for sides the strides divide.</param>
/// <param name="Channels">Its channels.</param>
/// <param name="Size">Its side at the declared input size.</param>
/// <param name="Layer">The layer whose output it is.</param>
public sealed record FeatureStage(int Stride, int Channels, int Size, string Layer);

/// <summary>Compile-time facts of a generated model.</summary>
/// <param name="Name">The class name.</param>
/// <param name="FullName">The class name with its namespace.</param>
/// <param name="Architecture">The family and variant, e.g. <c>MobileNetV2, Cifar flavor</c>.</param>
/// <param name="Classes">The declared classes.</param>
/// <param name="InputSize">The declared input side.</param>
/// <param name="InputChannels">The input channels.</param>
/// <param name="Width">The width multiplier.</param>
/// <param name="Dropout">The dropout before the classifier.</param>
/// <param name="ParameterCount">Trainable parameters with the declared classes.</param>
/// <param name="MultiplyAdds">Multiply-adds for one image at the declared size.</param>
/// <param name="Layers">The layer table.</param>
/// <param name="Stages">The feature maps at the end of each resolution stage, finest first.</param>
public sealed record ModelFacts(
    string Name,
    string FullName,
    string Architecture,
    int Classes,
    int InputSize,
    int InputChannels,
    double Width,
    double Dropout,
    long ParameterCount,
    long MultiplyAdds,
    IReadOnlyList<LayerFact> Layers,
    IReadOnlyList<FeatureStage> Stages);

/// <summary>A model the generator emitted, known by name: its facts, how to build it, and how to fold a built one into its fused inference form.</summary>
public sealed class CatalogEntry
{
    readonly Func<int, nn.Module<Tensor, Tensor>> create;
    readonly Func<nn.Module<Tensor, Tensor>, nn.Module<Tensor, Tensor>> fuse;

    internal CatalogEntry(ModelFacts facts, Func<int, nn.Module<Tensor, Tensor>> create, Func<nn.Module<Tensor, Tensor>, nn.Module<Tensor, Tensor>> fuse)
    {
        Facts = facts;
        this.create = create;
        this.fuse = fuse;
    }

    /// <summary>The compile-time facts.</summary>
    public ModelFacts Facts { get; }

    /// <summary>Builds a freshly initialized model with the declared classes.</summary>
    public nn.Module<Tensor, Tensor> Create() => create(Facts.Classes);

    /// <summary>Builds a freshly initialized model whose classifier has <paramref name="classes"/> outputs (the rest of the network as declared).</summary>
    public nn.Module<Tensor, Tensor> Create(int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        return create(classes);
    }

    /// <summary>Given a model built by <see cref="Create()"/> (trained or not), returns its inference form with BatchNorm folded into the convolutions.</summary>
    public nn.Module<Tensor, Tensor> Fuse(nn.Module<Tensor, Tensor> model) => fuse(model);
}

/// <summary>
/// Every generated model registers itself here when its assembly loads, so tools list, describe and build
/// models by name with no hand-written list.
/// </summary>
public static class ModelCatalog
{
    static readonly ConcurrentDictionary<string, CatalogEntry> Entries = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Called by generated code from a module initializer.</summary>
    /// <param name="facts">The compile-time facts.</param>
    /// <param name="create">Builds a freshly initialized model with the given number of classes.</param>
    /// <param name="fuse">Folds a built model into its inference form.</param>
    public static void Register(ModelFacts facts, Func<int, nn.Module<Tensor, Tensor>> create, Func<nn.Module<Tensor, Tensor>, nn.Module<Tensor, Tensor>> fuse)
    {
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(fuse);
        var entry = new CatalogEntry(facts, create, fuse);
        Entries[facts.Name] = entry;
        Entries[facts.FullName] = entry;
    }

    /// <summary>All registered models, by short name.</summary>
    public static IReadOnlyList<CatalogEntry> All =>
        Entries.Values.Distinct().OrderBy(e => e.Facts.Name, StringComparer.Ordinal).ToArray();

    /// <summary>Finds a model by short or full name (case-insensitive).</summary>
    public static bool TryGet(string name, out CatalogEntry entry) => Entries.TryGetValue(name, out entry!);

    /// <summary>Finds a model by name or throws an <see cref="ArgumentException"/> listing the known names.</summary>
    public static CatalogEntry Get(string name) =>
        TryGet(name, out var entry)
            ? entry
            : throw new ArgumentException($"Unknown model '{name}'. Known models: {string.Join(", ", All.Select(e => e.Facts.Name))}.");
}
