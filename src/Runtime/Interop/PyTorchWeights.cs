using System.Collections;
using TorchSharp;
using TorchSharp.PyBridge;
using ArchGen.Checkpoints;
using ArchGen.Data;
using static TorchSharp.torch;

namespace ArchGen.Interop;

/// <summary>
/// Moves weights between generated models and PyTorch: <c>torch.save(model.state_dict())</c> files (.pt, .pth) and
/// safetensors, read and written by TorchSharp.PyBridge. Every file is checked before a tensor is built (see
/// <see cref="WeightFileCheck"/>: the pickle is read without running anything, declared sizes against the file and
/// the model), and loading is strict: every key must match and every shape must agree, and a mismatch is one error
/// listing the keys. The generated models use the originals' state_dict keys, so no key map is needed.
/// </summary>
public static class PyTorchWeights
{
    /// <summary>True for the file names this class reads and writes: .pt, .pth, .bin and .safetensors.</summary>
    public static bool IsWeightsFile(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".pt" or ".pth" or ".bin" or ".safetensors";

    static bool IsSafetensors(string path) => Path.GetExtension(path).Equals(".safetensors", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Reads a state_dict file into tensors by key (the caller disposes them). The file is checked first (see
    /// <see cref="WeightFileCheck"/>); without a model to compare with, its tensors may claim at most 16 times the
    /// file's size.
    /// </summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        long size = InputFile.Length(path, what: "weights file");
        var stored = Check(path, budget: Math.Min(long.MaxValue / 2, 16 * size + (64L << 20)));
        return ReadChecked(path, stored);
    }

    /// <summary>Loads a PyTorch or safetensors state_dict into <paramref name="model"/>, strictly: keys and shapes are checked against the model before any tensor is read.</summary>
    public static void Load(nn.Module model, string path)
    {
        var target = model.state_dict();
        // Each stored tensor may be wider than the model's (float64 weights for a float32 model), no more.
        var stored = Check(path, budget: 2 * WeightFileCheck.BytesOf(target) + (1L << 20));
        WeightFileCheck.CheckFits(stored, target, path);
        var source = ReadChecked(path, stored);
        try
        {
            WeightFileCheck.RequireFinite(source, path);
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
        var state = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.cpu().contiguous());
        AtomicFile.Write(path, file =>
        {
            if (IsSafetensors(path)) Safetensors.SaveStateDict(file, state, leaveOpen: true);
            else PyTorchPickler.PickleStateDict(file, state, leaveOpen: true);
        });
    }

    static IReadOnlyList<StoredTensor> Check(string path, long budget) =>
        IsSafetensors(path) ? WeightFileCheck.Safetensors(path) : WeightFileCheck.TorchArchive(path, budget);

    // Only files that passed WeightFileCheck get here; a failure now is the file changing underneath, or a reader bug.
    static Dictionary<string, Tensor> ReadChecked(string path, IReadOnlyList<StoredTensor> stored)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            if (IsSafetensors(path)) return Safetensors.LoadStateDict(path);
            Hashtable table = PyTorchUnpickler.UnpickleStateDict(path);
            foreach (DictionaryEntry e in table)
            {
                if (e.Value is not Tensor t)
                    throw new DataException($"entry '{e.Key}' is not a tensor; expected a state_dict saved with torch.save(model.state_dict(), ...)", path);
                result[(string)e.Key] = t;
            }
            if (result.Count != stored.Count)
                throw new DataException($"holds {stored.Count} tensors but {result.Count} were read", path);
            return result;
        }
        catch (Exception e) when (e is not DataException)
        {
            foreach (var t in result.Values) t.Dispose();
            throw new DataException($"cannot read the weights ({Checkpoints.Checkpoint.FirstLine(e.Message)})", path, innerException: e);
        }
    }
}
