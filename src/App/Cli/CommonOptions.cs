using System.CommandLine;
using ArchGen.Data;
using ArchGen.Training;

using ArchGen.Inference;

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
        Description = Datasets.Help,
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

    public static Option<int> BatchSize() => Checked(new Option<int>("--batch-size", "-b") { Description = "Images per batch (a batch never holds more than the dataset).", DefaultValueFactory = _ => 128 }, OptionRules.BatchSize);

    public static Option<string> Device() => new Option<string>("--device")
    {
        Description = "auto (CUDA when available), cpu or cuda.",
        DefaultValueFactory = _ => "auto",
    }.AcceptOnlyFromAmong("auto", "cpu", "cuda");

    public static Option<int> Threads() => Checked(new Option<int>("--threads")
    {
        Description = $"Intra-op threads (0 = one per core; at most {OptionRules.ThreadsPerCoreLimit} per core).",
        DefaultValueFactory = _ => 0,
    }, OptionRules.Threads);

    public static Option<int> Seed() => new("--seed") { Description = "Seed for weights, shuffling and augmentation.", DefaultValueFactory = _ => 0 };

    public static Option<int> TestLimit() => Checked(new Option<int>("--test-limit") { Description = "Use only the first N test images (0 = all).", DefaultValueFactory = _ => 0 }, OptionRules.TestLimit);

    /// <summary>
    /// Adds <paramref name="rule"/> (from <see cref="OptionRules"/>, which <see cref="TrainConfig.Validate"/> applies too)
    /// as the option's validator: an out-of-range value is a parse error, exit code 2, for every command that takes it.
    /// </summary>
    public static Option<T> Checked<T>(Option<T> option, Func<T, string?> rule)
    {
        option.Validators.Add(result =>
        {
            T value;
            try
            {
                value = result.GetValueOrDefault<T>()!;
            }
            catch (InvalidOperationException)
            {
                return; // not a value of the option's type: the parser reports that, naming the option
            }
            if (rule(value) is { } error) result.AddError(error);
        });
        return option;
    }

    /// <summary>
    /// Opens a dataset with a console progress line for downloads: served for a model whose input side is
    /// <paramref name="imageSize"/> when known (Fashion-MNIST at 28 is served unpadded); a folder of images is read as
    /// <paramref name="images"/> says.
    /// </summary>
    public static IDataset OpenDataset(string name, string? dataDir, bool download, int seed, int? imageSize = null, Data.Images.ImageFolderOptions? images = null) =>
        Datasets.Open(name, new DataOptions(DataDir: dataDir, Download: download, Seed: seed, Progress: Reporting.DownloadProgressView.Create(), Images: images, ImageSize: imageSize, CancellationToken: Interruption.Token));

    /// <summary>The data a run of <paramref name="config"/> trains on, served for <paramref name="model"/>'s input size, its image folder read as the run says.</summary>
    public static IDataset OpenTrainingData(TrainConfig config, ModelFacts model, int seed) =>
        OpenDataset(config.Dataset, config.DataDir, config.Download, seed, model.InputSize,
            new Data.Images.ImageFolderOptions(SkipBadImages: config.SkipBadImages, AllowEmptyClasses: config.AllowEmptyClasses));

    public static Option<bool> FlipTta() => new("--flip-tta")
    {
        Description = "Average each image's logits with its mirror image's (default: as the model's run evaluated it, recorded in its checkpoint or ONNX model).",
    };

    /// <summary>Flip test-time augmentation as given on the command line, else as the model's run evaluated it.</summary>
    public static bool FlipTta(ParseResult parse, Option<bool> option, ModelSource source) =>
        parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option) : source.FlipTta;

    public static Option<bool> OverwriteRunFile() => new("--overwrite")
    {
        Description = "Replace a file of the training run in the target's folder (its checkpoint, config.json, metrics or plots); without it that is refused.",
    };

    public static Option<bool> AllowEmptyClasses() => new("--allow-empty-classes")
    {
        Description = "Accept a train/<class>/ folder without images as a class (by default it is refused: no image would teach it).",
    };

    public static Option<bool> SkipBadImages() => new("--skip-bad-images")
    {
        Description = "Leave out image files that cannot be read (corrupt, truncated, unsupported, too large) with one warning line, instead of stopping at the first.",
    };
}
