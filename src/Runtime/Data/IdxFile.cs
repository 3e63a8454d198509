using System.Buffers.Binary;
using System.IO.Compression;

namespace ArchGen.Data;

/// <summary>
/// Reads IDX files of unsigned bytes (the MNIST family's format; plain or gzip-compressed, told apart by the gzip
/// magic bytes) within bounds fixed before anything large is allocated or inflated: the header's item count may not
/// exceed the dataset's, the other dimensions must be the expected ones, a plain file's size must equal what the
/// header declares, and a gzip file's trailer (its decompressed size) must agree too. The data is then inflated,
/// in chunks that honour cancellation, into a buffer of exactly the declared size; one byte more is an error. So
/// a small file that expands to gigabytes costs no more memory than the dataset it claims to be.
/// </summary>
internal static class IdxFile
{
    /// <summary>An IDX file's data: the item count from its header and the item bytes after it.</summary>
    public sealed record Contents(int Count, byte[] Data, int HeaderBytes);

    /// <param name="path">The file.</param>
    /// <param name="magic">The expected magic number (0x0000080N: unsigned bytes, N dimensions).</param>
    /// <param name="itemShape">The dimensions after the count (e.g. 28, 28 for images; none for labels).</param>
    /// <param name="maxItems">The most items the dataset can have.</param>
    /// <param name="cancel">Stops a long read.</param>
    public static Contents Read(string path, int magic, int[] itemShape, int maxItems, CancellationToken cancel = default)
    {
        int dims = 1 + itemShape.Length;
        int headerBytes = 4 + 4 * dims;
        long itemBytes = 1;
        foreach (int d in itemShape) itemBytes *= d;
        long maxFile = headerBytes + maxItems * itemBytes;

        using var file = InputFile.Open(path, what: "IDX file");
        long fileLength = file.Length;
        bool gzip = false;
        uint? trailerSize = null;
        if (fileLength >= 2)
        {
            Span<byte> start = stackalloc byte[2];
            file.ReadExactly(start);
            gzip = start[0] == 0x1f && start[1] == 0x8b;
            if (gzip && fileLength >= 18)
            {
                // ISIZE: the decompressed size modulo 2^32, in the gzip trailer.
                Span<byte> tail = stackalloc byte[4];
                file.Seek(-4, SeekOrigin.End);
                file.ReadExactly(tail);
                trailerSize = BinaryPrimitives.ReadUInt32LittleEndian(tail);
            }
            file.Position = 0;
        }
        else if (!gzip && fileLength > maxFile)
        {
            throw new DataException($"the file is {fileLength:N0} bytes, more than this dataset's {maxItems:N0} items can take ({maxFile:N0})", path);
        }

        using Stream data = gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
        var header = new byte[headerBytes];
        int got = ReadUpTo(data, header, path, 0, gzip);
        if (got < headerBytes)
            throw new DataException($"file is truncated: it ends after {got} bytes, inside the {headerBytes}-byte IDX header", path, got);
        int actual = BinaryPrimitives.ReadInt32BigEndian(header);
        if (actual != magic)
            throw new DataException($"wrong IDX magic number 0x{actual:X8}; expected 0x{magic:X8} (unsigned bytes, {dims} dimension{(dims == 1 ? "" : "s")})", path, 0);
        int count = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
        if (count < 0) throw new DataException($"negative item count {count}", path, 4);
        if (count > maxItems) throw new DataException($"the header declares {count:N0} items; this dataset has at most {maxItems:N0}", path, 4);
        for (int d = 0; d < itemShape.Length; d++)
        {
            int size = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(8 + 4 * d));
            if (size != itemShape[d])
            {
                var shape = Enumerable.Range(0, itemShape.Length).Select(i => BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(8 + 4 * i)));
                throw new DataException($"items are {string.Join("x", shape)}; expected {string.Join("x", itemShape)}", path, 8);
            }
        }

        long expected = headerBytes + count * itemBytes;
        string what = itemShape.Length == 0 ? $"{count} label bytes after an {headerBytes}-byte header" : $"{count} items of {string.Join("x", itemShape)} bytes after a {headerBytes}-byte header";
        if (!gzip)
        {
            if (fileLength < expected)
                throw new DataException($"file is truncated: its data ends after {fileLength} bytes; expected {expected} ({what})", path, fileLength);
            if (fileLength > expected)
                throw new DataException($"file has {fileLength} bytes, more than the expected {expected} ({what}); unexpected data starts here", path, expected);
        }
        else if (trailerSize != (uint)expected)
        {
            throw new DataException(
                $"corrupt gzip data: its trailer declares {trailerSize?.ToString("N0") ?? "no"} decompressed bytes, the IDX header needs {expected:N0} ({what}); the file is truncated or altered",
                path, headerBytes);
        }

        var bytes = new byte[count * itemBytes];
        got = ReadUpTo(data, bytes, path, headerBytes, gzip, cancel);
        if (got < bytes.Length)
            throw new DataException($"file is truncated: its data ends after {headerBytes + got} bytes; expected {expected} ({what})", path, headerBytes + got);
        if (ReadUpTo(data, new byte[1], path, expected, gzip) > 0)
            throw new DataException($"the data goes on past the {expected} bytes the header declares ({what}); unexpected data starts here", path, expected);
        return new Contents(count, bytes, headerBytes);
    }

    // Reads until the buffer is full or the data ends; returns the bytes read. Corrupt gzip data is a DataException.
    static int ReadUpTo(Stream data, Span<byte> buffer, string path, long offset, bool gzip, CancellationToken cancel = default)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            cancel.ThrowIfCancellationRequested();
            int want = Math.Min(1 << 20, buffer.Length - done);
            int n;
            try
            {
                n = data.ReadAtLeast(buffer.Slice(done, want), want, throwOnEndOfStream: false);
            }
            catch (InvalidDataException e) when (gzip)
            {
                throw new DataException($"corrupt gzip data (decompressed {offset + done} bytes before the error): {e.Message}", path, offset + done, e);
            }
            catch (IOException e)
            {
                throw new DataException($"cannot read the file: {e.Message}", path, offset + done, e);
            }
            done += n;
            if (n < want) break;
        }
        return done;
    }
}
