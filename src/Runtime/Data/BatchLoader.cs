using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ArchGen.Data;

/// <summary>
/// Turns an <see cref="ImageSet"/> into normalized batches on a device. With <c>train</c> set, each epoch is shuffled
/// and every image is randomly cropped (32 from the image zero-padded by <see cref="Padding"/>) and horizontally
/// flipped; otherwise images are only normalized, in order. Augmentation runs as batched tensor operations on the
/// device (pad once, one gather whose per-image indices carry the crop offset and the flip), and all randomness
/// comes from a private generator seeded by (seed, epoch, batch): an epoch's batches depend on nothing else, so
/// <c>Epoch(e, k)</c> yields exactly batches k.. of <c>Epoch(e)</c>, and torch's RNG is never touched.
/// The next batch is prepared on a background task while the consumer works on the current one.
/// </summary>
public sealed class BatchLoader
{
    /// <summary>Zero padding around each image before the random crop.</summary>
    public const int Padding = 4;

    private const long OrderStream = 0x0_0D_E5;
    private const long AugmentStream = 0x0A_06;

    private readonly float[] _scale;
    private readonly float[] _bias;
    private readonly long[] _cropPatterns; // [2, h*w]: flat offsets into a padded image of a crop at (0, 0), plain and mirrored
    private int[]? _cachedOrder;
    private int _cachedEpoch = -1;
    private readonly object _gate = new();

    /// <summary>Creates a loader.</summary>
    /// <param name="set">The images.</param>
    /// <param name="norm">Statistics with one entry per channel of <paramref name="set"/>.</param>
    /// <param name="batchSize">Images per batch; the last batch of an epoch keeps the remainder.</param>
    /// <param name="train">Shuffle and augment (training) or not (evaluation).</param>
    /// <param name="seed">Seed of the shuffle and the augmentation.</param>
    /// <param name="device">Device the batches are built on.</param>
    /// <param name="channels">The model's input channels: equal to the images' or 3 for 1-channel images (repeated).</param>
    /// <param name="size">The model's input side; images of another size are resized (bilinear) after augmentation.</param>
    public BatchLoader(ImageSet set, Normalization norm, int batchSize, bool train, int seed, Device device, int channels, int size = 32)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(norm);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        if (norm.Mean.Length != set.Channels || norm.Std.Length != set.Channels)
            throw new ArgumentException($"The normalization has {norm.Mean.Length} means and {norm.Std.Length} stds; the images have {set.Channels} channels.", nameof(norm));
        if (norm.Std.Any(s => !(s > 0)))
            throw new ArgumentException("Every std must be positive.", nameof(norm));
        if (channels != set.Channels && !(set.Channels == 1 && channels == 3))
            throw new DataException($"the model takes {channels}-channel input but the images have {set.Channels} channel(s); only 1-channel images can be repeated to 3 channels");

