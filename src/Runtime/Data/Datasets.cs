namespace ArchGen.Data;

/// <summary>The built-in datasets by name.</summary>
public static class Datasets
{
    /// <summary>Names accepted by <see cref="Open"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["cifar10", "fashion-mnist", "synthetic", "folder"];

    /// <summary>
    /// Opens a built-in dataset by (case-insensitive) name; splits load on first use. <c>folder</c> reads your own
    /// images from <see cref="DataOptions.DataDir"/> as <see cref="DataOptions.Images"/> says (see <see cref="ImageFolder"/>).
    /// </summary>
    public static IDataset Open(string name, DataOptions options)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        return name.Trim().ToLowerInvariant() switch
        {
            "cifar10" or "cifar-10" => Cifar10.Open(options),
            "fashion-mnist" or "fashionmnist" or "fashion_mnist" => FashionMnist.Open(options),
            "synthetic" => SyntheticShapes.Open(options),
            "folder" => options.DataDir is null
                ? throw new DataException("the folder dataset needs --data DIR holding train/<class>/ and test/<class>/ image folders")
                : ImageFolder.Open(options.DataDir, options.ImageSize ?? ImageFolder.DefaultSize, FolderOptions(options)),
            _ => throw new DataException($"unknown dataset '{name}'; expected one of: {string.Join(", ", Names)}"),
        };
    }

    /// <summary>How the folder dataset reads its files: <see cref="DataOptions.Images"/>, stopped by <see cref="DataOptions.CancellationToken"/>.</summary>
    static Images.ImageFolderOptions FolderOptions(DataOptions options) =>
        (options.Images ?? new Images.ImageFolderOptions()) with { Cancel = options.CancellationToken };
}
