using System.Runtime.InteropServices;
using SkiaSharp;

namespace ArchGen.Data.Images;

/// <summary>
/// Reads an image file's bytes, safely: only a regular file (after following symbolic links) is opened, so a FIFO
/// named <c>.png</c> cannot block the reader and a link to <c>/dev/zero</c> cannot feed it forever; its size is
/// checked against <see cref="ImageLimits.MaxFileBytes"/> before reading, and it is read into native memory owned by
/// the returned <see cref="SKData"/> (no managed copy).
/// </summary>
public static partial class ImageFile
{
    /// <summary>Reads <paramref name="path"/>; every failure is a <see cref="DataException"/> naming it.</summary>
    public static SKData Read(string path, ImageLimits limits)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(limits);
        long size = RegularFileSize(path);
        if (size == 0) throw new DataException("the file is empty", path);
        if (size > limits.MaxFileBytes)
            throw new DataException($"the file is {size:N0} bytes; images over {limits.MaxFileBytes:N0} bytes are refused", path);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
            var data = SKData.Create(size);
            try
            {
                // Read exactly the size seen by stat; a file that grew meanwhile is read to that size, one that shrank is truncated.
                int read = stream.ReadAtLeast(data.Span, (int)size, throwOnEndOfStream: false);
                if (read < size) throw new DataException($"the file shrank while it was read ({read:N0} of {size:N0} bytes)", path);
                return data;
            }
            catch
            {
                data.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException($"cannot read the file: {e.Message}", path, innerException: e);
        }
    }

    /// <summary>
    /// The size of the regular file at <paramref name="path"/> (symbolic links followed), or a <see cref="DataException"/>
    /// when it is missing or is a directory, device, FIFO or socket. Nothing is opened.
    /// </summary>
    public static long RegularFileSize(string path)
    {
        if (OperatingSystem.IsLinux()) return LinuxStat(path);
        if (OperatingSystem.IsMacOS()) return MacStat(path);
        // Windows has no FIFOs or device nodes among ordinary paths; refuse directories and devices by attribute.
        var info = new FileInfo(path);
        if (!info.Exists) throw new DataException(Directory.Exists(path) ? "a folder, not an image file" : "the file does not exist", path);
        if ((info.Attributes & FileAttributes.Device) != 0) throw new DataException("not a regular file (a device)", path);
        return info.Length;
    }

    const int SIfMt = 0xF000, SIfReg = 0x8000, SIfDir = 0x4000;

    static string Describe(int type) => type switch
    {
        SIfDir => "a folder, not an image file",
        0x2000 => "not a regular file (a character device)",
        0x6000 => "not a regular file (a block device)",
        0x1000 => "not a regular file (a FIFO)",
        0xC000 => "not a regular file (a socket)",
        _ => "not a regular file",
    };

    static unsafe long LinuxStat(string path)
    {
        // statx has one layout on every Linux architecture: stx_mode is a u16 at offset 28, stx_size a u64 at 40.
        const int AtFdCwd = -100, StatxType = 0x1, StatxSize = 0x200;
        byte* buffer = stackalloc byte[256];
        if (Native.statx(AtFdCwd, path, 0, StatxType | StatxSize, buffer) != 0) throw StatFailed(path, Marshal.GetLastPInvokeError());
        int type = *(ushort*)(buffer + 28) & SIfMt;
        if (type != SIfReg) throw new DataException(Describe(type), path);
        return (long)*(ulong*)(buffer + 40);
    }

    static unsafe long MacStat(string path)
    {
        // Darwin's 64-bit-inode struct stat: st_mode is a u16 at offset 4, st_size an i64 at 96 (144 bytes in all).
        byte* buffer = stackalloc byte[256];
        if (Native.stat(path, buffer) != 0) throw StatFailed(path, Marshal.GetLastPInvokeError());
        int type = *(ushort*)(buffer + 4) & SIfMt;
        if (type != SIfReg) throw new DataException(Describe(type), path);
        return *(long*)(buffer + 96);
    }

    /// <summary>
    /// Whether <paramref name="path"/> names something whose name is not valid UTF-8: .NET reads file names as UTF-8
    /// and shows the bytes that are not as U+FFFD, so such a name cannot be opened by name.
    /// </summary>
    public static bool NotUtf8(string path) => path.Contains('\uFFFD') && !File.Exists(path) && !Directory.Exists(path);

    /// <summary>The error for a name that is not valid UTF-8 (see <see cref="NotUtf8"/>).</summary>
    public static DataException NotUtf8Error(string path) =>
        new(Directory.GetParent(path) is { } parent && parent.Exists && Directory.EnumerateDirectories(parent.FullName).Contains(Path.GetFullPath(path))
            ? "the folder name is not valid UTF-8 (shown with \uFFFD), so it cannot be opened by name; rename it"
            : "the name is not valid UTF-8 (shown with \uFFFD), so it cannot be opened by name; rename it, or pass --skip-bad-images to leave the file out", path);

    static DataException StatFailed(string path, int errno) => errno switch
    {
        // .NET reads file names as UTF-8 and shows bytes that are not as U+FFFD, so such a name cannot be opened.
        2 when NotUtf8(path) => NotUtf8Error(path),
        2 or 20 => new DataException("the file does not exist", path), // ENOENT, ENOTDIR
        13 => new DataException("permission denied", path),
        40 or 62 => new DataException("too many levels of symbolic links", path), // ELOOP (Linux, macOS)
        _ => new DataException($"cannot read the file (errno {errno})", path),
    };

    static unsafe partial class Native
    {
        [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);

        [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int stat(string path, byte* buffer);
    }
}
