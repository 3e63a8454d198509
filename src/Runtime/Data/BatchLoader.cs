using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ArchGen.Data;

/// <summary>
/// Turns an <see cref="ImageSet"/> into normalized batches on a device. With <c>train</c> set, each epoch is shuffled
/// and every image is randomly cropped (its own size from the image zero-padded by <see cref="CropPadding"/>, by
/// default <see cref="Padding"/>) and horizontally flipped; otherwise images are only normalized, in order. A batch
/// is made in one pass over the stored bytes
/// (crop offset and flip as index arithmetic, normalization through a per-channel table of the 256 byte values)
/// into a CPU tensor, copied once to another device. All randomness comes from a private generator seeded by
/// (seed, epoch, batch): an epoch's batches depend on nothing else, so
/// <c>Epoch(e, k)</c> yields exactly batches k.. of <c>Epoch(e)</c>, and torch's RNG is never touched.
/// The next batch is prepared on a background task while the consumer works on the current one.
/// </summary>
public sealed class BatchLoader : IBatchLoader
{
    /// <summary>The default zero padding around each image before the random crop (the reference exercise's).</summary>
    public const int Padding = 4;

    private const long OrderStream = 0x0_0D_E5;
    private const long AugmentStream = 0x0A_06;

    private readonly float[] _table; // [output channels, 256]: byte value -> normalized float
    private int[]? _cachedOrder;
    private int _cachedEpoch = -1;
    private readonly object _gate = new();

    /// <summary>A <see cref="DataException"/> unless images of <paramref name="imageChannels"/> channels can feed a model of <paramref name="modelChannels"/>: the same count, or 1-channel images repeated to 3.</summary>
    public static void RequireChannels(int modelChannels, int imageChannels)
    {
        if (modelChannels != imageChannels && !(imageChannels == 1 && modelChannels == 3))
            throw new DataException($"the model takes {modelChannels}-channel input but the images have {imageChannels} channel(s); only 1-channel images can be repeated to 3 channels");
    }

    /// <summary>Creates a loader.</summary>
    /// <param name="set">The images.</param>
    /// <param name="norm">Statistics with one entry per channel of <paramref name="set"/> or, for 1-channel images repeated to 3, per model channel.</param>
    /// <param name="batchSize">Images per batch; the last batch of an epoch keeps the remainder.</param>
    /// <param name="train">Shuffle and augment (training) or not (evaluation).</param>
    /// <param name="seed">Seed of the shuffle and the augmentation.</param>
    /// <param name="device">Device the batches are built on.</param>
    /// <param name="channels">The model's input channels: equal to the images' or 3 for 1-channel images (repeated).</param>
    /// <param name="size">The model's input side; images of another size are resized (bilinear) after augmentation.</param>
    /// <param name="cropPadding">Zero padding around each image before the random crop when training (0: no crop, flips only).</param>
    public BatchLoader(ImageSet set, Normalization norm, int batchSize, bool train, int seed, Device device, int channels, int size = 32, int cropPadding = Padding)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(norm);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        ArgumentOutOfRangeException.ThrowIfNegative(cropPadding);
        if (norm.Mean.Length != norm.Std.Length || (norm.Mean.Length != set.Channels && norm.Mean.Length != channels))
            throw new ArgumentException($"The normalization has {norm.Mean.Length} means and {norm.Std.Length} stds; the images have {set.Channels} channels.", nameof(norm));
        if (norm.Std.Any(s => !(s > 0)))
            throw new ArgumentException("Every std must be positive.", nameof(norm));
        RequireChannels(channels, set.Channels);

        Set = set;
        Normalization = norm;
        BatchSize = batchSize;
        Train = train;
        Seed = seed;
        Device = device;
        Channels = channels;
        Size = size;
        CropPadding = cropPadding;

