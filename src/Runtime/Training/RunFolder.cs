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
    public IEnumerable<string> RunFiles => [Config, Metrics, LatestCheckpoint, LastEpochCheckpoint, LossPlot, AccuracyPlot, ConfusionPlot, TensorBoard];

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

    string Combine(string name) => System.IO.Path.Combine(Path, name);
}
