using ArchGen.Checkpoints;
using ArchGen.Data;
using ArchGen.Interop;
using ArchGen.Training;
using static TorchSharp.torch;

namespace ArchGen.App.Cli;

/// <summary>
/// A model built from what the user pointed at: an ArchGen checkpoint, a run folder (its latest checkpoint) or a
/// PyTorch weights file. <see cref="ClassNames"/> are those the checkpoint records, or the class indices.
/// </summary>
public sealed record ModelSource(CatalogEntry Entry, nn.Module<Tensor, Tensor> Module, TrainConfig? SavedConfig, string Path, string? RunFolderPath, IReadOnlyList<string> ClassNames)
{
    /// <param name="location">Checkpoint file, run folder, or .pt/.pth/.safetensors file.</param>
    /// <param name="model">Model name; required for PyTorch files, optional (checked) for checkpoints.</param>
    public static ModelSource Open(string location, string? model)
    {
        if (File.Exists(location) && PyTorchWeights.IsWeightsFile(location))
        {
            var entry = ModelCatalog.Get(model ?? "CifarMobileNetV2");
            var module = entry.Create();
            PyTorchWeights.Load(module, location);
            return new ModelSource(entry, module, null, location, null, Indices(entry.Facts.Classes));
        }

        string path = Checkpoint.Resolve(location) ?? throw new FileNotFoundException($"Run folder '{location}' has no {Checkpoint.LatestFileName} yet.");
        var header = Checkpoint.ReadHeader(path);
        if (model is not null && !string.Equals(model, header.Model, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{path} holds a {header.Model}, not a {model}.");
        if (!ModelCatalog.TryGet(header.Model, out var fromCheckpoint))
            throw new DataException($"holds a {header.Model}, a model this build's catalog does not have (it has {string.Join(", ", ModelCatalog.All.Select(e => e.Facts.Name))})", path);
        var classNames = header.ClassNames ?? Indices(fromCheckpoint.Facts.Classes);
        var built = fromCheckpoint.Create(classNames.Count);
        Checkpoint.Load(path, built, optimizer: null, restoreRng: false);
        string? runFolder = Directory.Exists(location) ? location : System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        return new ModelSource(fromCheckpoint, built, header.Config, path, runFolder, classNames);
    }

    /// <summary>"0", "1", ...: names for a model whose class names are not recorded.</summary>
    static string[] Indices(int classes) => Enumerable.Range(0, classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
}
