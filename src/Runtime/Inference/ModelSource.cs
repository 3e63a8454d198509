using ArchGen.Checkpoints;
using ArchGen.Data;
using ArchGen.Interop;
using ArchGen.Training;
using static TorchSharp.torch;

namespace ArchGen.Inference;

/// <summary>
/// A model file format besides ArchGen's checkpoints and PyTorch weights, registered with <see cref="ModelSource.Register"/>
/// by the assembly that reads it (ONNX models: <c>ArchGen.Onnx</c>, which the training runtime does not depend on).
/// </summary>
public interface IModelFileFormat
{
    /// <summary>Whether <paramref name="path"/> (an existing file) is in this format.</summary>
    bool Handles(string path);

    /// <summary>Opens the model; <paramref name="model"/> is the catalog name the user gave (checked), <paramref name="threads"/> the intra-op threads (0 = one per core).</summary>
    ModelSource Open(string path, string? model, int threads);
}

/// <summary>
/// A model built from what the user pointed at: an ArchGen checkpoint, a run folder (its latest checkpoint), a
/// PyTorch weights file, or an exported ONNX model (run by ONNX Runtime).
/// </summary>
/// <param name="Name">The model's name (its catalog name).</param>
/// <param name="InputChannels">Channels of its input.</param>
/// <param name="InputSize">Side of its input.</param>
/// <param name="Entry">Its catalog entry; null for an ONNX model of a network this build does not have.</param>
/// <param name="Module">The model, ready to evaluate.</param>
/// <param name="SavedConfig">The configuration of the run that made a checkpoint, or null.</param>
/// <param name="Path">The file it was read from.</param>
/// <param name="RunFolderPath">The run folder whose own checkpoint this is (see <see cref="RunFolder.Of"/>), or null.</param>
/// <param name="ClassNames">The names of its outputs: recorded in a checkpoint or an ONNX model, else the class indices.</param>
/// <param name="Normalization">
/// The statistics it expects its inputs normalized with, where known: recorded in a checkpoint or an ONNX model,
/// ImageNet's for PyTorch weights; null for a checkpoint that does not record them (its dataset's apply).
/// </param>
/// <param name="FlipTta">Whether its run evaluated it with flip test-time augmentation (recorded in a checkpoint or an ONNX model).</param>
/// <param name="ClassNamesRecorded">Whether <paramref name="ClassNames"/> were recorded with the model (else they are the class indices).</param>
public sealed record ModelSource(
    string Name, int InputChannels, int InputSize, CatalogEntry? Entry, nn.Module<Tensor, Tensor> Module, TrainConfig? SavedConfig, string Path,
    string? RunFolderPath, IReadOnlyList<string> ClassNames, Normalization? Normalization, bool FlipTta, bool ClassNamesRecorded)
{
    /// <param name="location">Checkpoint file, run folder, .pt/.pth/.safetensors file or .onnx file.</param>
    /// <param name="model">Model name; required for PyTorch files, optional (checked) for checkpoints and ONNX models.</param>
    /// <param name="threads">Intra-op threads for an ONNX model (0 = one per core).</param>
    public static ModelSource Open(string location, string? model, int threads = 0)
    {
        if (ArchGen.Data.Images.ImageFile.NotUtf8(location)) throw ArchGen.Data.Images.ImageFile.NotUtf8Error(location);
        if (File.Exists(location) && Formats.FirstOrDefault(f => f.Handles(location)) is { } format) return format.Open(location, model, threads);
        if (File.Exists(location) && PyTorchWeights.IsWeightsFile(location)) return OpenWeights(location, model);

        string path = Checkpoint.Resolve(location) ?? throw new FileNotFoundException($"Run folder '{location}' has no {Checkpoint.LatestFileName} yet.");
        CatalogEntry fromCheckpoint = null!;
        // One read of the file: the header says which model to build, then its weights (the moving average when the run kept one) load into it.
        var (header, built) = Checkpoint.LoadInference(path, header =>
        {
            if (model is not null && !string.Equals(model, header.Model, StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"{path} holds a {header.Model}, not a {model}.");
            if (!ModelCatalog.TryGet(header.Model, out var found))
                throw new DataException($"holds a {header.Model}, a model this build's catalog does not have (it has {string.Join(", ", ModelCatalog.All.Select(e => e.Facts.Name))})", path);
            fromCheckpoint = found;
            return fromCheckpoint.Create((header.ClassNames ?? Indices(fromCheckpoint.Facts.Classes)).Count);
        });
        var classNames = header.ClassNames ?? Indices(fromCheckpoint.Facts.Classes);
        var facts = fromCheckpoint.Facts;
        return new ModelSource(facts.Name, facts.InputChannels, facts.InputSize, fromCheckpoint, built, header.Config, path, RunFolder.Of(path)?.Path, classNames,
            header.Config.Normalization?.ToNormalization(), header.Config.FlipTta, ClassNamesRecorded: header.ClassNames is not null);
    }

    /// <summary>
    /// A weights file: its model from <paramref name="model"/> or the file's own metadata (an ArchGen safetensors
    /// export; else <c>--model</c> is required), its class count from its classifier's shape (a fine-tuned model's
    /// differs from the catalog's), class names and normalization from the metadata (else the class indices and
    /// ImageNet's statistics, which torchvision's weights expect).
    /// </summary>
    static ModelSource OpenWeights(string location, string? model)
    {
        var metadata = PyTorchWeights.ReadMetadata(location);
        if (model is not null && metadata is not null && !string.Equals(model, metadata.Model, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{location} holds a {metadata.Model}, not a {model}.");
        string name = model ?? metadata?.Model
            ?? throw new ArgumentException($"{location} does not say which model it holds (only ArchGen's .safetensors exports do); pass --model NAME ('archgen models' lists them).");
        var entry = ModelCatalog.Get(name);
        int classes = PartialWeights.ClassesIn(entry, PyTorchWeights.Inspect(location)) ?? entry.Facts.Classes;
        if (metadata is not null && metadata.ClassNames.Count != classes)
            throw new DataException($"names {metadata.ClassNames.Count} classes but its classifier has {classes} outputs", location);
        var module = entry.Create(classes);
        PyTorchWeights.Load(module, location);
        var facts = entry.Facts;
        return new ModelSource(facts.Name, facts.InputChannels, facts.InputSize, entry, module, null, location, null,
            metadata?.ClassNames ?? Indices(classes), metadata?.Normalization ?? Normalization.ImageNet, metadata?.FlipTta ?? false, ClassNamesRecorded: metadata is not null);
    }

    static readonly List<IModelFileFormat> Formats = [];

    /// <summary>Adds a model file format <see cref="Open"/> reads (once, at start).</summary>
    public static void Register(IModelFileFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        lock (Formats)
            if (!Formats.Any(f => f.GetType() == format.GetType())) Formats.Add(format);
    }

    /// <summary>
    /// The statistics the model's inputs are normalized with, decided in one place for test, predict and export:
    /// recorded with the model (its checkpoint, safetensors or ONNX metadata; ImageNet's for a .pt file), else (a
    /// checkpoint older than the record) those of the dataset it was trained on: <paramref name="trainedOn"/> when the
    /// caller has that dataset open, else read here.
    /// </summary>
    public Normalization InputNormalization(IDataset? trainedOn = null)
    {
        if (Normalization is { } known) return known;
        var config = SavedConfig ?? throw new InvalidOperationException("A model without recorded statistics comes from a checkpoint.");
        if (trainedOn is not null) return trainedOn.Normalization;
        try
        {
            return Datasets.Open(config.Dataset, new DataOptions(DataDir: config.DataDir, Download: false, Seed: config.Seed, ImageSize: InputSize)).Normalization;
        }
        catch (DataException e)
        {
            throw new DataException($"{Path} does not record the statistics it was trained with, and its dataset cannot be read for them ({e.Message})");
        }
    }

    /// <summary>"0", "1", ...: names for a model whose class names are not recorded.</summary>
    static string[] Indices(int classes) => Enumerable.Range(0, classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
}
