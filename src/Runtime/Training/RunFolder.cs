namespace ArchGen.Training;

/// <summary>The files of a training run folder, by name, in one place.</summary>
public sealed class RunFolder
{
    public RunFolder(string path) => Path = System.IO.Path.GetFullPath(path);

    public string Path { get; }
    public string Config => Combine("config.json");
    public string Metrics => Combine("metrics.csv");
    public string LatestCheckpoint => Combine(Checkpoints.Checkpoint.LatestFileName);

    /// <summary>
    /// A copy of the checkpoint written at the end of the last epoch whose losses were finite, kept while
    /// <see cref="LatestCheckpoint"/> holds a checkpoint from the middle of the next epoch (a training that diverges
    /// there goes back to it).
    /// </summary>
    public string LastEpochCheckpoint => Combine("last-epoch.ckpt");

    public string TensorBoard => Combine("tensorboard");
    public string LossPlot => Combine("loss.png");
    public string AccuracyPlot => Combine("accuracy.png");
    public string ConfusionPlot => Combine("confusion.png");
    public string MemoryPlot => Combine("memory.png");

    public void Create() => Directory.CreateDirectory(Path);

    /// <summary>The files and folders a run writes here (whether they exist or not).</summary>
    public IEnumerable<string> RunFiles => [Config, Metrics, LatestCheckpoint, LastEpochCheckpoint, LossPlot, AccuracyPlot, ConfusionPlot, MemoryPlot, TensorBoard];

    /// <summary>
    /// Whether a training run has written here: a checkpoint, or its configuration with its metrics (plots alone, or a
    /// <c>config.json</c> of something else, are not a run).
    /// </summary>
    public bool HoldsRun => File.Exists(LatestCheckpoint) || File.Exists(LastEpochCheckpoint) || (File.Exists(Config) && File.Exists(Metrics));

    /// <summary>The names of the run files present: a non-empty list means the folder holds a run.</summary>
    public IReadOnlyList<string> PresentRunFiles =>
        RunFiles.Where(f => File.Exists(f) || Directory.Exists(f)).Select(f => System.IO.Path.GetFileName(f)).ToArray();

    /// <summary>Removes a previous run's files (only those a run writes; anything else in the folder stays).</summary>
    public void ClearRun()
    {
        foreach (string f in RunFiles)
        {
            if (File.Exists(f)) File.Delete(f);
            else if (Directory.Exists(f)) Directory.Delete(f, recursive: true);
        }
    }

    /// <summary>
    /// Whether <paramref name="checkpoint"/> is a run's own checkpoint (its latest or its last epoch's, in a folder
    /// with the run's <c>config.json</c>): only then do commands that read it write run outputs (plots) beside it.
    /// </summary>
    public static RunFolder? Of(string checkpoint)
    {
        string full = System.IO.Path.GetFullPath(checkpoint);
        var run = new RunFolder(System.IO.Path.GetDirectoryName(full)!);
        bool own = string.Equals(full, run.LatestCheckpoint, StringComparison.Ordinal) || string.Equals(full, run.LastEpochCheckpoint, StringComparison.Ordinal);
        return own && File.Exists(run.Config) ? run : null;
    }

    /// <summary>
    /// The run whose folder is <paramref name="folder"/> or contains it (its <c>tensorboard/</c>, a folder made
    /// inside it), or null: a new run, or a file a command writes, must not land inside another run.
    /// </summary>
    public static RunFolder? Enclosing(string folder)
    {
        for (var dir = new DirectoryInfo(RealPath(folder)); dir is not null; dir = dir.Parent)
        {
            if (!dir.Exists) continue;
            var run = new RunFolder(dir.FullName);
            if (run.HoldsRun) return run;
        }
        return null;
    }

    /// <summary>
    /// Guards a write of <paramref name="target"/> by a command other than <c>train</c>. When the folder holds a
    /// run, one of the run's own files (<see cref="RunFiles"/>) is replaced only with <paramref name="overwrite"/>,
    /// and any write there happens under the run's lock (a <see cref="RunFolderInUseException"/> while another
    /// process holds it). Returns the lock to hold until the file is written, or null when no run is there.
    /// </summary>
    public static RunFolderLock? GuardWrite(string target, bool overwrite)
    {
        string full = RealPath(target);
        var run = new RunFolder(System.IO.Path.GetDirectoryName(full)!);
        if (System.IO.Path.GetFileName(full) == RunFolderLock.FileName)
            throw new ArgumentException($"{full} is the lock file of an archgen run folder; write elsewhere.");
        // Inside a run's own folders (its tensorboard/ event files): never written by hand.
        if (Enclosing(run.Path) is { } outer && outer.Path != run.Path)
            throw new ArgumentException($"{full} is inside the training run in {outer.Path} (its {System.IO.Path.GetRelativePath(outer.Path, run.Path)} folder); write elsewhere.");
        if (!Directory.Exists(run.Path) || !run.HoldsRun) return null;
        if (!overwrite && run.RunFiles.Contains(full, StringComparer.Ordinal))
            throw new ArgumentException($"{run.Path} holds a training run ({string.Join(", ", run.PresentRunFiles)}); writing {System.IO.Path.GetFileName(full)} would replace one of its files. Pass --overwrite to replace it, or write elsewhere.");
        return RunFolderLock.Acquire(run);
    }

    /// <summary>
    /// <paramref name="path"/> made absolute with every symbolic link in its existing part resolved (the deepest
    /// existing ancestor through realpath(3)), so that no link leads a write into a run's folder unseen.
    /// </summary>
    public static string RealPath(string path)
    {
        string full = System.IO.Path.GetFullPath(path).TrimEnd(System.IO.Path.DirectorySeparatorChar);
        if (full.Length == 0) full = "/";
        if (OperatingSystem.IsWindows()) return full;
        string existing = full, rest = string.Empty;
        while (!Directory.Exists(existing) && !File.Exists(existing))
        {
            string? parent = System.IO.Path.GetDirectoryName(existing);
            if (parent is null) return full;
            rest = System.IO.Path.Combine(System.IO.Path.GetFileName(existing), rest);
            existing = parent;
        }
        IntPtr resolved = realpath(existing, IntPtr.Zero);
        if (resolved == IntPtr.Zero) return full;
        try
        {
            string real = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(resolved)!;
            return rest.Length == 0 ? real : System.IO.Path.Combine(real, rest).TrimEnd(System.IO.Path.DirectorySeparatorChar);
        }
        finally
        {
            free(resolved);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "realpath")]
    static extern IntPtr realpath([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "free")]
    static extern void free(IntPtr pointer);

    string Combine(string name) => System.IO.Path.Combine(Path, name);
}
