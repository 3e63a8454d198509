using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Data.Images;

/// <summary>
/// Where a batch of photos is decoded and augmented: an <see cref="ImageFileSplit"/> served as normalized
/// <c>[B, C, size, size]</c> batches with torchvision's ImageNet recipe (<see cref="ImageNetTransforms"/>): for
/// training a seeded shuffle, a random resized crop and a horizontal flip per image; for evaluation resize and center
/// crop, in order. One producer builds batches ahead of the consumer; each batch's images are decoded by at most
/// <see cref="Workers"/> parallel workers (their decode memory metered by the decoder's gate) and at most
/// <see cref="PrefetchBatches"/> finished batches wait in the queue, so memory does not depend on the folder's size.
/// Every random choice comes from (seed, epoch, position in the epoch): <c>Epoch(e, k)</c> yields exactly batches k..
/// of <c>Epoch(e)</c>, whatever the threads' timing. A split the scan cached is cropped from memory instead of decoded.
/// </summary>
public sealed class ImageFileLoader : IBatchLoader
{
    const long OrderStream = 0x0F_01_DE;
    const long AugmentStream = 0x0F_0A_06;

    readonly string[] files;
    readonly int[] labels;
    readonly bool unscanned;
    readonly IReadOnlyList<ResizedImage?>? cache;
    readonly ImageRenderer renderer;
    readonly PixelNormalizer normalizer;

    readonly ConcurrentDictionary<int, string> skipped = new();
    int built;

