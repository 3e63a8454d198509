using System.Text;
using ArchGen.Data;
using static TorchSharp.torch;

namespace ArchGen.Checkpoints;

/// <summary>
/// Checks the weights section of a checkpoint (TorchSharp's <c>Module.save</c> format: an entry count, then per
/// entry a key, a dtype, the dimensions and the raw data) against the model it is about to be loaded into, before
/// TorchSharp reads it: every count, length and dimension is bounded by the bytes that remain, and every key, dtype
/// and shape must be the model's. So a damaged or forged file is one <see cref="DataException"/> naming it,
/// never a huge allocation or a native error.
/// </summary>
internal static class StoredStateDict
{
    const int MaxKeyBytes = 64 * 1024;
    const int MaxDimensions = 32;

    /// <summary>One stored entry: where its data starts in the stream, and what it claims to be.</summary>
    internal sealed record Entry(string Key, ScalarType DType, long[] Shape, long DataOffset, long DataBytes);

    /// <summary>Reads the section's structure from the reader's position, skipping the data; leaves the reader after the section.</summary>
    public static IReadOnlyList<Entry> Scan(BinaryReader reader, string path)
    {
        var stream = reader.BaseStream;
        long count = ReadCount(reader, path, "weights entry count");
        // Each entry takes at least 3 bytes (an empty key, a dtype and a dimension count).
        if (count > (stream.Length - stream.Position) / 3)
            throw Damaged(path, stream.Position, $"it claims {count} weight entries, more than its remaining {stream.Length - stream.Position} bytes can hold");
        var entries = new List<Entry>((int)count);
        for (long i = 0; i < count; i++)
        {
            string key = ReadKey(reader, path);
            entries.Add(ReadTensor(reader, path, key));
        }
        return entries;
    }

    /// <summary>One tensor as TorchSharp's <c>Tensor.Save</c> writes it (dtype, dimensions, data), checked against the bytes that remain; the data is skipped.</summary>
    internal static Entry ReadTensor(BinaryReader reader, string path, string key)
    {
        var stream = reader.BaseStream;
        long at = stream.Position;
        long rawType = ReadCount(reader, path, "dtype");
        if (rawType > 64 || !Enum.IsDefined((ScalarType)(sbyte)rawType) || ElementSize((ScalarType)(sbyte)rawType) is not { } size)
            throw Damaged(path, at, $"entry '{key}' has an unknown dtype code {rawType}");
        var dtype = (ScalarType)(sbyte)rawType;
        long rank = ReadCount(reader, path, "dimension count");
        if (rank > MaxDimensions) throw Damaged(path, at, $"entry '{key}' claims {rank} dimensions");
        var shape = new long[rank];
        long elements = 1;
        for (int d = 0; d < rank; d++)
        {
            shape[d] = ReadCount(reader, path, "dimension");
            elements = MultiplyOrFail(elements, shape[d], path, at, key);
        }
        long bytes = MultiplyOrFail(elements, size, path, at, key);
        long remaining = stream.Length - stream.Position;
        if (bytes > remaining)
            throw Damaged(path, at, $"entry '{key}' claims {bytes:N0} bytes of data ([{string.Join(",", shape)}] {dtype}); only {remaining:N0} remain");
        var entry = new Entry(key, dtype, shape, stream.Position, bytes);
        stream.Seek(bytes, SeekOrigin.Current);
        return entry;
    }

    /// <summary>
    /// A <see cref="DataException"/> listing missing and unexpected keys and dtype or shape mismatches between the
    /// stored entries and <paramref name="model"/>'s state_dict; nothing when they match.
    /// </summary>
    public static void CheckFits(IReadOnlyList<Entry> stored, IReadOnlyDictionary<string, Tensor> model, string path, string modelName)
    {
        var byKey = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var duplicates = new List<string>();
        foreach (var e in stored)
            if (!byKey.TryAdd(e.Key, e)) duplicates.Add(e.Key);
        var missing = model.Keys.Where(k => !byKey.ContainsKey(k)).ToList();
        var unexpected = byKey.Keys.Where(k => !model.ContainsKey(k)).ToList();
        var mismatched = byKey.Values.Where(e => model.ContainsKey(e.Key))
            .Where(e => model[e.Key].dtype != e.DType || !model[e.Key].shape.SequenceEqual(e.Shape))
            .Select(e => $"{e.Key} (file [{string.Join(",", e.Shape)}] {e.DType}, model [{string.Join(",", model[e.Key].shape)}] {model[e.Key].dtype})")
            .ToList();
        if (missing.Count == 0 && unexpected.Count == 0 && mismatched.Count == 0 && duplicates.Count == 0) return;
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"missing keys: {Some(missing)}");
        if (unexpected.Count > 0) parts.Add($"unexpected keys: {Some(unexpected)}");
        if (duplicates.Count > 0) parts.Add($"repeated keys: {Some(duplicates)}");
        if (mismatched.Count > 0) parts.Add($"shape or dtype mismatches: {Some(mismatched)}");
        throw new DataException($"the weights do not fit model '{modelName}': {string.Join("; ", parts)}", path);
    }

    /// <summary>Bytes per element of the dtypes a state_dict holds; null for others.</summary>
    internal static int? ElementSize(ScalarType type) => type switch
    {
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 or ScalarType.ComplexFloat32 => 8,
        ScalarType.ComplexFloat64 => 16,
        _ => null,
    };

    static string Some(List<string> items) => items.Count <= 8 ? string.Join(", ", items) : string.Join(", ", items.Take(8)) + $" and {items.Count - 8} more";

    static long MultiplyOrFail(long a, long b, string path, long at, string key)
    {
        try
        {
            return checked(a * b);
        }
        catch (OverflowException)
        {
            throw Damaged(path, at, $"entry '{key}' claims a size that overflows 64 bits");
        }
    }

    // TorchSharp's LEB128 count: 7 bits per byte, low bits first; bounded to 9 bytes, so never negative.
    internal static long ReadCount(BinaryReader reader, string path, string what)
    {
        long at = reader.BaseStream.Position;
        long result = 0;
        for (int i = 0; i < 9; i++)
        {
            int b = reader.BaseStream.ReadByte();
            if (b < 0) throw Damaged(path, at, $"it ends inside a {what}");
            result |= (long)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) return result;
        }
        throw Damaged(path, at, $"a {what} is longer than 9 bytes");
    }

    // BinaryWriter.Write(string): a 7-bit-encoded byte length, then UTF-8.
    internal static string ReadKey(BinaryReader reader, string path)
    {
        long at = reader.BaseStream.Position;
        int length = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (shift > 28) throw Damaged(path, at, "a key's length is malformed");
            int b = reader.BaseStream.ReadByte();
            if (b < 0) throw Damaged(path, at, "it ends inside a key");
            length |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
        }
        if (length < 0 || length > MaxKeyBytes || length > reader.BaseStream.Length - reader.BaseStream.Position)
            throw Damaged(path, at, $"a key claims {length} bytes");
        var bytes = new byte[length];
        reader.BaseStream.ReadExactly(bytes);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Damaged(path, at, "a key is not valid UTF-8");
        }
    }

    internal static DataException Damaged(string path, long offset, string what) =>
        new($"checkpoint is damaged: {what}", path, offset);
}
