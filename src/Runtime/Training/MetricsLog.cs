using System.Globalization;

namespace ArchGen.Training;

/// <summary>
/// <c>metrics.csv</c>: one row per logged step and per epoch. On resume, rows past the checkpoint's step are dropped
/// first, so the file reads as if the run had never stopped (rows of a file written before a column was added get it
/// empty). Test columns are empty for epochs without a test evaluation; <c>val_*</c> are the held-out images'
/// figures (<c>--holdout</c>); an epoch row's <c>seconds</c> and <c>images_per_second</c> cover the epoch's training
/// over every sitting (a step row's throughput is its sitting's); <c>rss_mb</c> is the process's resident memory when
/// the row was written (after the epoch's training for epoch rows) and <c>peak_rss_mb</c> its peak so far, both
/// empty in the row of an epoch the process trained no step of (resumed at its evaluation).
/// </summary>
public sealed class MetricsLog : IDisposable
{
    public const string Header = "kind,epoch,step,loss,accuracy,test_loss,test_accuracy,lr,images_per_second,seconds,val_loss,val_accuracy,rss_mb,peak_rss_mb";

    static readonly int Columns = Header.Split(',').Length;

    readonly StreamWriter writer;

    public MetricsLog(string path, long keepUpToStep)
    {
        var kept = new List<string> { Header };
        if (File.Exists(path))
        {
            foreach (string line in File.ReadLines(path).Skip(1))
            {
                string[] cells = line.Split(',');
                if (cells.Length > 2 && long.TryParse(cells[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out long step) && step <= keepUpToStep)
                    kept.Add(cells.Length < Columns ? line + new string(',', Columns - cells.Length) : line);
            }
        }
        Checkpoints.AtomicFile.WriteAllText(path, string.Join("\n", kept) + "\n");
        writer = new StreamWriter(path, append: true) { AutoFlush = true, NewLine = "\n" };
    }

    public void Step(StepReport s) =>
        Row("step", s.Epoch + 1, s.GlobalStep, s.Loss, s.Accuracy, double.NaN, double.NaN, s.LearningRate, s.ImagesPerSecond, double.NaN,
            double.NaN, double.NaN, s.ResidentMiB, double.NaN);

    public void Epoch(EpochReport e) =>
        Row("epoch", e.Epoch + 1, e.GlobalStep, e.TrainLoss, e.TrainAccuracy, e.TestLoss, e.TestAccuracy, e.LearningRate, e.ImagesPerSecond, e.Seconds,
            e.Validation?.MeanLoss ?? double.NaN, e.Validation?.Accuracy ?? double.NaN, e.ResidentMiB, e.PeakResidentMiB);

    void Row(string kind, int epoch, long step, params double[] values) =>
        writer.WriteLine(string.Join(',', new[] { kind, epoch.ToString(CultureInfo.InvariantCulture), step.ToString(CultureInfo.InvariantCulture) }
            .Concat(values.Select(v => double.IsNaN(v) ? "" : v.ToString("G6", CultureInfo.InvariantCulture)))));

    public void Dispose() => writer.Dispose();

    /// <summary>Reads the rows of one kind back (for plots): column values by the file's own header names.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, double>> Read(string path, string kind)
    {
        var rows = new List<IReadOnlyDictionary<string, double>>();
        string[]? names = null;
        foreach (string line in File.ReadLines(path))
        {
            string[] cells = line.Split(',');
            if (names is null)
            {
                names = cells;
                continue;
            }
            if (cells.Length != names.Length || cells[0] != kind) continue;
            var row = new Dictionary<string, double>();
            for (int i = 1; i < names.Length; i++)
                row[names[i]] = double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : double.NaN;
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>The last finite test accuracy (%) among the epoch rows of <paramref name="path"/>; null when the file is missing or holds none.</summary>
    public static double? LastTestAccuracy(string path)
    {
        if (!File.Exists(path)) return null;
        double? last = null;
        foreach (var epoch in Read(path, "epoch"))
            if (epoch.TryGetValue("test_accuracy", out double accuracy) && double.IsFinite(accuracy)) last = accuracy;
        return last;
    }
}
