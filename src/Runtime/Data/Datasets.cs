namespace ArchGen.Data;

/// <summary>The built-in datasets by name.</summary>
public static class Datasets
{
    /// <summary>
    /// A built-in dataset: its name, the other spellings <see cref="Open"/> accepts, what <c>--help</c> adds to its
    /// name, whether its images are held in memory (so that some can be held out), and how it opens.
    /// </summary>
    sealed record Entry(string Name, string[] Aliases, string Note, bool InMemory, Func<DataOptions, IDataset> Open);

    /// <summary>Every built-in dataset; a new one is a row here.</summary>
    static readonly Entry[] Entries =
    [
        new(Cifar10.Name, ["cifar-10"], "", InMemory: true, Cifar10.Open),
        new(FashionMnist.Name, ["fashionmnist", "fashion_mnist"], "", InMemory: true, FashionMnist.Open),
        new(SyntheticShapes.Name, [], "", InMemory: true, SyntheticShapes.Open),
        new(ImageFolder.Name, [], " (your photos: JPEG/PNG/WebP/BMP/GIF in train/<class>/ and test/<class>/ under --data)", InMemory: false, OpenFolder),
    ];

    /// <summary>Names accepted by <see cref="Open"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = Entries.Select(e => e.Name).ToArray();

    /// <summary>The datasets whose images are held in memory (<c>--holdout</c> takes its images from their training split).</summary>
    public static IReadOnlyList<string> InMemoryNames { get; } = Entries.Where(e => e.InMemory).Select(e => e.Name).ToArray();

    /// <summary>Every dataset for <c>--help</c>: "cifar10, …, or folder (your photos: …)."</summary>
    public static string Help { get; } =
        string.Join(", ", Entries[..^1].Select(e => e.Name + e.Note)) + ", or " + Entries[^1].Name + Entries[^1].Note + ".";

    /// <summary>
    /// Opens a built-in dataset by (case-insensitive) name; splits load on first use. <c>folder</c> reads your own
    /// images from <see cref="DataOptions.DataDir"/> as <see cref="DataOptions.Images"/> says (see <see cref="ImageFolder"/>).
    /// </summary>
    public static IDataset Open(string name, DataOptions options)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        string key = name.Trim().ToLowerInvariant();
        var entry = Entries.FirstOrDefault(e => e.Name == key || e.Aliases.Contains(key))
            ?? throw new DataException($"unknown dataset '{name}'; expected one of: {string.Join(", ", Names)}");
        return entry.Open(options);
    }

    static IDataset OpenFolder(DataOptions options) => options.DataDir is null
        ? throw new DataException("the folder dataset needs --data DIR holding train/<class>/ and test/<class>/ image folders")
        : ImageFolder.Open(options.DataDir, options.ImageSize ?? ImageFolder.DefaultSize, FolderOptions(options));

    /// <summary>How the folder dataset reads its files: <see cref="DataOptions.Images"/>, stopped by <see cref="DataOptions.CancellationToken"/>.</summary>
    static Images.ImageFolderOptions FolderOptions(DataOptions options) =>
        (options.Images ?? new Images.ImageFolderOptions()) with { Cancel = options.CancellationToken };
}
