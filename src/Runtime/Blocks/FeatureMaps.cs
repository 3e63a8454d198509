using static TorchSharp.torch;

namespace ArchGen.Blocks;

/// <summary>
/// The feature maps at the end of each resolution stage of a generated network, finest first: the backbone outputs a
/// detector or segmenter builds on (as timm's <c>features_only</c>). Each generated model derives a class with one
/// typed property per stage, named by its stride from the input, and the stage's channels as constants.
/// Disposing it disposes the maps.
/// </summary>
public abstract class FeatureMaps : IReadOnlyList<Tensor>, IDisposable
{
    readonly Tensor[] maps;

    /// <summary>Takes ownership of <paramref name="maps"/>, one per entry of <paramref name="strides"/>.</summary>
    protected FeatureMaps(Tensor[] maps, int[] strides)
    {
        ArgumentNullException.ThrowIfNull(maps);
        ArgumentNullException.ThrowIfNull(strides);
        if (maps.Length != strides.Length) throw new ArgumentException("One stride per feature map.");
        this.maps = maps;
        Strides = strides;
    }

    /// <summary>The stride of each map from the input (2 = half the input's side), finest first.</summary>
    public IReadOnlyList<int> Strides { get; }

    /// <inheritdoc/>
    public Tensor this[int index] => maps[index];

    /// <inheritdoc/>
    public int Count => maps.Length;

    /// <inheritdoc/>
    public IEnumerator<Tensor> GetEnumerator() => ((IEnumerable<Tensor>)maps).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Disposes every map.</summary>
    public void Dispose()
    {
        foreach (var map in maps) map?.Dispose();
        GC.SuppressFinalize(this);
    }
}
