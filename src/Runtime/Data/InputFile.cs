using System.Runtime.InteropServices;

namespace ArchGen.Data;

/// <summary>
/// Opens the files ArchGen reads (datasets, checkpoints, weights) safely: only regular files (symbolic links are
/// followed; a FIFO, device, socket or folder is refused before it is opened, so nothing blocks on a pipe or reads
/// <c>/dev/zero</c> forever), the real size checked against a limit before anything is allocated, reads chunked
/// so a cancellation stops them, and every failure a <see cref="DataException"/> naming the file.
/// </summary>
public static class InputFile
{
    const int Chunk = 1 << 20;

    /// <summary>
    /// The size of the regular file at <paramref name="path"/>; a <see cref="DataException"/> naming it when it is
    /// missing, not a regular file, or larger than <paramref name="maxBytes"/> (described as <paramref name="what"/>).
    /// </summary>
    public static long Length(string path, long maxBytes = long.MaxValue, string what = "file")
    {
        ArgumentNullException.ThrowIfNull(path);
        var kind = KindOf(path, out long length);
        switch (kind)
        {
            case FileKind.Missing:
                throw new DataException("missing file", path);
            case FileKind.Regular:
                break;
            case FileKind.Unknown:
                // No file type from the OS (not Unix): anything of size 0 may be a device; refuse it unopened.
                if (length == 0) throw new DataException($"the file is empty; expected a {what}", path, 0);
                break;
            default:
                throw new DataException($"not a regular file (it is a {Describe(kind)}); expected a {what}", path);
        }
        if (length > maxBytes)
            throw new DataException($"the file is {length:N0} bytes, more than a {what} can be ({maxBytes:N0} bytes at most)", path);
        return length;
    }

    /// <summary>
    /// Opens a regular file for reading (see <see cref="Length"/>); others may read it too and may replace it by
    /// renaming, which does not change what this stream reads.
    /// </summary>
    public static FileStream Open(string path, long maxBytes = long.MaxValue, string what = "file")
    {
        long length = Length(path, maxBytes, what);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException($"cannot open the file: {e.Message}", path, innerException: e);
        }
        if (!stream.CanSeek || stream.Length != length)
        {
            stream.Dispose();
            throw new DataException("the file changed while it was being opened; try again", path);
        }
        return stream;
    }

    /// <summary>Reads the whole regular file (at most <paramref name="maxBytes"/>), in chunks that honour <paramref name="cancel"/>.</summary>
    public static byte[] ReadAll(string path, long maxBytes, string what, CancellationToken cancel = default)
    {
        using var stream = Open(path, Math.Min(maxBytes, Array.MaxLength), what);
        var bytes = new byte[stream.Length];
        ReadExactly(stream, bytes, path, 0, cancel);
        return bytes;
    }

    /// <summary>
    /// Fills <paramref name="buffer"/> from <paramref name="stream"/> in chunks, checking <paramref name="cancel"/> between
    /// them; the stream ending first is a <see cref="DataException"/> at the offset where it ended
    /// (<paramref name="offset"/> is where the buffer starts in the file or decompressed data).
    /// </summary>
    public static void ReadExactly(Stream stream, Span<byte> buffer, string path, long offset, CancellationToken cancel = default)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            cancel.ThrowIfCancellationRequested();
            int want = Math.Min(Chunk, buffer.Length - done);
            int n;
            try
            {
                n = stream.ReadAtLeast(buffer.Slice(done, want), want, throwOnEndOfStream: false);
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                throw new DataException($"cannot read the data after {offset + done} bytes: {e.Message}", path, offset + done, e);
            }
            done += n;
            if (n < want)
                throw new DataException($"the data ends after {offset + done} bytes; expected {offset + buffer.Length}", path, offset + done);
        }
    }

    enum FileKind { Missing, Regular, Directory, Fifo, CharacterDevice, BlockDevice, Socket, Other, Unknown }

    static string Describe(FileKind kind) => kind switch
    {
        FileKind.Directory => "folder",
        FileKind.Fifo => "FIFO (named pipe)",
        FileKind.CharacterDevice => "character device",
        FileKind.BlockDevice => "block device",
        FileKind.Socket => "socket",
        _ => "special file",
    };

    static FileKind KindOf(string path, out long length)
    {
        length = 0;
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                // The runtime's own stat (follows symbolic links); the mode's type bits sit at a fixed place in its
                // platform-independent status record.
                var status = new byte[256];
                if (SystemNativeStat(path, status) != 0) return Directory.Exists(path) ? FileKind.Directory : FileKind.Missing;
                length = BitConverter.ToInt64(status, 16);
                return (BitConverter.ToInt32(status, 4) & 0xF000) switch
                {
                    0x8000 => FileKind.Regular,
                    0x4000 => FileKind.Directory,
                    0x1000 => FileKind.Fifo,
                    0x2000 => FileKind.CharacterDevice,
                    0x6000 => FileKind.BlockDevice,
                    0xC000 => FileKind.Socket,
                    _ => FileKind.Other,
                };
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // Fall through to what .NET tells portably.
            }
        }
        if (Directory.Exists(path)) return FileKind.Directory;
        var info = new FileInfo(path);
        if (!info.Exists) return FileKind.Missing;
        var target = info.LinkTarget is null ? info : info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo;
        if (target is null || !target.Exists) return FileKind.Missing;
        length = target.Length;
        return FileKind.Unknown;
    }

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat", CharSet = CharSet.Ansi)]
    static extern int SystemNativeStat(string path, byte[] status);
}
