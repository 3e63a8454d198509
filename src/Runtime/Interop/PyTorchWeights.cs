using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
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

    /// <summary>True for a <c>.safetensors</c> file name.</summary>
    public static bool IsSafetensors(string path) => Path.GetExtension(path).Equals(".safetensors", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Reads a state_dict file into tensors by key (the caller disposes them). The file is checked first (see
    /// <see cref="WeightFileCheck"/>); without a model to compare with, its tensors may claim at most 16 times the
    /// file's size.
    /// </summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        var stored = Check(path, WithoutModelBudget(path));
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
            WeightFileCheck.RequireSound(source, path);
            using var noGrad = torch.no_grad();
            foreach (var (key, tensor) in source)
                target[key].copy_(tensor);
            WeightFileCheck.RequireSound(target, path, narrowed: true);
        }
        finally
        {
            foreach (var t in source.Values) t.Dispose();
        }
    }

    /// <summary>
    /// Saves the model's state_dict as .pt/.pth (PyTorch pickle, loadable with <c>load_state_dict(strict=True)</c>) or
    /// .safetensors, atomically; a safetensors file also keeps <paramref name="metadata"/> in its header.
    /// </summary>
    public static void Save(nn.Module model, string path, WeightsMetadata? metadata = null, CancellationToken cancel = default)
    {
        var state = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.cpu().contiguous());
        AtomicFile.Write(path, file =>
        {
            if (!IsSafetensors(path)) PyTorchPickler.PickleStateDict(file, state, leaveOpen: true);
            else if (metadata is null) Safetensors.SaveStateDict(file, state, leaveOpen: true);
            else WriteSafetensors(file, state, metadata);
        }, cancel);
    }

    /// <summary>What a safetensors file written by ArchGen says about its model; null for a .pt/.pth file or a file from elsewhere.</summary>
    public static WeightsMetadata? ReadMetadata(string path)
    {
        if (!IsSafetensors(path)) return null;
        WeightFileCheck.Safetensors(path, out var properties);
        return WeightsMetadata.FromProperties(properties, path);
    }

    /// <summary>The keys, dtypes and shapes a weights file holds, checked, without reading the tensors.</summary>
    public static IReadOnlyList<StoredTensor> Inspect(string path) => Check(path, WithoutModelBudget(path));

    /// <summary>What a file's tensors may claim when there is no model to compare with: 16 times the file's size.</summary>
    static long WithoutModelBudget(string path) => Math.Min(long.MaxValue / 2, 16 * InputFile.Length(path, what: "weights file") + (64L << 20));

    // The state_dict as PyBridge writes it, with the metadata added to the header (data offsets are relative to the
    // end of the header, so the data is copied as it is; the header is padded to 8 bytes with spaces, as the format allows).
    static void WriteSafetensors(Stream file, Dictionary<string, Tensor> state, WeightsMetadata metadata)
    {
        using var buffer = new MemoryStream();
        Safetensors.SaveStateDict(buffer, state, leaveOpen: true);
        var bytes = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        int length = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        var header = JsonNode.Parse(bytes.Slice(8, length))!.AsObject();
        var properties = header["__metadata__"] as JsonObject ?? new JsonObject();
        header.Remove("__metadata__");
        foreach (var (key, value) in metadata.ToProperties()) properties[key] = value;
        var ordered = new JsonObject { ["__metadata__"] = properties };
        foreach (var (key, value) in header.ToList())
        {
            header.Remove(key);
            ordered[key] = value;
        }
        byte[] json = Encoding.UTF8.GetBytes(ordered.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded);
        file.Write(prefix);
        file.Write(json);
        for (int i = json.Length; i < padded; i++) file.WriteByte((byte)' ');
        file.Write(bytes[(8 + length)..]);
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
