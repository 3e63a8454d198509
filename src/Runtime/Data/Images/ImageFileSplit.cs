namespace ArchGen.Data.Images;

/// <summary>
/// One split of an image folder: file paths and labels, decoded only when used. The first loader (or the dataset's
/// statistics) runs a <see cref="Scan"/>: every file is decoded once, in parallel, which checks it (a bad file is an
/// error naming it, or is left out with <see cref="ImageFolderOptions.SkipBadImages"/>), sums the statistics and,
/// when the resized images fit the cache budget, keeps them.
/// </summary>
public sealed class ImageFileSplit : IImageSplit
{
    readonly object gate = new();
    readonly ImageCacheBudget budget;
    string[] files;
    int[] labels;
    SplitScan? scan;

    internal ImageFileSplit(string name, IReadOnlyList<string> files, IReadOnlyList<int> labels, IReadOnlyList<string> classNames, ImageFolderOptions options, ImageCacheBudget budget, SplitScan? scan = null)
    {
        if (files.Count != labels.Count) throw new ArgumentException("one label per file", nameof(labels));
        Name = name;
        this.files = files.ToArray();
        this.labels = labels.ToArray();
        ClassNames = classNames;
        Options = options;
        this.budget = budget;
        this.scan = scan;
    }

    /// <summary>Unlabelled images (every label 0) named <paramref name="name"/>, e.g. the photos <c>predict</c> classifies.</summary>
    public static ImageFileSplit FromFiles(string name, IReadOnlyList<string> files, IReadOnlyList<string> classNames, ImageFolderOptions options)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new ImageFileSplit(name, files, new int[files.Count], classNames, options, new ImageCacheBudget(0));
    }

    /// <summary>"train" or "test" (or the name given to <see cref="FromFiles"/>).</summary>
    public string Name { get; }

    /// <summary>The image files, in order (bad files are left out once a scan with <see cref="ImageFolderOptions.SkipBadImages"/> has run).</summary>
    public IReadOnlyList<string> Files { get { lock (gate) return files; } }

    /// <summary>One label per file.</summary>
    public IReadOnlyList<int> Labels { get { lock (gate) return labels; } }

    /// <inheritdoc />
    public int Count { get { lock (gate) return files.Length; } }

    /// <inheritdoc />
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Images are decoded to RGB.</summary>
    public int Channels => 3;

    /// <summary>How the folder is read.</summary>
    public ImageFolderOptions Options { get; }

    /// <inheritdoc />
    public IImageSplit Take(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        lock (gate)
        {
            if (n >= files.Length) return this;
            return new ImageFileSplit(Name, files[..n], labels[..n], ClassNames, Options, budget, scan?.Take(n));
        }
    }

    /// <summary>An <see cref="ImageFileLoader"/> (scans the split first, once).</summary>
    public IBatchLoader CreateLoader(LoaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = Scan(options.Size);
        return new ImageFileLoader(this, result, options);
    }

    /// <summary>
    /// Decodes every file once for <paramref name="size"/> (resized for evaluation): checks it, sums the statistics and
    /// fills the cache when it fits. Runs once per size; later calls return the result.
    /// </summary>
    public SplitScan Scan(int size)
    {
        lock (gate)
        {
            if (scan is { } done && done.Size == size) return done;
            scan?.Release(budget);
            scan = null;

            var renderer = new ImageRenderer(size, new ImageDecoder(Options.Limits));
            int n = files.Length;
            var errors = new DataException?[n];
            // A split that clearly cannot fit (4:3 photos at the resized size) is not cached at all, so a large
            // folder does not hold the budget's worth of images during the scan only to drop them.
            int side = renderer.ResizeSide;
            long typical = 3L * side * (side * 4 / 3);
            var cache = Options.CacheBytes > 0 && n * typical <= Options.CacheBytes ? new ResizedImage?[n] : null;
            long cached = 0;
            bool overflow = cache is null;
            var sum = new long[3];
            var squares = new long[3];
            long pixels = 0;
            var merge = new object();
            var current = files;
            Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Options.ResolvedWorkers, CancellationToken = Options.Cancel }, () => new Sums(), (i, _, local) =>
            {
                try
                {
                    ImageDecoder.RequireImageExtension(current[i]);
                    var image = renderer.Resized(current[i]);
                    local.Add(image);
                    if (!Volatile.Read(ref overflow))
                    {
                        if (budget.TryTake(image.Bytes))
                        {
                            cache![i] = image;
                            Interlocked.Add(ref cached, image.Bytes);
                        }
                        else Volatile.Write(ref overflow, true);
                    }
                }
                catch (DataException e)
                {
                    errors[i] = e;
                }
                return local;
            }, local =>
            {
                lock (merge)
                {
                    for (int c = 0; c < 3; c++) { sum[c] += local.Sum[c]; squares[c] += local.Squares[c]; }
                    pixels += local.Pixels;
                }
            });

            // All or nothing: a split that does not fit entirely is streamed (its partial cache is given back).
            if (overflow && cache is not null)
            {
                budget.Give(Interlocked.Read(ref cached));
                cache = null;
            }

            var bad = Enumerable.Range(0, n).Where(i => errors[i] is not null).ToArray();
            if (bad.Length > 0)
            {
                if (!Options.SkipBadImages)
                {
                    cache?.Where(c => c is not null).ToList().ForEach(c => budget.Give(c!.Bytes));
                    throw errors[bad[0]]!;
                }
                var keep = Enumerable.Range(0, n).Where(i => errors[i] is null).ToArray();
                if (keep.Length == 0)
                    throw new DataException($"none of the {n} {Name} files could be read as an image (first: {errors[0]!.Message})", Path.GetDirectoryName(files[0]));
                files = keep.Select(i => files[i]).ToArray();
                labels = keep.Select(i => labels[i]).ToArray();
                cache = cache is null ? null : keep.Select(i => cache[i]).ToArray();
                const int Named = 3;
                var names = string.Join("; ", bad.Take(Named).Select(i => errors[i]!.Message.ReplaceLineEndings(" ")));
                string more = bad.Length > Named ? $"; and {bad.Length - Named} more" : "";
                (Options.Warning ?? Console.Error.WriteLine)(Printable.Text($"warning: skipped {bad.Length} of {n} {Name} files that cannot be read as images: {names}{more}"));
            }

            scan = new SplitScan(size, cache, Statistics(sum, squares, pixels));
            return scan;
        }
    }

    static Normalization Statistics(long[] sum, long[] squares, long pixels)
    {
        var mean = new float[3];
        var std = new float[3];
        for (int c = 0; c < 3; c++)
        {
            double m = pixels == 0 ? 0 : sum[c] / (double)pixels / 255.0;
            double v = pixels == 0 ? 1 : squares[c] / (double)pixels / (255.0 * 255.0) - m * m;
            mean[c] = (float)m;
            std[c] = (float)Math.Sqrt(Math.Max(v, 1e-12));
        }
        return new Normalization(mean, std);
    }

    /// <summary>Exact per-channel integer sums of one worker's images.</summary>
    sealed class Sums
    {
        public readonly long[] Sum = new long[3];
        public readonly long[] Squares = new long[3];
        public long Pixels;

        public void Add(ResizedImage image)
        {
            var rgb = image.Rgb;
            long s0 = 0, s1 = 0, s2 = 0, q0 = 0, q1 = 0, q2 = 0;
            for (int i = 0; i + 2 < rgb.Length; i += 3)
            {
                int r = rgb[i], g = rgb[i + 1], b = rgb[i + 2];
                s0 += r; s1 += g; s2 += b;
                q0 += r * r; q1 += g * g; q2 += b * b;
            }
            Sum[0] += s0; Sum[1] += s1; Sum[2] += s2;
            Squares[0] += q0; Squares[1] += q1; Squares[2] += q2;
            Pixels += rgb.Length / 3;
        }
    }
}

