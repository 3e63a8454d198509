namespace ArchGen.Training;

/// <summary>The files of a training run folder, by name, in one place.</summary>
public sealed class RunFolder
{
    public RunFolder(string path) => Path = System.IO.Path.GetFullPath(path);

    public string Path { get; }
    public string Config => Combine("config.json");
    public string Metrics => Combine("metrics.csv");
    public string LatestCheckpoint => Combine(Checkpoints.Checkpoint.LatestFileName);
    public string TensorBoard => Combine("tensorboard");
    public string LossPlot => Combine("loss.png");
    public string AccuracyPlot => Combine("accuracy.png");
    public string ConfusionPlot => Combine("confusion.png");
    public string MemoryPlot => Combine("memory.png");

    public void Create() => Directory.CreateDirectory(Path);

    string Combine(string name) => System.IO.Path.Combine(Path, name);
}
