using ArchGen.Data;
using System.Collections.Concurrent;
using ArchGen.Checkpoints;
using ArchGen.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Interop;

/// <summary>What <see cref="PartialWeights.Load(nn.Module, CatalogEntry, string)"/> did, key by key.</summary>
/// <param name="Source">The file the weights came from.</param>
/// <param name="Loaded">Model keys copied from the file (name and shape matched).</param>
/// <param name="Reinitialized">Classifier keys kept at their fresh initialization, with why (shape in the file vs the model, or absent).</param>
/// <param name="Statistics">
/// The input statistics the weights were trained with, as the file records them (an ArchGen checkpoint's run, or an
/// ArchGen safetensors export), or ImageNet's for other PyTorch weights (torchvision's pretrained weights expect them);
/// null when an ArchGen checkpoint records none.
/// </param>
public sealed record PartialLoadReport(string Source, IReadOnlyList<string> Loaded, IReadOnlyList<string> Reinitialized, NormalizationChoice? Statistics = null)
{
    /// <summary>One line for the console: the loaded keys as "every key but ..." (exact, short) and the re-initialized ones in full.</summary>
    public string Summary(int modelKeys) => Reinitialized.Count == 0
        ? $"Initialized from {Source}: loaded all {Loaded.Count} tensors of the model."
        : $"Initialized from {Source}: loaded {Loaded.Count} of {modelKeys} tensors (every key except the re-initialized ones); re-initialized {Reinitialized.Count}: {string.Join(", ", Reinitialized)}.";
}

/// <summary>
/// Fine-tuning's starting point: copies every tensor of a PyTorch state_dict (.pt/.pth/.bin/.safetensors) or an
/// ArchGen checkpoint whose name and shape match the model's. The classifier (the keys whose shape depends on the
/// class count, found by building the catalog model with two class counts and comparing) keeps its fresh
/// initialization when its shape differs or it is absent; anything else that does not match is an error listing
/// the keys, so weights of another architecture are never loaded halfway.
/// </summary>
public static class PartialWeights
{
    static readonly ConcurrentDictionary<string, IReadOnlySet<string>> ClassifierCache = new(StringComparer.Ordinal);

    /// <summary>The state_dict keys of <paramref name="entry"/>'s models whose shape follows the class count.</summary>
    public static IReadOnlySet<string> ClassifierKeys(CatalogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return ClassifierCache.GetOrAdd(entry.Facts.FullName, _ =>
        {
            using var scope = torch.NewDisposeScope();
            using var two = entry.Create(2);
            using var three = entry.Create(3);
            var a = two.state_dict();
            var b = three.state_dict();
            return a.Keys.Where(k => !b.TryGetValue(k, out var t) || !t.shape.SequenceEqual(a[k].shape)).ToHashSet(StringComparer.Ordinal);
        });
    }