    /// <summary>
    /// Creates a loader over a split; <paramref name="scan"/> (when it ran for this size and cached the split) lets
    /// it crop from memory. Without a scan every file is decoded when its batch is built, and a file that fails then
    /// is an error, or, with <see cref="ImageFolderOptions.SkipBadImages"/>, left out of its batch (<see cref="Skipped"/>).
    /// </summary>
    public ImageFileLoader(ImageFileSplit split, SplitScan? scan, LoaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Size);
        normalizer = new PixelNormalizer(options.Normalization, options.Channels, options.Size);
        Split = split;
        files = split.Files.ToArray();
        labels = split.Labels.ToArray();
        cache = scan is not null && scan.Size == options.Size ? scan.Cache : null;
        unscanned = scan is null;
        renderer = new ImageRenderer(options.Size, new ImageDecoder(split.Options.Limits));
        Options = options;
        Workers = split.Options.ResolvedWorkers;
        PrefetchBatches = split.Options.PrefetchBatches;
    }

    /// <summary>The split.</summary>
    public ImageFileSplit Split { get; }

    /// <summary>How batches are shaped.</summary>
    public LoaderOptions Options { get; }

    /// <summary>Images decoded in parallel for one batch.</summary>
    public int Workers { get; }

    /// <summary>Finished batches kept ready ahead of the consumer.</summary>
    public int PrefetchBatches { get; }

    /// <summary>Files left out of their batches because they could not be read (with <see cref="ImageFolderOptions.SkipBadImages"/>), by image index, with the error.</summary>
    public IReadOnlyDictionary<int, string> Skipped => skipped;

    /// <summary>Batches built so far (tests watch the prefetch bound with it).</summary>
    internal int BuiltBatches => Volatile.Read(ref built);

    /// <summary>Whether images come from memory (the scan cached the split) rather than from their files.</summary>
    public bool Cached => cache is not null;

    /// <inheritdoc />
    public int BatchSize => Options.BatchSize;

    /// <summary>Number of images.</summary>
    public int Count => files.Length;

    /// <inheritdoc />
    public int BatchesPerEpoch => (files.Length + BatchSize - 1) / BatchSize;

    /// <inheritdoc />
    public IEnumerable<Batch> Epoch(int epoch, int startBatch = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegative(startBatch);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(startBatch, BatchesPerEpoch);
        return Iterate(epoch, startBatch);
    }

    /// <summary>The order in which <paramref name="epoch"/> visits the images: a seeded shuffle when training, else 0..N-1.</summary>
    public int[] Order(int epoch)
    {
        var order = new int[files.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        if (Options.Train) SeededRandom.For(OrderStream, Options.Seed, epoch).Shuffle(order);
        return order;
    }

    IEnumerable<Batch> Iterate(int epoch, int startBatch)
    {
        int n = BatchesPerEpoch;
        if (startBatch >= n) yield break;
        var order = Order(epoch);
        using var queue = new BlockingCollection<Batch>(PrefetchBatches);
        using var stop = new CancellationTokenSource();
        ExceptionDispatchInfo? failure = null;
        var producer = Task.Factory.StartNew(() =>
        {
            try
            {
                for (int b = startBatch; b < n && !stop.IsCancellationRequested; b++)
                {
                    var batch = Build(order, epoch, b, stop.Token);
                    try
                    {
                        queue.Add(batch, stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        batch.Dispose();
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                queue.CompleteAdding();
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        try
        {
            foreach (var batch in queue.GetConsumingEnumerable()) yield return batch;
            producer.Wait();
            failure?.Throw();
        }
        finally
        {
            // The consumer stopped early (or failed): stop the producer and release what it made.
            stop.Cancel();
            try { producer.Wait(); } catch (AggregateException) { /* reported above when it mattered */ }
            while (queue.TryTake(out var left)) left.Dispose();
        }
    }

    /// <summary>Builds batch <paramref name="batchIndex"/> of <paramref name="epoch"/> on the calling thread (its images in parallel).</summary>
    public Batch Build(int epoch, int batchIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(batchIndex, BatchesPerEpoch);
        return Build(Order(epoch), epoch, batchIndex, CancellationToken.None);
    }

    unsafe Batch Build(int[] order, int epoch, int batchIndex, CancellationToken cancel)
    {
        int start = batchIndex * BatchSize;
        int count = Math.Min(BatchSize, files.Length - start);
        var indices = order.AsSpan(start, count).ToArray();
        int size = Options.Size, channels = Options.Channels, imageFloats = channels * size * size;
        using var scope = NewDisposeScope();
        var images = empty([count, channels, size, size], ScalarType.Float32);
        float* destination = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(images.bytes));
        var errors = new Exception?[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Workers, CancellationToken = cancel }, () => new byte[3 * size * size], (i, _, rgb) =>
        {
            try
            {
                Render(indices[i], epoch, start + i, rgb, destination + (long)i * imageFloats);
            }
            catch (Exception e) when (e is DataException or OutOfMemoryException)
            {
                errors[i] = e;
            }
            return rgb;
        }, _ => { });
        if (errors.FirstOrDefault(e => e is not null) is { } first)
        {
            // A batch of nothing but bad files is skipped whole only where no scan has checked the files (predict);
            // after a scan, a file that went bad since is an error rather than an empty training or test batch.
            if (!Split.Options.SkipBadImages || first is not DataException || (!unscanned && errors.All(e => e is not null))) ExceptionDispatchInfo.Throw(first);
            var keep = Enumerable.Range(0, count).Where(i => errors[i] is null).ToArray();
            for (int i = 0; i < count; i++)
                if (errors[i] is { } e) skipped[indices[i]] = e.Message;
            images = images.index_select(0, tensor(keep.Select(i => (long)i).ToArray(), ScalarType.Int64));
            indices = keep.Select(i => indices[i]).ToArray();
            count = keep.Length;
        }
        if (Options.Device.type != DeviceType.CPU) images = images.to(Options.Device);

        Interlocked.Increment(ref built);
        var labelValues = new long[count];
        for (int i = 0; i < count; i++) labelValues[i] = labels[indices[i]];
        var labelTensor = tensor(labelValues, ScalarType.Int64, Options.Device);
        return new Batch(images.DetachFromDisposeScope(), labelTensor.DetachFromDisposeScope(), batchIndex, indices);
    }

    /// <summary>Image <paramref name="index"/> at <paramref name="position"/> in the epoch, transformed and normalized into <paramref name="destination"/> (<c>C x size x size</c>).</summary>
    unsafe void Render(int index, int epoch, int position, byte[] rgb, float* destination)
    {
        bool flip = false;
        var memory = cache?[index];
        if (memory is null) ImageDecoder.RequireImageExtension(files[index]);
        if (Options.Train)
        {
            var random = SeededRandom.For(AugmentStream, Options.Seed, epoch, position);
            flip = memory is not null ? renderer.Training(memory, random, rgb) : renderer.Training(files[index], random, rgb);
        }
        else if (memory is not null) renderer.Evaluation(memory, rgb);
        else renderer.Evaluation(files[index], rgb);
        fixed (byte* source = rgb) normalizer.Fill(source, flip, destination);
    }
}
