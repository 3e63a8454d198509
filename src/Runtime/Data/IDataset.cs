namespace ArchGen.Data;

/// <summary>
/// A labelled image dataset with a train and a test split. Implement it for your own data (or use
/// <see cref="InMemoryDataset"/>); splits may be loaded lazily on first access.
/// </summary>
public interface IDataset
{
    /// <summary>Short name, e.g. "cifar10".</summary>
    string Name { get; }

    /// <summary>The training split.</summary>
    ImageSet Train { get; }

    /// <summary>The test split.</summary>
    ImageSet Test { get; }

    /// <summary>Statistics to normalize inputs with (one entry per channel of the stored images).</summary>
    Normalization Normalization { get; }
}

/// <summary>A dataset whose splits are produced on first use (thread-safe) by the given functions.</summary>
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

    /// <inheritdoc />
    public ImageSet Train => _train.Value;

    /// <inheritdoc />
    public ImageSet Test => _test.Value;

    /// <inheritdoc />
    public Normalization Normalization => _normalization.Value;
}