    /// <summary>
    /// Reads the tensors of <paramref name="path"/> and the statistics they were trained with: a PyTorch/safetensors
    /// state_dict, or an ArchGen checkpoint, opened and verified once (its model is rebuilt from the catalog with the
    /// class count it was trained for; the moving average of its weights when the run kept one, as <c>test</c> and
    /// <c>export</c> use). The caller disposes the tensors.
    /// </summary>
    static (Dictionary<string, Tensor> Tensors, NormalizationChoice? Statistics) Read(string path)
    {
        if (PyTorchWeights.IsWeightsFile(path))
        {
            var statistics = PyTorchWeights.ReadMetadata(path) is { } exported
                ? new NormalizationChoice("checkpoint", exported.Normalization.Mean, exported.Normalization.Std)
                : new NormalizationChoice("imagenet", Normalization.ImageNet.Mean, Normalization.ImageNet.Std);
            return (PyTorchWeights.Read(path), statistics);
        }
        string file = Checkpoint.Resolve(path) ?? throw new FileNotFoundException($"Run folder '{path}' has no {Checkpoint.LatestFileName} yet.");
        var (header, model) = Checkpoint.LoadInference(file, header => ModelCatalog.TryGet(header.Model, out var entry)
            ? entry.Create(header.ClassNames?.Count ?? entry.Facts.Classes)
            : throw new InvalidDataException($"{file} holds a {header.Model}, which is not in this build's model catalog."));
        using (model)
        {
            var tensors = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone(), StringComparer.Ordinal);
            return (tensors, header.Config.Normalization is { } recorded ? recorded with { Source = "checkpoint" } : null);
        }
    }

    /// <summary>
    /// The classes of the <paramref name="entry"/> model whose weights <paramref name="stored"/> holds, read off its
    /// classifier's output weight (the tensor whose first dimension is the class count); null when the file has no
    /// such tensor (it holds another model: loading it then lists the keys that do not fit).
    /// </summary>
    public static int? ClassesIn(CatalogEntry entry, IReadOnlyList<StoredTensor> stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var keys = ClassifierKeys(entry);
        var output = stored.FirstOrDefault(t => keys.Contains(t.Key) && t.Shape.Length == 2);
        return output is null || output.Shape[0] is < 1 or > WeightsMetadata.MaxClasses ? null : (int)output.Shape[0];
    }

    /// <summary>Loads the matching tensors of <paramref name="path"/> into <paramref name="model"/>, a <paramref name="entry"/> model, and reports key by key.</summary>
    public static PartialLoadReport Load(nn.Module model, CatalogEntry entry, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (source, statistics) = Read(path);
        try
        {
            return Load(model, ClassifierKeys(entry), source, path) with { Statistics = statistics };
        }
        finally
        {
            foreach (var t in source.Values) t.Dispose();
        }
    }

    /// <summary>Loads <paramref name="source"/>'s matching tensors; keys in <paramref name="classifier"/> may mismatch or be absent (re-initialized).</summary>
    public static PartialLoadReport Load(nn.Module model, IReadOnlySet<string> classifier, IReadOnlyDictionary<string, Tensor> source, string path)
    {
        var target = model.state_dict();
        var loaded = new List<string>();
        var reinitialized = new List<string>();
        var problems = new List<string>();
        foreach (var (key, tensor) in target)
        {
            bool present = source.TryGetValue(key, out var from);
            bool fits = present && from!.shape.SequenceEqual(tensor.shape);
            if (fits && !WeightFileCheck.SameKind(from!.dtype, tensor.dtype)) problems.Add($"{key} (file {from!.dtype}, model {tensor.dtype})");
            else if (fits) loaded.Add(key);
            else if (classifier.Contains(key)) reinitialized.Add(present ? $"{key} (file {Shape(from!)}, model {Shape(tensor)})" : $"{key} (not in the file)");
            else problems.Add(present ? $"{key} (file {Shape(from!)}, model {Shape(tensor)})" : $"{key} (missing)");
        }
        var unexpected = source.Keys.Where(k => !target.ContainsKey(k)).ToList();
        if (problems.Count > 0 || unexpected.Count > 0)
        {
            var parts = new List<string>();
            if (problems.Count > 0) parts.Add($"outside the classifier: {string.Join(", ", problems)}");
            if (unexpected.Count > 0) parts.Add($"unexpected keys: {string.Join(", ", unexpected)}");
            throw new DataException($"does not fit the model (only the classifier may differ): {string.Join("; ", parts)}", path);
        }
        WeightFileCheck.RequireSound(loaded.Select(key => KeyValuePair.Create(key, source[key])), path);
        using (torch.no_grad())
        {
            foreach (var key in loaded) target[key].copy_(source[key]);
        }
        WeightFileCheck.RequireSound(loaded.Select(key => KeyValuePair.Create(key, target[key])), path, narrowed: true);
        return new PartialLoadReport(path, loaded, reinitialized);
    }

    static string Shape(Tensor t) => "[" + string.Join(",", t.shape) + "]";
}