        Set = set;
        Normalization = norm;
        BatchSize = batchSize;
        Train = train;
        Seed = seed;
        Device = device;
        Channels = channels;
        Size = size;
        _scale = norm.Std.Select(s => 1f / (255f * s)).ToArray();
        _bias = norm.Mean.Select((m, i) => -m / norm.Std[i]).ToArray();
        int h = set.Height, w = set.Width;
        long pw = w + 2 * Padding;
        _cropPatterns = new long[2 * h * w];
        for (int i = 0; i < h; i++)
        {
            for (int j = 0; j < w; j++)
            {
                _cropPatterns[i * w + j] = i * pw + j;
                _cropPatterns[h * w + i * w + j] = i * pw + (w - 1 - j);
            }
        }
    }

    /// <summary>The images.</summary>
    public ImageSet Set { get; }

    /// <summary>The statistics used to normalize.</summary>
    public Normalization Normalization { get; }

    /// <summary>Images per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether batches are shuffled and augmented.</summary>
    public bool Train { get; }

    /// <summary>The seed.</summary>
    public int Seed { get; }

    /// <summary>Device the batches live on.</summary>
    public Device Device { get; }

    /// <summary>Channels of the produced images.</summary>
    public int Channels { get; }

    /// <summary>Side of the produced images.</summary>
    public int Size { get; }

    /// <summary>Batches in every epoch, counting the last partial one.</summary>
    public int BatchesPerEpoch => (Set.Count + BatchSize - 1) / BatchSize;

    /// <summary>Per-channel multiplier applied to raw bytes: <c>1 / (255 std)</c>.</summary>
    internal IReadOnlyList<float> Scale => _scale;

    /// <summary>Per-channel offset added after scaling: <c>-mean / std</c>.</summary>
    internal IReadOnlyList<float> Bias => _bias;

    /// <summary>
    /// The batches of <paramref name="epoch"/> from <paramref name="startBatch"/> on (to resume an interrupted epoch).
    /// Each batch is prepared on a background task while the previous one is consumed; dispose every batch you take.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch, int startBatch = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegative(startBatch);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(startBatch, BatchesPerEpoch);
        return Iterate(epoch, startBatch);
    }

    private IEnumerable<Batch> Iterate(int epoch, int startBatch)
    {
        int n = BatchesPerEpoch;
        if (startBatch >= n) yield break;
        var order = Order(epoch);
        Task<Batch>? pending = Task.Run(() => Build(Plan(order, epoch, startBatch)));
        try
        {
            for (int b = startBatch; b < n; b++)
            {
                var current = pending!.GetAwaiter().GetResult();
                pending = null;
                if (b + 1 < n)
                {
                    int next = b + 1;
                    pending = Task.Run(() => Build(Plan(order, epoch, next)));
                }
                yield return current;
            }
        }
        finally
        {
            // The consumer stopped early: wait for the batch being prepared and release it.
            if (pending is not null)
            {
                try { pending.GetAwaiter().GetResult().Dispose(); }
                catch (Exception) { /* its failure no longer matters */ }
            }
        }
    }

    /// <summary>The order in which <paramref name="epoch"/> visits the images: a seeded shuffle when training, else 0..N-1.</summary>
    public int[] Order(int epoch)
    {
        lock (_gate)
        {
            if (_cachedEpoch == epoch && _cachedOrder is not null) return _cachedOrder;
        }
        var order = new int[Set.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        if (Train) SeededRandom.For(OrderStream, Seed, epoch).Shuffle(order);
        lock (_gate)
        {
            _cachedOrder = order;
            _cachedEpoch = epoch;
        }
        return order;
    }

    /// <summary>The random choices of batch <paramref name="batchIndex"/> of <paramref name="epoch"/>.</summary>
    public BatchPlan Plan(int epoch, int batchIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(batchIndex, BatchesPerEpoch);
        return Plan(Order(epoch), epoch, batchIndex);
    }

    private BatchPlan Plan(int[] order, int epoch, int batchIndex)
    {
        int start = batchIndex * BatchSize;
        int count = Math.Min(BatchSize, Set.Count - start);
        var indices = order.AsSpan(start, count).ToArray();
        var oy = new int[count];
        var ox = new int[count];
        var flip = new bool[count];
        if (Train)
        {
            var rng = SeededRandom.For(AugmentStream, Seed, epoch, batchIndex);
            for (int i = 0; i < count; i++)
            {
                oy[i] = rng.Next(2 * Padding + 1);
                ox[i] = rng.Next(2 * Padding + 1);
                flip[i] = rng.NextBool();
            }
        }
        else
        {
            Array.Fill(oy, Padding);
            Array.Fill(ox, Padding);
        }
        return new BatchPlan(epoch, batchIndex, indices, oy, ox, flip);
    }

    /// <summary>
    /// Builds the batch described by <paramref name="plan"/> on the calling thread. Its tensors are detached from
    /// every dispose scope (so it can cross threads); dispose the batch.
    /// </summary>
    public Batch Build(BatchPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        int b = plan.Count, c = Set.Channels, h = Set.Height, w = Set.Width, imageBytes = Set.ImageBytes;
        using var scope = NewDisposeScope();

        // Gather the raw bytes straight into a CPU uint8 tensor.
        var raw = empty([b, c, h, w], ScalarType.Byte);
        var dst = raw.bytes;
        for (int i = 0; i < b; i++) Set.Image(plan.Indices[i]).CopyTo(dst.Slice(i * imageBytes, imageBytes));
        var x = raw.to(Device);

        if (Train)
        {
            // Pad once, then one gather: output pixel (i, j) of image n reads padded pixel
            // (oy[n] + i, ox[n] + (flip[n] ? w - 1 - j : j)), the same for every channel. Flat, that is
            // pattern[flip[n]][i * w + j] + oy[n] * pw + ox[n], with two fixed patterns (plain and mirrored).
            long pw = w + 2 * Padding;
            var padded = F.pad(x, [Padding, Padding, Padding, Padding]).reshape(b, c, -1);
            var origin = new long[b];
            var mirrored = new long[b];
            for (int i = 0; i < b; i++)
            {
                origin[i] = plan.OffsetY[i] * pw + plan.OffsetX[i];
                mirrored[i] = plan.Flip[i] ? 1 : 0;
            }
            var patterns = tensor(_cropPatterns, [2, h * w], ScalarType.Int64, Device);
            var index = patterns.index_select(0, tensor(mirrored, ScalarType.Int64, Device))
                .add_(tensor(origin, ScalarType.Int64, Device).unsqueeze(1))
                .unsqueeze(1).expand(b, c, h * w);                                  // [b, c, h*w]
            x = padded.gather(2, index).reshape(b, c, h, w);
        }

        // x/255 normalized, folded into one scale and offset per channel.
        var scale = tensor(_scale, [1, c, 1, 1], ScalarType.Float32, Device);
        var bias = tensor(_bias, [1, c, 1, 1], ScalarType.Float32, Device);
        var images = x.to_type(ScalarType.Float32).mul_(scale).add_(bias);
        if (Channels != c) images = images.expand(b, Channels, h, w).contiguous();
        if (Size != h || Size != w) images = F.interpolate(images, [Size, Size], mode: InterpolationMode.Bilinear, align_corners: false);

        var labels = new long[b];
        for (int i = 0; i < b; i++) labels[i] = Set.Labels[plan.Indices[i]];
        var labelTensor = tensor(labels, ScalarType.Int64, Device);
        return new Batch(images.DetachFromDisposeScope(), labelTensor.DetachFromDisposeScope(), plan.Index, plan.Indices);
    }
}
