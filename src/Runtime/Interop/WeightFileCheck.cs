using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using ArchGen.Data;
using static TorchSharp.torch;

namespace ArchGen.Interop;

/// <summary>
/// Checks a weights file before any of its tensors is built: the file's structure, every size it declares against
/// the file's real size, and (when a model is given) every key, shape and byte count against the model. TorchSharp
/// and libtorch only see files that passed, so a damaged or hostile file is one <see cref="DataException"/> naming
/// it: no zip bomb is inflated, no terabyte tensor is allocated, no native error surfaces.
/// </summary>
internal static class WeightFileCheck
{
    /// <summary>data.pkl of a state_dict takes about 100 bytes per tensor.</summary>
    const long MaxPickleBytes = 64L << 20;

    /// <summary>A safetensors header is JSON of about 100 bytes per tensor (the format itself caps it at 100 MB).</summary>
    const long MaxSafetensorsHeader = 100L << 20;

    /// <summary>
    /// The tensors a <c>torch.save</c> archive (.pt/.pth/.bin) holds, after checking its pickle (see
    /// <see cref="StateDictPickle"/>), its storages against their archive entries, and the total against
    /// <paramref name="budget"/> bytes.
    /// </summary>
    public static IReadOnlyList<StoredTensor> TorchArchive(string path, long budget)
    {
        using var file = InputFile.Open(path, what: "PyTorch weights file");
        Span<byte> start = stackalloc byte[16];
        int got = file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        start = start[..got];
        if (!start.StartsWith("PK\u0003\u0004"u8))
            throw new DataException(NotAnArchive(start), path);
        file.Position = 0;

        ZipArchive zip;
        try
        {
            zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new DataException($"the zip archive is damaged or truncated ({e.Message.TrimEnd('.')}); torch.save writes a complete zip", path, innerException: e);
        }
        using (zip)
        {
            IReadOnlyList<ZipArchiveEntry> entries;
            try
            {
                entries = zip.Entries;
            }
            catch (InvalidDataException e)
            {
                throw new DataException($"the zip archive's directory is damaged ({e.Message.TrimEnd('.')})", path, innerException: e);
            }
            // The entries TorchSharp.PyBridge will read, found the way it finds them.
            var pickleEntry = entries.FirstOrDefault(e => e.Name.EndsWith("data.pkl", StringComparison.Ordinal))
                ?? throw new DataException("the archive has no data.pkl, so it was not written by torch.save", path);
            if (pickleEntry.Length > MaxPickleBytes)
                throw new DataException($"its data.pkl claims {pickleEntry.Length:N0} bytes; a state_dict's takes far less ({MaxPickleBytes:N0} at most)", path);
            byte[] pickle = ReadEntry(pickleEntry, path);
            var stored = StateDictPickle.Read(pickle, path);

            long total = 0;
            var checkedStorages = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
            var result = new List<StoredTensor>(stored.Count);
            foreach (var t in stored)
            {
                var s = t.Storage;
                if (!checkedStorages.ContainsKey(s.Key))
                {
                    var entry = entries.FirstOrDefault(e => e.FullName.EndsWith($"data/{s.Key}", StringComparison.Ordinal))
                        ?? throw new DataException($"tensor '{Short(t.Key)}' refers to storage '{Short(s.Key)}', which the archive does not have", path);
                    long bytes = Multiply(s.Elements, s.ElementSize, path, t.Key);
                    if (entry.Length != bytes)
                        throw new DataException($"storage '{Short(s.Key)}' of tensor '{Short(t.Key)}' claims {s.Elements:N0} {s.DType} elements ({bytes:N0} bytes) but its archive entry holds {entry.Length:N0} bytes", path);
                    total += bytes;
                    if (total > budget)
                        throw new DataException($"its tensors claim more than {budget:N0} bytes, more than {(budget == long.MaxValue ? "can be read" : "the model's weights take")}; refused before reading them", path);
                    checkedStorages[s.Key] = entry;
                }
                result.Add(CheckView(t, path));
            }
            return result;
        }
    }

    /// <summary>The tensors a safetensors file holds, after checking its header against the file's size.</summary>
    public static IReadOnlyList<StoredTensor> Safetensors(string path) => Safetensors(path, out _);

    /// <summary>
    /// The tensors a safetensors file holds, after checking its header against the file's size, and the header's
    /// <c>__metadata__</c> (string to string; null when it has none).
    /// </summary>
    public static IReadOnlyList<StoredTensor> Safetensors(string path, out IReadOnlyDictionary<string, string>? metadata)
    {
        metadata = null;
        using var file = InputFile.Open(path, what: "safetensors file");
        long length = file.Length;
        if (length < 8) throw new DataException($"the file is {length} bytes; a safetensors file starts with an 8-byte header length", path, 0);
        Span<byte> prefix = stackalloc byte[8];
        file.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)Math.Min(MaxSafetensorsHeader, length - 8))
            throw new DataException($"its header claims {headerLength:N0} bytes; the file has {length - 8:N0} after the length (and a header is at most {MaxSafetensorsHeader:N0})", path, 0);
        var header = new byte[headerLength];
        file.ReadExactly(header);
        long dataLength = length - 8 - (long)headerLength;

