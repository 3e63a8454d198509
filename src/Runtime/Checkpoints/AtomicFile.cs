using System.Collections.Concurrent;
using System.Text;

namespace ArchGen.Checkpoints;

/// <summary>
/// Writes a file so that readers (and a later run) see either its previous content or the complete new one, never a
/// part: the content goes to a temporary file beside it (<c>NAME.RANDOM.tmp</c>, unique to the writer, so two writers
/// of one path never share one), is flushed to disk (fsync), and only then renamed over the
/// target. When writing fails (a full disk, an exception) the temporary file is removed; when the process is killed
/// in the middle, <see cref="RemoveLeftovers"/> removes it on the next start; on a forced exit (a second Ctrl+C)
/// <see cref="RemoveInFlight"/> removes the ones being written.
/// </summary>
public static class AtomicFile
{
    /// <summary>The suffix of temporary files.</summary>
    public const string TempSuffix = ".tmp";

    static readonly ConcurrentDictionary<string, byte> InFlight = new(StringComparer.Ordinal);

    /// <summary>
    /// Writes <paramref name="path"/> atomically; <paramref name="write"/> fills the stream (which it may read back and
    /// seek). A stop request (<paramref name="cancel"/>) before the rename leaves the previous file and no temporary one.
    /// </summary>
    public static void Write(string path, Action<FileStream> write, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string name = Path.GetFileName(full);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + "." + Guid.NewGuid().ToString("N")[..8] + TempSuffix;
        FaultInjection.Reach($"{name}:before-temp");
        InFlight[temp] = 0;
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            {
                write(file);
                FaultInjection.Reach($"{name}:after-write");
                file.Flush(flushToDisk: true);
                FaultInjection.Reach($"{name}:after-fsync");
            }
            FaultInjection.Reach($"{name}:before-rename");
            cancel.ThrowIfCancellationRequested();
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e.Message.Contains(temp, StringComparison.Ordinal))
        {
            // The user knows the file they asked for, not our temporary name.
            TryDelete(temp);
            string message = e.Message.Replace(temp, full, StringComparison.Ordinal);
            throw e is UnauthorizedAccessException ? new UnauthorizedAccessException(message, e) : new IOException(message, e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        finally
        {
            InFlight.TryRemove(temp, out _);
        }
        FaultInjection.Reach($"{name}:after-rename");
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 (no byte order mark), atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, file => file.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text)));

    /// <summary>Writes <paramref name="bytes"/>, atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, file => file.Write(copy));
    }

    /// <summary>
    /// Removes the temporary files a killed writer left in <paramref name="folder"/> (call it only while no one else
    /// writes there, e.g. holding the run folder's lock); returns their names.
    /// </summary>
    public static IReadOnlyList<string> RemoveLeftovers(string folder)
    {
        if (!Directory.Exists(folder)) return [];
        var removed = new List<string>();
        foreach (string temp in Directory.EnumerateFiles(folder, "*" + TempSuffix))
        {
            if (TryDelete(temp)) removed.Add(Path.GetFileName(temp));
        }
        return removed;
    }

    /// <summary>Removes the temporary files being written right now (for an exit that cannot wait for them to finish).</summary>
    public static void RemoveInFlight()
    {
        foreach (string temp in InFlight.Keys) TryDelete(temp);
    }

    static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
