namespace ArchGen.Data.Images;

/// <summary>How an image folder is read (the model's input side is not an option: <see cref="ImageFolder.Open"/> takes it).</summary>
/// <param name="SkipBadImages">Leave out files that cannot be read as images (with one warning line) instead of stopping with an error naming the first.</param>
/// <param name="Warning">Receives that warning line (default: standard error).</param>
/// <param name="Limits">Bounds every image is checked against before decoding.</param>
/// <param name="Workers">Images decoded in parallel (0 = one per core).</param>
/// <param name="PrefetchBatches">Finished batches a loader keeps ready ahead of the model (at least 1).</param>
/// <param name="CacheBytes">
/// A split whose images, resized for evaluation, fit in what is left of this many bytes is decoded once and kept in
/// memory (0 turns caching off). Larger splits are decoded on every use, so memory does not grow with the folder.
/// </param>
/// <param name="Cancel">Stops the one-time scan of a split (checking every file, summing the statistics) at a stop request.</param>
/// <param name="AllowEmptyClasses">
/// Accept a training class folder without images as a class (it never is the right answer in training). Without it
/// such a folder is refused, as torchvision's ImageFolder refuses it: it would add an output that no image teaches.
/// </param>
public sealed record ImageFolderOptions(
    bool SkipBadImages = false,
    Action<string>? Warning = null,
    ImageLimits? Limits = null,
    int Workers = 0,
    int PrefetchBatches = 2,
    long CacheBytes = 512L << 20,
    CancellationToken Cancel = default,
    bool AllowEmptyClasses = false)
{
    /// <summary>The worker count in effect.</summary>
    public int ResolvedWorkers => Workers > 0 ? Workers : Environment.ProcessorCount;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a value out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(Workers, nameof(Workers));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PrefetchBatches, nameof(PrefetchBatches));
        ArgumentOutOfRangeException.ThrowIfNegative(CacheBytes, nameof(CacheBytes));
        Limits?.Validate();
    }
}

/// <summary>Bytes of resized images the splits of one dataset may keep in memory together.</summary>
internal sealed class ImageCacheBudget(long capacity)
{
    long left = capacity;

    /// <summary>Takes <paramref name="bytes"/> if they are left.</summary>
    public bool TryTake(long bytes)
    {
        long current;
        do
        {
            current = Interlocked.Read(ref left);
            if (bytes > current) return false;
        }
        while (Interlocked.CompareExchange(ref left, current - bytes, current) != current);
        return true;
    }

    /// <summary>Gives bytes back.</summary>
    public void Give(long bytes) => Interlocked.Add(ref left, bytes);
}
