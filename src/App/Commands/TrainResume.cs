using System.CommandLine;
using System.Globalization;
using System.Reflection;
using ArchGen.Training;

namespace ArchGen.App.Commands;

/// <summary>
/// What <c>train --resume</c> takes from the checkpoint and what the command line may still change. A resumed run
/// is the same run: its checkpoint's settings decide, and an option given again with another value is refused
/// unless it can change safely mid-run (the learning rate, e.g. after a divergence; more epochs; where the data is;
/// the device, threads, test subset and checkpoint interval).
/// </summary>
internal static class TrainResume
{
    /// <summary>Options a resumed run accepts with a new value, by name.</summary>
    static readonly HashSet<string> Changeable = new(StringComparer.Ordinal)
    {
        "--epochs", "--lr", "--data", "--download", "--device", "--threads", "--test-limit", "--checkpoint-every",
        "--evaluate", "--flip-tta", "--log-every",
    };

    /// <summary>Options that are not settings of the run.</summary>
    static readonly HashSet<string> NotSettings = new(StringComparer.Ordinal) { "--out", "--resume", "--overwrite", "--help" };

    /// <summary>Options whose <see cref="TrainConfig"/> property is not named after them.</summary>
    static readonly Dictionary<string, string> Properties = new(StringComparer.Ordinal)
    {
        ["--lr"] = "LearningRate", ["--data"] = "DataDir", ["--decay-norm-bias"] = "DecayNormAndBias",
    };

    /// <summary>
    /// The configuration to resume with: <paramref name="saved"/> (the checkpoint's), with the changeable options
    /// given on the command line. An <see cref="ArgumentException"/> lists the options given with a value the run
    /// cannot change to. <paramref name="report"/> says what came from the checkpoint and what changed.
    /// </summary>
    public static TrainConfig Merge(TrainConfig saved, TrainConfig given, ParseResult parse, Command command, string runFolder, out string report) =>
        Merge(saved, given, parse, command, runFolder, out report, Changeable, "Start a new run (another --out, or --overwrite) to change the others.");

    /// <summary>
    /// As <see cref="Merge(TrainConfig, TrainConfig, ParseResult, Command, string, out string)"/>, with only
    /// <paramref name="changeable"/> options free to change (a study keeps every run's recipe equal) and
    /// <paramref name="restart"/> saying what to do instead.
    /// </summary>
    public static TrainConfig Merge(TrainConfig saved, TrainConfig given, ParseResult parse, Command command, string runFolder, out string report,
        IReadOnlySet<string> changeable, string restart)
    {
        var explicitOptions = command.Options.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        var refused = new List<string>();
        var changed = new List<string>();
        foreach (string option in explicitOptions.Where(o => !NotSettings.Contains(o)))
        {
            var property = PropertyOf(option);
            if (property is null) continue;
            object? was = property.GetValue(saved), now = property.GetValue(given);
            if (SameSetting(was, now)) continue;
            if (changeable.Contains(option)) changed.Add($"{option} {Show(now)} (was {Show(was)})");
            else refused.Add($"{option} {Show(now)} (the run has {Show(was)})");
        }
        if (refused.Count > 0)
            throw new ArgumentException(
                $"--resume continues {runFolder} with the settings it was trained with, so {string.Join(", ", refused)} cannot change; " +
                $"only {string.Join(", ", changeable.Order(StringComparer.Ordinal))} may. {restart}");

        bool Given(string option) => explicitOptions.Contains(option);
        var merged = saved with
        {
            Epochs = Given("--epochs") ? given.Epochs : saved.Epochs,
            LearningRate = Given("--lr") ? given.LearningRate : saved.LearningRate,
            DataDir = given.DataDir ?? saved.DataDir,
            Download = Given("--download") ? given.Download : saved.Download,
            Device = given.Device,
            Threads = given.Threads,
            TestLimit = Given("--test-limit") ? given.TestLimit : saved.TestLimit,
            CheckpointEvery = Given("--checkpoint-every") ? given.CheckpointEvery : saved.CheckpointEvery,
            Evaluate = Given("--evaluate") ? given.Evaluate : saved.Evaluate,
            FlipTta = Given("--flip-tta") ? given.FlipTta : saved.FlipTta,
            LogEvery = Given("--log-every") ? given.LogEvery : saved.LogEvery,
        };
        report = $"Settings from the checkpoint: model {merged.Model}, dataset {merged.Dataset}, batch size {Show(merged.BatchSize)}, optimizer {merged.Optimizer}, " +
                 $"learning rate {Show(saved.ResolvedLearningRate)}, seed {Show(merged.Seed)}, limit {Show(merged.Limit)}, epochs {Show(saved.Epochs)}." +
                 (changed.Count > 0 ? $" Changed on this command line: {string.Join(", ", changed)}." : "");
        return merged;
    }

    static PropertyInfo? PropertyOf(string option)
    {
        string name = Properties.TryGetValue(option, out var mapped)
            ? mapped
            : string.Concat(option.TrimStart('-').Split('-').Select(part => part.Length == 0 ? part : char.ToUpperInvariant(part[0]) + part[1..]));
        return typeof(TrainConfig).GetProperty(name, BindingFlags.Public | BindingFlags.Instance);
    }

    static bool SameSetting(object? a, object? b) =>
        a is string x && b is string y ? string.Equals(x, y, StringComparison.OrdinalIgnoreCase) : Equals(a, b);

    static string Show(object? value) => value switch
    {
        null => "(default)",
        double d => d.ToString("G", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