        // x / 255 normalized, as one scale and one offset per output channel (a 1-channel image feeds every one).
        _table = new float[channels * 256];
        for (int ch = 0; ch < channels; ch++)
        {
            int n = norm.Mean.Length == channels ? ch : 0;
            float scale = 1f / (255f * norm.Std[n]), bias = -norm.Mean[n] / norm.Std[n];
            for (int v = 0; v < 256; v++) _table[ch * 256 + v] = v * scale + bias;
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

    /// <summary>Zero padding around each image before the random crop when training (0: no crop).</summary>
    public int CropPadding { get; }

    /// <summary>Batches in every epoch, counting the last partial one (a batch size beyond the set gives one batch of the whole set).</summary>
    public int BatchesPerEpoch => (int)(((long)Set.Count + BatchSize - 1) / BatchSize);

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
        long start = (long)batchIndex * BatchSize; // below Set.Count: batchIndex < BatchesPerEpoch
        int count = (int)Math.Min(BatchSize, Set.Count - start);
        var indices = order.AsSpan((int)start, count).ToArray();
        var oy = new int[count];
        var ox = new int[count];
        var flip = new bool[count];
        if (Train)
        {
            var rng = SeededRandom.For(AugmentStream, Seed, epoch, batchIndex);
            for (int i = 0; i < count; i++)
            {
                oy[i] = rng.Next(2 * CropPadding + 1);
                ox[i] = rng.Next(2 * CropPadding + 1);
                flip[i] = rng.NextBool();
            }
        }
        else
        {
            Array.Fill(oy, CropPadding);
            Array.Fill(ox, CropPadding);
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
        int b = plan.Count, h = Set.Height, w = Set.Width;
        using var scope = NewDisposeScope();

        // One pass from the stored bytes to normalized floats in a CPU tensor (images split over the cores), then
        // (for another device) one copy.
        var images = empty([b, Channels, h, w], ScalarType.Float32);
        int parts = Math.Min(Environment.ProcessorCount, Math.Max(1, b / 32));
        Parallel.For(0, parts, part => Fill(MemoryMarshal.Cast<byte, float>(images.bytes), plan, b * part / parts, b * (part + 1) / parts));
        if (Device.type != DeviceType.CPU) images = images.to(Device);
        if (Size != h || Size != w) images = F.interpolate(images, [Size, Size], mode: InterpolationMode.Bilinear, align_corners: false);

        var labels = new long[b];
        for (int i = 0; i < b; i++) labels[i] = Set.Labels[plan.Indices[i]];
        var labelTensor = tensor(labels, ScalarType.Int64, Device);
        return new Batch(images.DetachFromDisposeScope(), labelTensor.DetachFromDisposeScope(), plan.Index, plan.Indices);
    }

    /// <summary>
    /// Writes images <paramref name="first"/> to <paramref name="end"/> - 1 of the plan into <paramref name="destination"/>
    /// (<c>N x C x H x W</c> floats for the whole plan, C the model's channels). Output pixel (i, j) of image n is pixel
    /// (oy[n] + i, ox[n] + (flip[n] ? w - 1 - j : j)) of the image zero-padded by <see cref="CropPadding"/>, mapped through
    /// the channel's table of the 256 normalized byte values (a 1-channel image feeds every output channel).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first batch: skip the unoptimized tier
    private void Fill(Span<float> destination, BatchPlan plan, int first, int end)
    {
        int c = Channels, h = Set.Height, w = Set.Width, plane = h * w;
        bool repeat = Set.Channels != c;
        for (int n = first; n < end; n++)
        {
            var image = Set.Image(plan.Indices[n]);
            int dy = plan.OffsetY[n] - CropPadding, dx = plan.OffsetX[n] - CropPadding;
            bool flip = plan.Flip[n];

            // Columns j0..j1-1 read inside the image (x = j + dx, or w - 1 - j + dx when flipped); the rest read padding.
            int j0 = Math.Clamp(flip ? dx : -dx, 0, w), j1 = Math.Clamp(flip ? w + dx : w - dx, j0, w);
            for (int ch = 0; ch < c; ch++)
            {
                ReadOnlySpan<float> table = _table.AsSpan(ch * 256, 256);
                float zero = table[0];
                var source = image.Slice(repeat ? 0 : ch * plane, plane);
                var target = destination.Slice((n * c + ch) * plane, plane);
                for (int i = 0; i < h; i++)
                {
                    var row = target.Slice(i * w, w);
                    int y = i + dy;
                    if ((uint)y >= (uint)h)
                    {
                        row.Fill(zero);
                        continue;
                    }

                    var sourceRow = source.Slice(y * w, w);
                    row[..j0].Fill(zero);
                    row[j1..].Fill(zero);
                    if (flip)
                    {
                        for (int j = j0, x = w - 1 - j0 + dx; j < j1; j++, x--) row[j] = table[sourceRow[x]];
                    }
                    else
                    {
                        for (int j = j0, x = j0 + dx; j < j1; j++, x++) row[j] = table[sourceRow[x]];
                    }
                }
            }
        }
    }
}
