using System.CommandLine;
using ArchGen.Data;

namespace ArchGen.App.Cli;

/// <summary>Options several commands share, each made fresh per command.</summary>
public static class CommonOptions
{
    public static Option<string> Model(string? defaultModel = "CifarMobileNetV2") => new("--model", "-m")
    {
        Description = "A model from the generated catalog ('archgen models' lists them).",
        DefaultValueFactory = defaultModel is null ? null! : _ => defaultModel,
    };

    public static Option<string> Dataset() => new Option<string>("--dataset", "-d")
    {
        Description = "cifar10, fashion-mnist, synthetic, or folder (PNG/PPM/PGM images in train/<class>/ and test/<class>/ under --data).",
        DefaultValueFactory = _ => "synthetic",
    }.AcceptOnlyFromAmong(Datasets.Names.ToArray());

    public static Option<string?> DataDir() => new("--data")
    {
        Description = "Folder holding the dataset (default: $ARCHGEN_DATA, then ./data; Fashion-MNIST also /usr/share/datasets/fashion-mnist).",
    };

    public static Option<bool> Download() => new("--download")
    {
        Description = "Download CIFAR-10 when it is not found (verified by MD5 before use).",
    };

    public static Option<int> BatchSize() => new("--batch-size", "-b") { Description = "Images per batch.", DefaultValueFactory = _ => 128 };

    public static Option<string> Device() => new Option<string>("--device")
    {
        Description = "auto (CUDA when available), cpu or cuda.",
        DefaultValueFactory = _ => "auto",
    }.AcceptOnlyFromAmong("auto", "cpu", "cuda");

    public static Option<int> Threads() => new("--threads") { Description = "Intra-op threads (0 = one per core).", DefaultValueFactory = _ => 0 };

    public static Option<int> Seed() => new("--seed") { Description = "Seed for weights, shuffling and augmentation.", DefaultValueFactory = _ => 0 };

    public static Option<int> TestLimit() => new("--test-limit") { Description = "Use only the first N test images (0 = all).", DefaultValueFactory = _ => 0 };

    /// <summary>Opens a dataset for a model whose input side is <paramref name="imageSize"/>, with a console progress line for downloads.</summary>
    public static IDataset OpenDataset(string name, string? dataDir, bool download, int seed, int imageSize) =>
        Datasets.Open(name, new DataOptions(DataDir: dataDir, Download: download, Seed: seed, Progress: Reporting.DownloadProgressView.Create(), ImageSize: imageSize));
}
