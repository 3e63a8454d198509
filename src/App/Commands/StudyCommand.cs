using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ArchGen.App.Cli;
using ArchGen.App.Reporting;
using ArchGen.Checkpoints;
using ArchGen.Data;
using ArchGen.Studies;
using ArchGen.Training;
using Spectre.Console;

namespace ArchGen.App.Commands;

/// <summary>
/// <c>archgen study</c>: trains several models under one recipe with seeds 1..K each (one run folder per model and
/// seed, the same data order for a given seed), then reports each model's test accuracy as mean ± standard deviation
/// and its difference to the first model with a 95 % interval. Stoppable and resumable.
/// </summary>
public static class StudyCommand
{
    public const int MaxSeeds = 100;
    public const string AccuracyPlotName = "accuracy.png";

    public static Command Create()
    {
        var models = new Option<string>("--models") { Required = true, Description = "Catalog models to compare, comma-separated; the first is the baseline the others are compared with." };
        var seeds = CommonOptions.Checked(new Option<int>("--seeds") { Description = $"Runs per model, with seeds 1..K (1 to {MaxSeeds}).", DefaultValueFactory = _ => 3 },
            k => k is >= 1 and <= MaxSeeds ? null : $"--seeds {k.ToString(CultureInfo.InvariantCulture)}: must be 1 to {MaxSeeds}.");
        var output = new Option<string>("--out", "-o") { Required = true, Description = $"The study's folder: DIR/<model>/seed-<k>/ run folders, {Study.RunsFile}, {Study.SummaryFile} and {AccuracyPlotName}." };
        var resume = new Option<bool>("--resume") { Description = "Continue a stopped study in --out: finished runs are kept, the others resume from their checkpoints (or start)." };
        var how = new TrainOptions();
        var command = new Command("study", "Train several models under one recipe, several seeds each, and compare their test accuracy (mean ± std, difference to the first with a 95 % interval).")
        {
            models, seeds, output, resume,
        };
        how.AddTo(command);
        command.SetAction(parse => CommandAction.Run(() =>
        {
            var names = ParseModels(parse.GetValue(models)!);
            int k = parse.GetValue(seeds);
            bool isResume = parse.GetValue(resume);
            string folder = OutputFile.RequireFolder(parse.GetValue(output)!, "--out");
            if (RunFolder.Enclosing(folder) is { } outer)
                throw new ArgumentException($"--out {folder} is inside the training run in {outer.Path}; give a folder outside it.");
            if (!isResume && Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
                throw new ArgumentException($"--out {folder} is not empty; pass --resume to continue the study in it, or give an empty or new folder.");

            // One recipe for every run: recorded when the study starts; a resumed study keeps it (only where the data is,
            // the device, threads, checkpoint interval and log interval may change).
            string settingsFile = Path.Combine(folder, Study.SettingsFile);
            var given = how.Config(parse, names[0], seed: 0);
            var settings = isResume && File.Exists(settingsFile)
                ? TrainResume.Merge(TrainConfig.FromJson(File.ReadAllText(settingsFile)), given, parse, command, folder, out _, ResumeChangeable,
                    "Start a new study (another --out) to change the others.")
                : given.WithDefaults();
            settings.Validate();
            if (settings.Evaluate == "none")
                throw new ArgumentException("--evaluate none leaves the runs without a test accuracy to compare; use end or epoch.");
            FineTuneOptions.CheckInit(settings.Init);
            var plan = names.SelectMany(model => Enumerable.Range(1, k).Select(seed => (Model: model, Seed: seed))).ToList();

            // Every model against the data before the first run trains: channels, classes, held-out images.
            var datasets = new Dictionary<string, Data.IDataset>(StringComparer.Ordinal);
            foreach (string model in names)
            {
                var facts = ModelCatalog.Get(model).Facts;
                var dataset = CommonOptions.OpenTrainingData(settings, facts, seed: 1); // one dataset for every seed (the synthetic one is drawn from a seed)
                try
                {
                    Data.BatchLoader.RequireChannels(facts.InputChannels, dataset.Train.Channels);
                }
                catch (DataException e)
                {
                    throw new DataException($"--models {model}: {e.Message}", innerException: e);
                }
                ClassCount.CheckTrainable(dataset.Train.ClassNames, $"'{dataset.Name}'");
                Trainer.RequireHoldout(settings.Holdout, settings.Limit > 0 ? dataset.Train.Take(settings.Limit) : dataset.Train, dataset.Name);
                datasets[model] = dataset;
            }

            string runsFile = Path.Combine(folder, Study.RunsFile);
            var done = isResume && File.Exists(runsFile) ? Study.ReadRuns(runsFile).ToList() : [];
            bool Planned(StudyRun run) => plan.Contains((run.Model, run.Seed));
            string RunPath(string model, int seed) => Path.Combine(folder, model, "seed-" + seed.ToString(CultureInfo.InvariantCulture));
            // A finished run is summarized from its row only once its folder proves it is that run (another model's run
            // or another seed's copy put in its place, or a run continued by train --resume past the study's epochs, is not).
            foreach (var row in done.Where(Planned))
            {
                var run = new RunFolder(RunPath(row.Model, row.Seed));
                VerifyRun(run, row.Model, row.Seed, settings, finished: true);
                VerifyAccuracy(run, row, runsFile);
            }
            Directory.CreateDirectory(folder);
            if (!File.Exists(settingsFile)) AtomicFile.WriteAllText(settingsFile, JsonSerializer.Serialize(settings with { Model = "", Seed = 0 }, TrainConfig.Json));
            Interruption.StoppingMessage = "Stopping the study at the next safe point of the current run (its checkpoint is written); --resume continues it.";
            (TrainingOutcome Outcome, string Message) outcome = StudyProgressView.Show<(TrainingOutcome, string)>(plan.Count, done.Count(Planned), progress =>
            {
                foreach (var (model, seed) in plan)
                {
                    if (done.Any(d => d.Model == model && d.Seed == seed)) continue;
                    progress.Starting(model, seed);
                    var runConfig = settings with { Model = model, Seed = seed };
                    var (result, run) = TrainOne(runConfig, datasets[model], RunPath(model, seed), isResume, parse, command, progress.Observer);
                    if (result.Outcome != TrainingOutcome.Completed) return (result.Outcome, result.Message);
                    done.Add(Record(model, seed, result, run));
                    Study.WriteRuns(runsFile, done);
                    progress.Finished(done[^1]);
                }
                return (TrainingOutcome.Completed, "");
            });

            var finished = done.Where(Planned).OrderBy(d => names.IndexOf(d.Model)).ThenBy(d => d.Seed).ToList();
            if (done.Count > finished.Count)
                Console.Error.WriteLine($"note: {done.Count - finished.Count} finished run(s) in {runsFile} are outside this --models and --seeds ({string.Join(", ", done.Where(d => !Planned(d)).Select(d => $"{d.Model} seed {d.Seed.ToString(CultureInfo.InvariantCulture)}"))}); the summary leaves them out.");
            if (finished.Count > 0)
            {
                var summary = Study.Summarize(names, finished);
                Study.WriteSummary(Path.Combine(folder, Study.SummaryFile), summary);
                StudyPlot.Write(names, finished.Select(d => (d.Model, RunPath(d.Model, d.Seed))).ToList(), Path.Combine(folder, AccuracyPlotName));
                AnsiConsole.Write(SummaryTable(summary, names[0]));
            }
            if (outcome.Outcome == TrainingOutcome.Diverged)
            {
                // The trainer's advice is train's (--overwrite, --resume with a lower --lr); a study has neither: its
                // recipe is fixed for every run, so a lower rate is a new study.
                int advice = outcome.Message.IndexOf(". ", StringComparison.Ordinal);
                string what = advice < 0 ? outcome.Message.TrimEnd('.') : outcome.Message[..advice];
                Console.Error.WriteLine($"error: {what}. A study's recipe is the same for every run and study --resume cannot change it (--lr included), so this recipe diverges here; start a new study (another --out) with a lower --lr. {finished.Count} of {plan.Count} runs finished.");
                return ExitCodes.Diverged;
            }
            if (outcome.Outcome != TrainingOutcome.Completed)
            {
                Console.Error.WriteLine(outcome.Message);
                Console.Error.WriteLine($"{finished.Count} of {plan.Count} runs finished; continue with: archgen study --resume --out {folder} (and the same flags).");
                return ExitCodes.Interrupted;
            }
            Console.WriteLine($"Study: {runsFile}, {Path.Combine(folder, Study.SummaryFile)}, {Path.Combine(folder, AccuracyPlotName)}");
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>What a resumed study may change: where the data is and how the runs execute, nothing that changes a result.</summary>
    static readonly HashSet<string> ResumeChangeable = new(StringComparer.Ordinal) { "--data", "--download", "--device", "--threads", "--checkpoint-every", "--log-every" };

    static List<string> ParseModels(string text)
    {
        var names = text.Split(',', StringSplitOptions.TrimEntries).ToList();
        if (names.Any(n => n.Length == 0)) throw new ArgumentException($"--models '{text}' has an empty name; give catalog models separated by commas.");
        // Catalog names match without regard to case and by full name too; each model's runs go to a folder of its name.
        var resolved = names.Select(n => ModelCatalog.Get(n).Facts.Name).ToList();
        if (resolved.GroupBy(n => n, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"--models '{text}' names {twice.Key} twice.");
        return resolved;
    }

    /// <summary>
    /// Trains (or resumes, or starts again when it stopped before its first checkpoint) one run of the study. A run
    /// that fails before its first checkpoint leaves no folder behind when the study made it.
    /// </summary>
    static (TrainingResult Result, RunFolder Run) TrainOne(TrainConfig requested, Data.IDataset dataset, string path, bool isResume, ParseResult parse, Command command, ITrainingObserver observer)
    {
        var run = new RunFolder(path);
        bool created = !Directory.Exists(path);
        try
        {
            using var folderLock = RunFolderLock.Acquire(run);
            foreach (string leftover in AtomicFile.RemoveLeftovers(run.Path))
                Console.Error.WriteLine($"Removed {leftover}, left by a write that was cut short.");
            using var latest = isResume && File.Exists(run.LatestCheckpoint) ? Checkpoint.Open(run.LatestCheckpoint) : null;
            if (latest is not null) VerifyRun(run, requested.Model, requested.Seed, requested, latest, finished: false);
            var config = latest is null
                ? requested.WithDefaults()
                : TrainResume.Merge(latest.Header.Config, requested, parse, command, run.Path, out _, ResumeChangeable, "Start a new study (another --out) to change the others.");
            config.Validate();
            var trainer = new Trainer(config, run, observer);
            var result = latest is null ? trainer.Run(dataset, resume: false, Interruption.Token) : trainer.Run(dataset, latest, Interruption.Token);
            RunPlots.Write(run, result.LastEvaluation);
            return (result, run);
        }
        catch (Exception) when (created && !File.Exists(run.LatestCheckpoint))
        {
            Directory.Delete(path, recursive: true);
            string? modelFolder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (modelFolder is not null && !Directory.EnumerateFileSystemEntries(modelFolder).Any()) Directory.Delete(modelFolder);
            throw;
        }
    }

    /// <summary>Settings that say where and how a run executes, not what it trains: they may differ between a study and its runs.</summary>
    static readonly string[] NotRecipe = ["model", "seed", "dataDir", "download", "device", "threads", "checkpointEvery", "logEvery"];

    /// <summary>
    /// Refuses, in one line naming the folder, a run folder that is not the study's run of <paramref name="model"/> and
    /// <paramref name="seed"/>: its checkpoint's model, seed and recipe must be the study's, and a finished run must
    /// hold exactly the study's epochs (a run continued by <c>train --resume --epochs</c> is another run).
    /// </summary>
    static void VerifyRun(RunFolder run, string model, int seed, TrainConfig study, bool finished)
    {
        if (!File.Exists(run.LatestCheckpoint))
            throw new DataException($"{Study.RunsFile} records {model} seed {seed.ToString(CultureInfo.InvariantCulture)} as finished, but its folder has no checkpoint; move {Study.RunsFile} aside or start a new study (another --out)", run.Path);
        using var checkpoint = Checkpoint.Open(run.LatestCheckpoint);
        VerifyRun(run, model, seed, study, checkpoint, finished);
    }

    static void VerifyRun(RunFolder run, string model, int seed, TrainConfig study, VerifiedCheckpoint checkpoint, bool finished)
    {
        // A finished run is also a row of study.csv, which must go too for study --resume to train it again.
        string Remedy = finished
            ? $"move it out of the study and move {Study.RunsFile} aside (study --resume then trains this run again and reads the others again) or start a new study (another --out)"
            : "move it out of the study (study --resume then trains this run again) or start a new study (another --out)";
        var saved = checkpoint.Header.Config;
        var invariant = CultureInfo.InvariantCulture;
        if (!string.Equals(ModelCatalog.TryGet(saved.Model, out var entry) ? entry.Facts.Name : saved.Model, model, StringComparison.Ordinal))
            throw new DataException($"this is a run of {saved.Model}, not of {model}, the model the study keeps here; {Remedy}", run.Path);
        if (saved.Seed != seed)
            throw new DataException($"this is the run of seed {saved.Seed.ToString(invariant)}, not of seed {seed.ToString(invariant)}, which the study keeps here; {Remedy}", run.Path);
        var ours = JsonSerializer.SerializeToNode(study.WithDefaults(), TrainConfig.Json)!.AsObject();
        var theirs = JsonSerializer.SerializeToNode(saved, TrainConfig.Json)!.AsObject();
        // A setting the study leaves unset (null) is resolved by each run (the normalization, from its data): not compared.
        var differs = ours.Where(p => p.Value is not null && !NotRecipe.Contains(p.Key))
            .Where(p => !System.Text.Json.Nodes.JsonNode.DeepEquals(p.Value, theirs[p.Key]))
            .Select(p => $"{p.Key} {theirs[p.Key]?.ToJsonString() ?? "(none)"} (the study's: {p.Value!.ToJsonString()})").ToList();
        if (differs.Count > 0)
            throw new DataException($"this run was trained with {string.Join(", ", differs)}, not the study's recipe (train --resume can change a run's epochs, which makes it another run); {Remedy}", run.Path);
        int epochs = (int)Math.Ceiling(study.Epochs);
        if (finished && (checkpoint.Header.Position.Epoch != epochs || checkpoint.Header.Position.Batch != 0))
            throw new DataException($"{Study.RunsFile} records this run as finished, but its checkpoint is at epoch {checkpoint.Header.Position.Epoch.ToString(invariant)}, batch {checkpoint.Header.Position.Batch.ToString(invariant)} of the study's {epochs.ToString(invariant)} epochs; {Remedy}", run.Path);
    }

    /// <summary>
    /// Refuses, in one line naming <paramref name="runsFile"/>, a row whose test accuracy is not the last one the run's
    /// own metrics.csv holds (metrics.csv keeps 6 significant digits: within 1e-3 percentage points).
    /// </summary>
    static void VerifyAccuracy(RunFolder run, StudyRun row, string runsFile)
    {
        if (!double.IsFinite(row.TestAccuracy)) return;
        double? last = MetricsLog.LastTestAccuracy(run.Metrics);
        if (last is { } held && Math.Abs(held - row.TestAccuracy) <= 1e-3) return;
        var invariant = CultureInfo.InvariantCulture;
        throw new DataException($"records a test accuracy of {row.TestAccuracy.ToString(invariant)} % for {row.Model} seed {row.Seed.ToString(invariant)}, but its run's {Path.GetFileName(run.Metrics)} holds {(last is { } value ? value.ToString(invariant) + " %" : "none")}; move {Study.RunsFile} aside (study --resume then reads every run again) or start a new study (another --out)", runsFile);
    }

    /// <summary>A finished run's row: the last test accuracy, the model's size, and the training time over all sittings from its metrics.</summary>
    static StudyRun Record(string model, int seed, TrainingResult result, RunFolder run)
    {
        var facts = ModelCatalog.Get(model).Facts;
        double seconds = MetricsLog.Read(run.Metrics, "epoch").Sum(r => r.TryGetValue("seconds", out double s) && double.IsFinite(s) ? s : 0);
        double accuracy = result.LastEvaluation?.Accuracy ?? double.NaN;
        return new StudyRun(model, seed, accuracy, facts.ParameterCount, facts.MultiplyAdds, seconds, seconds > 0 ? result.ImagesSeen / seconds : double.NaN);
    }

    static Table SummaryTable(IReadOnlyList<ModelSummary> summary, string baseline)
    {
        static string F(double? v, string format) => v is { } x && double.IsFinite(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "n/a";
        var table = new Table().Title("Test accuracy %, mean ± std over seeds")
            .AddColumns("Model", "Runs", "Accuracy %", $"Difference to {Terminal.Markup(baseline)} (95 % interval)");
        foreach (var s in summary)
        {
            string difference = s.Model == baseline ? "(baseline)"
                : s.Difference is null ? "n/a"
                : $"{F(s.Difference, "+0.00;-0.00")} ({(s.Low is null ? "needs 2 seeds" : F(s.Low, "+0.00;-0.00") + " to " + F(s.High, "+0.00;-0.00"))})";
            table.AddRow(Terminal.Markup(s.Model), s.Runs.ToString(CultureInfo.InvariantCulture), $"{F(s.MeanAccuracy, "0.00")} ± {F(s.StdAccuracy, "0.00")}", difference);
        }
        return table;
    }
}