        JsonDocument json;
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetCharCount(header);
            json = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (Exception e) when (e is JsonException or DecoderFallbackException)
        {
            throw new DataException($"its header is not valid UTF-8 JSON ({Checkpoints.Checkpoint.FirstLine(e.Message)})", path, 8);
        }
        using (json)
        {
            if (json.RootElement.ValueKind != JsonValueKind.Object) throw new DataException("its header is not a JSON object", path, 8);
            var result = new List<StoredTensor>();
            var ranges = new List<(long Begin, long End, string Key)>();
            foreach (var property in json.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object || property.Value.EnumerateObject().Any(p => p.Value.ValueKind != JsonValueKind.String))
                        throw new DataException("its __metadata__ is not an object of strings", path, 8);
                    metadata = property.Value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
                    continue;
                }
                string key = property.Name;
                var t = property.Value;
                if (t.ValueKind != JsonValueKind.Object
                    || !t.TryGetProperty("dtype", out var dtypeJson) || dtypeJson.ValueKind != JsonValueKind.String
                    || !t.TryGetProperty("shape", out var shapeJson) || shapeJson.ValueKind != JsonValueKind.Array
                    || !t.TryGetProperty("data_offsets", out var offsetsJson) || offsetsJson.ValueKind != JsonValueKind.Array || offsetsJson.GetArrayLength() != 2)
                    throw new DataException($"tensor '{Short(key)}' lacks a dtype, shape or data_offsets [begin, end]", path, 8);
                var (dtype, size) = SafetensorsType(dtypeJson.GetString()!, key, path);
                if (shapeJson.GetArrayLength() > 32) throw new DataException($"tensor '{Short(key)}' claims {shapeJson.GetArrayLength()} dimensions", path, 8);
                long[] shape = shapeJson.EnumerateArray().Select(d => NonNegative(d, $"a dimension of tensor '{Short(key)}'", path)).ToArray();
                long begin = NonNegative(offsetsJson[0], $"the data offsets of tensor '{Short(key)}'", path);
                long end = NonNegative(offsetsJson[1], $"the data offsets of tensor '{Short(key)}'", path);
                long bytes = Multiply(shape.Aggregate(1L, (a, b) => Multiply(a, b, path, key)), size, path, key);
                if (end < begin || end - begin != bytes)
                    throw new DataException($"tensor '{Short(key)}' is [{string.Join(",", shape)}] {dtype} ({bytes:N0} bytes) but its data_offsets [{begin}, {end}] span {end - begin:N0}", path, 8);
                if (end > dataLength)
                    throw new DataException($"tensor '{Short(key)}' claims bytes up to {end:N0} of the data, which has {dataLength:N0}", path, 8);
                ranges.Add((begin, end, key));
                result.Add(new StoredTensor(key, dtype, shape));
            }
            ranges.Sort((a, b) => a.Begin.CompareTo(b.Begin));
            for (int i = 1; i < ranges.Count; i++)
                if (ranges[i].Begin < ranges[i - 1].End)
                    throw new DataException($"tensors '{Short(ranges[i - 1].Key)}' and '{Short(ranges[i].Key)}' overlap in the data", path, 8);
            return result;
        }
    }

    /// <summary>
    /// A <see cref="DataException"/> listing missing and unexpected keys and shape mismatches between
    /// <paramref name="stored"/> and <paramref name="model"/>; nothing when they match.
    /// </summary>
    public static void CheckFits(IReadOnlyList<StoredTensor> stored, IReadOnlyDictionary<string, Tensor> model, string path)
    {
        var byKey = new Dictionary<string, StoredTensor>(StringComparer.Ordinal);
        var repeated = new List<string>();
        foreach (var t in stored)
            if (!byKey.TryAdd(t.Key, t)) repeated.Add(t.Key);
        var missing = model.Keys.Where(k => !byKey.ContainsKey(k)).ToList();
        var unexpected = byKey.Keys.Where(k => !model.ContainsKey(k)).Select(Short).ToList();
        var shapes = model.Keys.Where(byKey.ContainsKey)
            .Where(k => !model[k].shape.SequenceEqual(byKey[k].Shape))
            .Select(k => $"{k} (file [{string.Join(",", byKey[k].Shape)}], model [{string.Join(",", model[k].shape)}])")
            .ToList();
        // A float parameter takes any floating-point tensor (float64 is narrowed), never integers or booleans.
        var kinds = model.Keys.Where(byKey.ContainsKey)
            .Where(k => !SameKind(byKey[k].DType, model[k].dtype))
            .Select(k => $"{k} (file {byKey[k].DType}, model {model[k].dtype})")
            .ToList();
        if (missing.Count == 0 && unexpected.Count == 0 && shapes.Count == 0 && repeated.Count == 0 && kinds.Count == 0) return;
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"missing keys: {Some(missing)}");
        if (unexpected.Count > 0) parts.Add($"unexpected keys: {Some(unexpected)}");
        if (repeated.Count > 0) parts.Add($"repeated keys: {Some(repeated.Select(Short).ToList())}");
        if (shapes.Count > 0) parts.Add($"shape mismatches: {Some(shapes)}");
        if (kinds.Count > 0) parts.Add($"dtype mismatches: {Some(kinds)}");
        throw new DataException($"does not fit the model: {string.Join("; ", parts)}", path);
    }

    static bool IsFloatingPoint(ScalarType type) => type is ScalarType.Float64 or ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16;

    /// <summary>
    /// Whether a stored tensor of <paramref name="stored"/> may load into a model tensor of <paramref name="model"/>:
    /// floating point into floating point (float64 is narrowed), integers into integers, booleans into booleans.
    /// </summary>
    public static bool SameKind(ScalarType stored, ScalarType model) =>
        IsFloatingPoint(stored) == IsFloatingPoint(model) && (stored == ScalarType.Bool) == (model == ScalarType.Bool);

    /// <summary>
    /// A <see cref="DataException"/> naming <paramref name="path"/> and the first tensors holding NaN or an infinity,
    /// or a BatchNorm running variance below 0; nothing when every tensor is sound. Weights are checked when they are
    /// read (and again once narrowed into the model, <paramref name="narrowed"/>: a float64 value beyond float32's
    /// range becomes infinite), so a damaged file is refused before it trains, tests or exports anything.
    /// </summary>
    public static void RequireSound(IEnumerable<KeyValuePair<string, Tensor>> tensors, string path, bool narrowed = false)
    {
        var bad = new List<string>();
        var negative = new List<string>();
        foreach (var (key, t) in tensors)
        {
            if (!t.is_floating_point()) continue;
            using var finite = isfinite(t);
            long notFinite = t.NumberOfElements - finite.sum().item<long>();
            if (notFinite > 0) bad.Add($"{Short(key)} ({notFinite:N0} of {t.NumberOfElements:N0} values)");
            else if (key.EndsWith("running_var", StringComparison.Ordinal) && t.lt(0).any().item<bool>()) negative.Add(Short(key));
        }
        if (bad.Count > 0)
            throw new DataException(narrowed
                ? $"weights beyond float32's range (float64 values that become infinite in the model): {Some(bad)}"
                : $"weights that are not finite (NaN or infinite): {Some(bad)}", path);
        if (negative.Count > 0)
            throw new DataException($"a negative BatchNorm running variance: {Some(negative)}", path);
    }

    /// <summary>Bytes of a model's state_dict: the most a weights file for it may claim.</summary>
    public static long BytesOf(IReadOnlyDictionary<string, Tensor> model) => model.Values.Sum(t => t.NumberOfElements * t.ElementSize);

    // The reader builds each tensor as a contiguous block at the start of its storage: accept exactly that.
    static StoredTensor CheckView(StateDictPickle.Entry t, string path)
    {
        if (t.Shape.Any(d => d < 0 || d > int.MaxValue) || t.Stride.Any(s => s < 0 || s > int.MaxValue) || t.Offset is < 0 or > int.MaxValue)
            throw new DataException($"tensor '{Short(t.Key)}' has a negative or oversized shape [{string.Join(",", t.Shape)}], stride [{string.Join(",", t.Stride)}] or offset {t.Offset}", path);
        if (t.Stride.Length != t.Shape.Length) throw new DataException($"tensor '{Short(t.Key)}' has {t.Shape.Length} dimensions but {t.Stride.Length} strides", path);
        long elements = t.Shape.Aggregate(1L, (a, b) => Multiply(a, b, path, t.Key));
        long expected = 1;
        for (int d = t.Shape.Length - 1; d >= 0; d--)
        {
            if (t.Shape[d] > 1 && t.Stride[d] != expected)
                throw new DataException($"tensor '{Short(t.Key)}' is a strided view (shape [{string.Join(",", t.Shape)}], stride [{string.Join(",", t.Stride)}]); save contiguous tensors (tensor.contiguous())", path);
            expected = Multiply(expected, t.Shape[d], path, t.Key);
        }
        if (t.Offset != 0 && elements > 0)
            throw new DataException($"tensor '{Short(t.Key)}' starts at offset {t.Offset} of a shared storage; save each tensor on its own (tensor.clone())", path);
        if (elements > t.Storage.Elements)
            throw new DataException($"tensor '{Short(t.Key)}' is [{string.Join(",", t.Shape)}] ({elements:N0} elements) but its storage holds {t.Storage.Elements:N0}", path);
        return new StoredTensor(t.Key, t.Storage.DType, t.Shape);
    }

    static byte[] ReadEntry(ZipArchiveEntry entry, string path)
    {
        var bytes = new byte[entry.Length];
        try
        {
            using var stream = entry.Open();
            int got = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (got < bytes.Length || stream.ReadByte() >= 0)
                throw new DataException($"its {entry.Name} does not hold the {entry.Length:N0} bytes its zip entry declares", path);
        }
        catch (InvalidDataException e)
        {
            throw new DataException($"its {entry.Name} is damaged ({e.Message.TrimEnd('.')})", path, innerException: e);
        }
        return bytes;
    }

    static string NotAnArchive(ReadOnlySpan<byte> start)
    {
        // torch.save before PyTorch 1.6: a pickle starting with the magic number 0x1950a86a20f9469cfc6c.
        if (start.StartsWith(new byte[] { 0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19 }))
            return "was saved in the legacy format of PyTorch before 1.6, which is not supported; load it in PyTorch and save it again with torch.save (or as .safetensors)";
        if (start.Length >= 9 && start[8] == (byte)'{')
            return "looks like a safetensors file; give it the .safetensors extension";
        return "is not a PyTorch weights file: torch.save writes a zip archive (since PyTorch 1.6), and this file does not start like one";
    }

    static (ScalarType, int) SafetensorsType(string dtype, string key, string path) => dtype switch
    {
        "F64" => (ScalarType.Float64, 8),
        "F32" => (ScalarType.Float32, 4),
        "F16" => (ScalarType.Float16, 2),
        "BF16" => (ScalarType.BFloat16, 2),
        "I64" => (ScalarType.Int64, 8),
        "I32" => (ScalarType.Int32, 4),
        "I16" => (ScalarType.Int16, 2),
        "I8" => (ScalarType.Int8, 1),
        "U8" => (ScalarType.Byte, 1),
        "BOOL" => (ScalarType.Bool, 1),
        _ => throw new DataException($"tensor '{Short(key)}' has dtype '{Short(dtype)}', which is not supported", path, 8),
    };

    static long NonNegative(JsonElement value, string what, string path) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long v) && v >= 0 ? v
            : throw new DataException($"{what} is not a non-negative integer ({Short(value.GetRawText())})", path, 8);

    static long Multiply(long a, long b, string path, string key)
    {
        try
        {
            return checked(a * b);
        }
        catch (OverflowException)
        {
            throw new DataException($"tensor '{Short(key)}' claims a size beyond 64 bits", path);
        }
    }

    static string Short(string s) => StateDictPickle.Printable(s);

    static string Some(List<string> items) => items.Count <= 8 ? string.Join(", ", items) : string.Join(", ", items.Take(8)) + $" and {items.Count - 8} more";
}