/// <summary>What a scan of a split found: the size it ran for, the cache (null when the split is streamed) and the statistics.</summary>
public sealed class SplitScan
{
    readonly bool ownsCache;

    internal SplitScan(int size, ResizedImage?[]? cache, Normalization statistics, bool ownsCache = true)
    {
        this.ownsCache = ownsCache;
        Size = size;
        Cache = cache;
        Statistics = statistics;
    }

    /// <summary>The model input side the scan ran for.</summary>
    public int Size { get; }

    /// <summary>The images resized for evaluation, one per file, or null when the split is decoded on every use.</summary>
    public IReadOnlyList<ResizedImage?>? Cache { get; }

    /// <summary>Whether the split is held in memory.</summary>
    public bool Cached => Cache is not null;

    /// <summary>Per-channel mean and standard deviation of the resized images.</summary>
    public Normalization Statistics { get; }

    /// <summary>The first <paramref name="n"/> entries, sharing (not owning) the cached images.</summary>
    internal SplitScan Take(int n) => new(Size, Cache?.Take(n).ToArray(), Statistics, ownsCache: false);

    internal void Release(ImageCacheBudget budget)
    {
        if (Cache is null || !ownsCache) return;
        foreach (var image in Cache) if (image is not null) budget.Give(image.Bytes);
    }
}
