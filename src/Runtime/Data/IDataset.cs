using static TorchSharp.torch;

namespace ArchGen.Data;

/// <summary>
/// A labelled image dataset with a train and a test split. Implement it for your own data (or use
/// <see cref="InMemoryDataset"/> over <see cref="ImageSet"/>s); splits may be loaded lazily on first access.
/// Two kinds of split are built in: <see cref="ImageSet"/> (small images held in memory, batched by
/// <see cref="BatchLoader"/>) and <see cref="Images.ImageFileSplit"/> (image files decoded on the fly by
/// <see cref="Images.ImageFileLoader"/>).
/// </summary>
public interface IDataset
{
    /// <summary>Short name, e.g. "cifar10".</summary>
    string Name { get; }

    /// <summary>The training split.</summary>
    IImageSplit Train { get; }

    /// <summary>The test split.</summary>
    IImageSplit Test { get; }

    /// <summary>Statistics to normalize inputs with (one entry per channel of the stored images).</summary>
    Normalization Normalization { get; }
}

/// <summary>One split of a dataset: labelled images that a loader turns into batches for a model.</summary>
public interface IImageSplit
{
    /// <summary>Number of images.</summary>
    int Count { get; }

    /// <summary>Class names, indexed by label.</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>Channels of the stored images (1 or 3).</summary>
    int Channels { get; }

    /// <summary>The first <paramref name="n"/> images, or this split when it has no more.</summary>
    IImageSplit Take(int n);

    /// <summary>A loader serving this split's images as batches shaped for a model.</summary>
    IBatchLoader CreateLoader(LoaderOptions options);
}

/// <summary>How a loader shapes batches for a model.</summary>
/// <param name="Normalization">Statistics, one entry per stored channel or per model input channel.</param>
/// <param name="BatchSize">Images per batch; the last batch of an epoch keeps the remainder.</param>
/// <param name="Train">Shuffle and augment (training) or not (evaluation).</param>
/// <param name="Seed">Seed of the shuffle and the augmentation.</param>
/// <param name="Device">Device the batches are built on.</param>
/// <param name="Channels">The model's input channels.</param>
/// <param name="Size">The model's input side.</param>
/// <param name="CropPadding">For in-memory sets: the zero padding around each training image before its random crop (0: flips only).</param>
public sealed record LoaderOptions(Normalization Normalization, int BatchSize, bool Train, int Seed, Device Device, int Channels, int Size, int CropPadding = BatchLoader.Padding);

/// <summary>
/// Serves one split as batches, epoch by epoch. All randomness comes from (seed, epoch, position), so
/// <c>Epoch(e, k)</c> yields exactly batches k.. of <c>Epoch(e)</c>.
/// </summary>
public interface IBatchLoader
{
    /// <summary>Images per batch.</summary>
    int BatchSize { get; }

    /// <summary>Batches in every epoch, counting the last partial one.</summary>
    int BatchesPerEpoch { get; }

    /// <summary>The batches of <paramref name="epoch"/> from <paramref name="startBatch"/> on; dispose every batch you take.</summary>
    IEnumerable<Batch> Epoch(int epoch, int startBatch = 0);
}

/// <summary>A dataset whose in-memory splits are produced on first use (thread-safe) by the given functions.</summary>
public sealed class InMemoryDataset : IDataset
{
    private readonly Lazy<ImageSet> _train;
    private readonly Lazy<ImageSet> _test;
    private readonly Lazy<Normalization> _normalization;

    /// <summary>Creates a dataset from ready splits; statistics default to <see cref="Normalization.Compute"/> on the train split.</summary>
    public InMemoryDataset(string name, ImageSet train, ImageSet test, Normalization? normalization = null)
        : this(name, () => train, () => test, normalization is null ? null : () => normalization)
    {
    }

    /// <summary>Creates a lazily loaded dataset; statistics default to <see cref="Normalization.Compute"/> on the train split.</summary>
    public InMemoryDataset(string name, Func<ImageSet> train, Func<ImageSet> test, Func<Normalization>? normalization = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        Name = name;
        _train = new Lazy<ImageSet>(train, LazyThreadSafetyMode.ExecutionAndPublication);
        _test = new Lazy<ImageSet>(test, LazyThreadSafetyMode.ExecutionAndPublication);
        _normalization = new Lazy<Normalization>(normalization ?? (() => Normalization.Compute(_train.Value)), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The training images.</summary>
    public ImageSet Train => _train.Value;

    /// <summary>The test images.</summary>
    public ImageSet Test => _test.Value;

    IImageSplit IDataset.Train => Train;

    IImageSplit IDataset.Test => Test;

    /// <inheritdoc />
    public Normalization Normalization => _normalization.Value;
}
