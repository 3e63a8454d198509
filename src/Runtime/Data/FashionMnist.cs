
namespace ArchGen.Data;

/// <summary>
/// Fashion-MNIST from its IDX files (gzip-compressed or plain). By default the 28x28 grayscale images are stored
/// zero-padded (2 pixels each side) to 32x32, 1 channel, for CIFAR-shaped models; <see cref="BatchLoader"/> repeats
/// the channel for 3-channel models. A model whose input is 28x28 (<see cref="DataOptions.ImageSize"/> = 28) gets the
/// images as published, unpadded, with their own statistics (<see cref="NativeNormalization"/>).
/// </summary>
public static class FashionMnist
{
    /// <summary>The dataset's name (<c>--dataset fashion-mnist</c>), also the folder it is looked for in.</summary>
    public const string Name = "fashion-mnist";

    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the files.</summary>
    public const string SystemFolder = "/usr/share/datasets/fashion-mnist";

    /// <summary>Side of the stored (padded) images.</summary>
    public const int Size = 32;

    /// <summary>Side of the original images.</summary>
    public const int SourceSize = 28;

    /// <summary>The ten class names.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// Mean and std of the 60000 training images as stored and fed to the model: zero-padded to 32x32. They equal the
    /// familiar 28x28 figures (mean 0.2860, std 0.3530) spread over 1024 instead of 784 pixels. Computed with
    /// <see cref="Normalization.Compute"/> on the official files (a test re-checks them against the installed copy).
    /// </summary>
    public static Normalization PaddedNormalization { get; } = new([0.2190f], [0.3318f]);

    /// <summary>
    /// Mean and std of the 60000 training images as published (28x28, unpadded): the familiar 0.2860 and 0.3530.
    /// Computed with <see cref="Normalization.Compute"/> on the official files (a test re-checks them against the installed copy).
    /// </summary>
    public static Normalization NativeNormalization { get; } = new([0.2860f], [0.3530f]);

    /// <summary>Base names of the four files (each may also end in <c>.gz</c>).</summary>
    public static IReadOnlyList<string> FileNames { get; } =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    private const int ImagesMagic = 0x00000803; // unsigned bytes, 3 dimensions
    private const int LabelsMagic = 0x00000801; // unsigned bytes, 1 dimension

    /// <summary>
    /// Finds the files in <see cref="DataOptions.DataDir"/> (or its <c>fashion-mnist</c> subfolder) when given; otherwise in
    /// <c>$ARCHGEN_DATA/fashion-mnist</c>, <c>./data/fashion-mnist</c>, then <see cref="SystemFolder"/>. Splits are read on first use.
    /// Images are 28x28 with <see cref="NativeNormalization"/> when <see cref="DataOptions.ImageSize"/> is 28, else
    /// padded to 32x32 with <see cref="PaddedNormalization"/>.
    /// </summary>
    public static IDataset Open(DataOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var folder = Locate(options.DataDir, Environment.GetEnvironmentVariable("ARCHGEN_DATA"), Directory.GetCurrentDirectory());
        return Open(folder, options.ImageSize == SourceSize ? SourceSize : Size, options.CancellationToken);
    }

    /// <summary>
    /// Opens the files in <paramref name="folder"/> (read lazily; <paramref name="cancel"/> stops a read), zero-padded
    /// to 32x32 or, with <paramref name="size"/> 28, as published.
    /// </summary>
    public static IDataset Open(string folder, int size = Size, CancellationToken cancel = default)
    {
        CheckSize(size);
        foreach (var name in FileNames) FindFile(folder, name);
        return new InMemoryDataset(Name,
            () => Read(folder, "train", size, cancel),
            () => Read(folder, "t10k", size, cancel),
            () => size == Size ? PaddedNormalization : NativeNormalization);
    }

