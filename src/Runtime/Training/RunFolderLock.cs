using System.Globalization;

namespace ArchGen.Training;

/// <summary>Another process holds the run folder's lock.</summary>
public sealed class RunFolderInUseException(string folder, int? holderPid)
    : Exception($"{folder} is in use by another archgen process{(holderPid is { } pid ? $" (PID {pid.ToString(CultureInfo.InvariantCulture)})" : "")}; wait for it to finish, or stop it first (Ctrl+C or kill -TERM{(holderPid is { } p ? " " + p.ToString(CultureInfo.InvariantCulture) : "")}; a training run writes a checkpoint first and continues with --resume).")
{
    public string Folder { get; } = folder;
    public int? HolderPid { get; } = holderPid;
}

/// <summary>
/// An exclusive lock on a run folder, held by the one process that writes there (a training run; <c>test</c> only
/// while it writes its plot). It is an OS file lock on <c>.archgen.lock</c> in the folder, so the OS releases it
/// whatever way the process ends, SIGKILL included; the file holds the holder's PID for the message others see.
/// Readers (<c>test</c>, <c>export</c>) need no lock: every file in a run folder is replaced by an atomic rename.
/// </summary>
public sealed class RunFolderLock : IDisposable
{
    /// <summary>The lock file's name in the run folder.</summary>
    public const string FileName = ".archgen.lock";

    // An advisory byte-range lock far past the content, so the PID at the start stays readable on every OS.
    const long LockedByte = 1L << 30;

    static readonly HashSet<string> HeldHere = new(StringComparer.Ordinal);

    readonly FileStream file;
    readonly string folder;
    readonly bool createdFolder;

    RunFolderLock(FileStream file, string folder, bool createdFolder)
    {
        this.file = file;
        this.folder = folder;
        this.createdFolder = createdFolder;
    }

    /// <summary>
    /// Locks <paramref name="run"/>'s folder, creating it when missing; a <see cref="RunFolderInUseException"/> naming
    /// the holder's PID when another process (or this one) holds it.
    /// </summary>
    public static RunFolderLock Acquire(RunFolder run) =>
        TryAcquire(run, out int? holder) ?? throw new RunFolderInUseException(run.Path, holder);

    /// <summary>Like <see cref="Acquire"/>, but null when the folder is in use (<paramref name="holderPid"/> then says by whom, when known).</summary>
    public static RunFolderLock? TryAcquire(RunFolder run, out int? holderPid)
    {
        ArgumentNullException.ThrowIfNull(run);
        holderPid = null;
        lock (HeldHere)
        {
            if (HeldHere.Contains(run.Path))
            {
                holderPid = Environment.ProcessId;
                return null;
            }
            bool created = !Directory.Exists(run.Path);
            Directory.CreateDirectory(run.Path);
            string path = System.IO.Path.Combine(run.Path, FileName);
            FileStream file;
            if (OperatingSystem.IsMacOS())
            {
                // No byte-range locks in .NET on macOS: an exclusive open (flock), which hides the holder's PID.
                try
                {
                    file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                }
                catch (IOException)
                {
                    return null;
                }
            }
            else
            {
                file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
                try
                {
                    file.Lock(LockedByte, 1);
                }
                catch (IOException)
                {
                    holderPid = ReadPid(file);
                    file.Dispose();
                    return null;
                }
            }
            file.SetLength(0);
            using (var writer = new StreamWriter(file, leaveOpen: true))
                writer.Write($"pid {Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}\nsince {DateTime.UtcNow:O}\n");
            file.Flush(flushToDisk: true);
            HeldHere.Add(run.Path);
            return new RunFolderLock(file, run.Path, created);
        }
    }

    /// <summary>
    /// Releases the lock. When this process created the folder and left nothing in it but the lock file (it
    /// stopped before writing anything), the folder is removed too.
    /// </summary>
    public void Dispose()
    {
        lock (HeldHere)
        {
            if (!HeldHere.Remove(folder)) return;
            bool empty = createdFolder && Directory.EnumerateFileSystemEntries(folder).All(e => System.IO.Path.GetFileName(e) == FileName);
            if (empty) TryDelete(() => File.Delete(System.IO.Path.Combine(folder, FileName)));
            file.Dispose();
            if (empty) TryDelete(() => Directory.Delete(folder));
        }
    }

    static int? ReadPid(FileStream file)
    {
        try
        {
            file.Position = 0;
            var buffer = new byte[64];
            int n = file.Read(buffer, 0, buffer.Length);
            string text = System.Text.Encoding.ASCII.GetString(buffer, 0, n);
            if (text.StartsWith("pid ", StringComparison.Ordinal))
            {
                int end = text.IndexOf('\n', StringComparison.Ordinal);
                if (int.TryParse(text[4..(end < 0 ? text.Length : end)], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) return pid;
            }
        }
        catch (IOException)
        {
        }
        return null;
    }

    static void TryDelete(Action delete)
    {
        try { delete(); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
