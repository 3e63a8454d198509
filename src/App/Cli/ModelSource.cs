using ArchGen.Checkpoints;
using ArchGen.Interop;
using ArchGen.Training;
using static TorchSharp.torch;

namespace ArchGen.App.Cli;

/// <summary>A model built from what the user pointed at: an ArchGen checkpoint, a run folder (its latest checkpoint) or a PyTorch weights file.</summary>
public sealed record ModelSource(CatalogEntry Entry, nn.Module<Tensor, Tensor> Module, TrainConfig? SavedConfig, string Path, string? RunFolderPath)
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
            return new ModelSource(entry, module, null, location, null);
        }

        string path = Checkpoint.Resolve(location) ?? throw new FileNotFoundException($"Run folder '{location}' has no {Checkpoint.LatestFileName} yet.");
        var header = Checkpoint.ReadHeader(path);
        if (model is not null && !string.Equals(model, header.Model, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{path} holds a {header.Model}, not a {model}.");
        var fromCheckpoint = ModelCatalog.Get(header.Model);
        var built = fromCheckpoint.Create();
        Checkpoint.LoadInferenceWeights(path, built); // the moving average of the weights when the run kept one
        string? runFolder = Directory.Exists(location) ? location : System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        return new ModelSource(fromCheckpoint, built, header.Config, path, runFolder);
    }
}
