using System.Collections;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ArchGen.Interop;

/// <summary>
/// Moves weights between generated models and PyTorch: <c>torch.save(model.state_dict())</c> files (.pt, .pth) and
/// safetensors, read and written by TorchSharp.PyBridge. Loading is strict: every key must match and every shape must
/// agree, and a mismatch is one error listing the keys. The generated models use the originals' state_dict keys, so no
/// key map is needed.
/// </summary>
public static class PyTorchWeights
{
    /// <summary>True for the file names this class reads and writes: .pt, .pth, .bin and .safetensors.</summary>
    public static bool IsWeightsFile(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".pt" or ".pth" or ".bin" or ".safetensors";

    static bool IsSafetensors(string path) => Path.GetExtension(path).Equals(".safetensors", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads a state_dict file into tensors by key (the caller disposes them).</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No weights file at '{path}'.");
        try
        {
            if (IsSafetensors(path)) return Safetensors.LoadStateDict(path);
            Hashtable table = PyTorchUnpickler.UnpickleStateDict(path);
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (DictionaryEntry e in table)
            {
                if (e.Value is not Tensor t)
                    throw new InvalidDataException($"{path}: entry '{e.Key}' is not a tensor; expected a state_dict saved with torch.save(model.state_dict(), ...).");
                result[(string)e.Key] = t;
            }
            return result;
        }
        catch (Exception e) when (e is not InvalidDataException and not FileNotFoundException)
        {
            throw new InvalidDataException($"{path}: cannot read PyTorch weights ({e.Message}).", e);
        }
    }

    /// <summary>Loads a PyTorch or safetensors state_dict into <paramref name="model"/>, strictly.</summary>
    public static void Load(nn.Module model, string path)
    {
        var source = Read(path);
        try
        {
            var target = model.state_dict();
            CheckMatches(target, source, path);
            using var noGrad = torch.no_grad();
            foreach (var (key, tensor) in source)
                target[key].copy_(tensor);
        }
        finally
        {
            foreach (var t in source.Values) t.Dispose();
        }
    }

    /// <summary>Saves the model's state_dict as .pt/.pth (PyTorch pickle, loadable with <c>load_state_dict(strict=True)</c>) or .safetensors, atomically.</summary>
    public static void Save(nn.Module model, string path)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + ".tmp";
        var state = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.cpu().contiguous());
        try
        {
            if (IsSafetensors(path)) Safetensors.SaveStateDict(temp, state);
            else PyTorchPickler.PickleStateDict(temp, state);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Throws one <see cref="InvalidDataException"/> listing missing keys, unexpected keys and shape mismatches.</summary>
    static void CheckMatches(Dictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> source, string path)
    {
        var missing = expected.Keys.Where(k => !source.ContainsKey(k)).ToList();
        var unexpected = source.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        var shapes = expected.Keys.Where(source.ContainsKey)
            .Where(k => !expected[k].shape.SequenceEqual(source[k].shape))
            .Select(k => $"{k} (file [{string.Join(",", source[k].shape)}], model [{string.Join(",", expected[k].shape)}])")
            .ToList();
        if (missing.Count == 0 && unexpected.Count == 0 && shapes.Count == 0) return;
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"missing keys: {string.Join(", ", missing)}");
        if (unexpected.Count > 0) parts.Add($"unexpected keys: {string.Join(", ", unexpected)}");
        if (shapes.Count > 0) parts.Add($"shape mismatches: {string.Join(", ", shapes)}");
        throw new InvalidDataException($"{path} does not fit the model: {string.Join("; ", parts)}.");
    }
}
