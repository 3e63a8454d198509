using System.Globalization;
using System.Text;
using ArchGen.Checkpoints;
using ArchGen.Data;

namespace ArchGen.Studies;

/// <summary>One finished run of a study: a model trained with one seed.</summary>
/// <param name="TestAccuracy">Test-set accuracy in percent after the last epoch.</param>
/// <param name="Seconds">Training time over all sittings (the epochs' own times; evaluation not included).</param>
/// <param name="ImagesPerSecond">Training images per second over those seconds.</param>
public sealed record StudyRun(string Model, int Seed, double TestAccuracy, long Parameters, long MultiplyAdds, double Seconds, double ImagesPerSecond);

/// <summary>
/// One model's line of a study's summary: the mean and sample standard deviation of its test accuracy over its runs,
/// and its difference to the first model, paired by seed (the same data order), with a 95 % Student-t interval
/// (null for the first model, or with fewer than two pairs).
/// </summary>
public sealed record ModelSummary(string Model, int Runs, double MeanAccuracy, double StdAccuracy, double? Difference, double? Low, double? High, int Pairs);

/// <summary>The statistics of a study and its files: <c>study.csv</c> (one row per run) and <c>summary.csv</c>.</summary>
public static class Study
{
    public const string RunsFile = "study.csv";
    public const string SettingsFile = "study.json";
    public const string SummaryFile = "summary.csv";
    public const string RunsHeader = "model,seed,test_accuracy,params,multiply_adds,seconds,images_per_second";
    public const string SummaryHeader = "model,runs,mean_accuracy,std_accuracy,difference,difference_low_95,difference_high_95,pairs";

    /// <summary>One summary per model, in the order given; models without runs are left out.</summary>
    public static IReadOnlyList<ModelSummary> Summarize(IReadOnlyList<string> models, IReadOnlyList<StudyRun> runs)
    {
        var result = new List<ModelSummary>();
        var first = runs.Where(r => r.Model == models[0]).ToDictionary(r => r.Seed, r => r.TestAccuracy);
        foreach (string model in models)
        {
            var own = runs.Where(r => r.Model == model).OrderBy(r => r.Seed).ToList();
            if (own.Count == 0) continue;
            var (mean, std) = MeanAndStd(own.Select(r => r.TestAccuracy).ToList());
            double? difference = null, low = null, high = null;
            int pairs = 0;
            if (model != models[0])
            {
                var d = own.Where(r => first.ContainsKey(r.Seed)).Select(r => r.TestAccuracy - first[r.Seed]).ToList();
                pairs = d.Count;
                if (pairs > 0)
                {
                    var (dm, ds) = MeanAndStd(d);
                    difference = dm;
                    if (pairs >= 2)
                    {
                        double half = StudentT975(pairs - 1) * ds / Math.Sqrt(pairs);
                        (low, high) = (dm - half, dm + half);
                    }
                }
            }
            result.Add(new ModelSummary(model, own.Count, mean, std, difference, low, high, pairs));
        }
        return result;
    }

    /// <summary>The mean and the sample (n − 1) standard deviation; NaN for the deviation of one value.</summary>
    public static (double Mean, double Std) MeanAndStd(IReadOnlyList<double> values)
    {
        double mean = values.Average();
        double std = values.Count < 2 ? double.NaN : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return (mean, std);
    }

    // Two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom.
    static readonly double[] T975 =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    /// <summary>The 97.5 % quantile of Student's t: tabulated to 30 degrees of freedom, then the Cornish–Fisher expansion.</summary>
    public static double StudentT975(int degreesOfFreedom)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreesOfFreedom, 1);
        if (degreesOfFreedom <= T975.Length) return T975[degreesOfFreedom - 1];
        const double z = 1.959963984540054;
        double n = degreesOfFreedom;
        return z + (Math.Pow(z, 3) + z) / (4 * n) + (5 * Math.Pow(z, 5) + 16 * Math.Pow(z, 3) + 3 * z) / (96 * n * n)
            + (3 * Math.Pow(z, 7) + 19 * Math.Pow(z, 5) + 17 * Math.Pow(z, 3) - 15 * z) / (384 * n * n * n);
    }

    public static void WriteRuns(string path, IEnumerable<StudyRun> runs)
    {
        var text = new StringBuilder(RunsHeader).Append('\n');
        foreach (var r in runs)
            text.Append(string.Join(",", r.Model, I(r.Seed), R(r.TestAccuracy), I(r.Parameters), I(r.MultiplyAdds), R(r.Seconds), R(r.ImagesPerSecond))).Append('\n');
        AtomicFile.WriteAllText(path, text.ToString());
    }

    /// <summary>The runs of a <c>study.csv</c>; a line that is not one is a <see cref="DataException"/> naming the file and the line.</summary>
    public static IReadOnlyList<StudyRun> ReadRuns(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0] != RunsHeader)
            throw new DataException($"is not a study's {RunsFile} (its first line is not '{RunsHeader}')", path);
        var runs = new List<StudyRun>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var f = lines[i].Split(',');
            if (f.Length != 7 || !int.TryParse(f[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed)
                || !double.TryParse(f[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double accuracy)
                || !long.TryParse(f[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out long parameters)
                || !long.TryParse(f[4], NumberStyles.Integer, CultureInfo.InvariantCulture, out long macs)
                || !double.TryParse(f[5], NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds)
                || !double.TryParse(f[6], NumberStyles.Float, CultureInfo.InvariantCulture, out double rate))
                throw new DataException($"line {I(i + 1)} is not a run (model, seed, accuracy, parameters, multiply-adds, seconds, images/s)", path);
            runs.Add(new StudyRun(f[0], seed, accuracy, parameters, macs, seconds, rate));
        }
        return runs;
    }

    public static void WriteSummary(string path, IEnumerable<ModelSummary> summaries)
    {
        var text = new StringBuilder(SummaryHeader).Append('\n');
        foreach (var s in summaries)
            text.Append(string.Join(",", s.Model, I(s.Runs), R(s.MeanAccuracy), R(s.StdAccuracy), R(s.Difference), R(s.Low), R(s.High), I(s.Pairs))).Append('\n');
        AtomicFile.WriteAllText(path, text.ToString());
    }

    static string I(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Round-trip number; empty when there is none (NaN or null).</summary>
    static string R(double? v) => v is { } x && double.IsFinite(x) ? x.ToString("R", CultureInfo.InvariantCulture) : "";
}