    private static void CheckSize(int size)
    {
        if (size != Size && size != SourceSize)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"Fashion-MNIST is served at {SourceSize}x{SourceSize} (as published) or {Size}x{Size} (zero-padded).");
    }

    /// <summary>The folder to read from; a <see cref="DataException"/> listing where it looked when none holds the files.</summary>
    public static string Locate(string? dataDir, string? environmentDir, string currentDirectory)
    {
        var candidates = new List<string>();
        if (!string.IsNullOrWhiteSpace(dataDir))
        {
            if (!Directory.Exists(dataDir)) throw new DataException("the data folder does not exist", dataDir);
            candidates.Add(dataDir);
            candidates.Add(Path.Combine(dataDir, Name));
        }
        else
        {
            if (!string.IsNullOrWhiteSpace(environmentDir)) candidates.Add(Path.Combine(environmentDir, Name));
            candidates.Add(Path.Combine(currentDirectory, "data", Name));
            candidates.Add(SystemFolder);
        }
        foreach (var c in candidates)
        {
            if (Directory.Exists(c) && FileNames.Any(n => File.Exists(Path.Combine(c, n)) || File.Exists(Path.Combine(c, n + ".gz"))))
                return Path.GetFullPath(c);
        }
        throw new DataException(
            $"Fashion-MNIST not found: expected {string.Join(", ", FileNames)} (each optionally .gz) in "
            + string.Join(" or ", candidates) + " (on Debian: apt install dataset-fashion-mnist)");
    }

    /// <summary>The official item counts, the most each split may have: 60000 training and 10000 test images.</summary>
    public static int MaxItems(string split) => split == "train" ? 60000 : 10000;

    /// <summary>
    /// Reads one split (<c>"train"</c> or <c>"t10k"</c>) from <paramref name="folder"/>, within the official shape
    /// (see <see cref="IdxFile"/>: no more items than the official split, 28x28, sizes checked before inflating),
    /// zero-padded to <paramref name="size"/> 32 or as published at 28.
    /// </summary>
    public static ImageSet Read(string folder, string split, int size = Size, CancellationToken cancel = default)
    {
        CheckSize(size);
        var imagesPath = FindFile(folder, $"{split}-images-idx3-ubyte");
        var labelsPath = FindFile(folder, $"{split}-labels-idx1-ubyte");
        var labels = IdxFile.Read(labelsPath, LabelsMagic, [], MaxItems(split), cancel);
        var images = IdxFile.Read(imagesPath, ImagesMagic, [SourceSize, SourceSize], MaxItems(split), cancel);
        int count = images.Count;
        if (labels.Count != count)
            throw new DataException($"the file has {labels.Count} labels but {Path.GetFileName(imagesPath)} has {count} images; expected equal counts", labelsPath, 4);

        var outLabels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            byte l = labels.Data[i];
            if (l >= ClassNames.Count)
                throw new DataException($"label {l} of item {i} is out of range; expected 0..{ClassNames.Count - 1}", labelsPath, labels.HeaderBytes + i);
            outLabels[i] = l;
        }

        if (size == SourceSize)
            return new ImageSet(images.Data, outLabels, 1, SourceSize, SourceSize, ClassNames);

        int pad = (size - SourceSize) / 2;
        var pixels = new byte[(long)count * size * size];
        Parallel.For(0, count, i =>
        {
            var src = images.Data.AsSpan(i * SourceSize * SourceSize, SourceSize * SourceSize);
            var dst = pixels.AsSpan(i * size * size, size * size);
            for (int y = 0; y < SourceSize; y++)
                src.Slice(y * SourceSize, SourceSize).CopyTo(dst.Slice((y + pad) * size + pad, SourceSize));
        });
        return new ImageSet(pixels, outLabels, 1, size, size, ClassNames);
    }

    private static string FindFile(string folder, string baseName)
    {
        var plain = Path.Combine(folder, baseName);
        if (File.Exists(plain)) return plain;
        var gz = plain + ".gz";
        if (File.Exists(gz)) return gz;
        throw new DataException($"missing file; expected {baseName} or {baseName}.gz (Fashion-MNIST IDX format)", plain);
    }
}
