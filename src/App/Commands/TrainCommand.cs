using System.CommandLine;
using System.Globalization;
using ArchGen.App.Cli;
using ArchGen.App.Reporting;
using ArchGen.Training;

namespace ArchGen.App.Commands;

/// <summary><c>archgen train</c>: trains a catalog model on a dataset into a run folder.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var seed = CommonOptions.Seed();
        var output = new Option<string?>("--out", "-o") { Description = "Run folder for checkpoints, metrics and plots (default: runs/<model>-<dataset>-<time>)." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its latest checkpoint, bit for bit, with the settings it was started with (--lr, --epochs, where the data is and the evaluation settings may change)." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace the run already in --out (without it, a folder that holds a run is refused)." };
        var how = new TrainOptions();

        var command = new Command("train", "Train a model, evaluating on the test set after each epoch (or as --evaluate says).") { model, seed, output, resume, overwrite };
        how.AddTo(command);
        command.SetAction(parse => CommandAction.Run(() =>
        {
            var config = how.Config(parse, parse.GetValue(model)!, parse.GetValue(seed));
            bool isResume = parse.GetValue(resume), replace = parse.GetValue(overwrite);
            string? outDir = parse.GetValue(output);
            if (isResume && replace) throw new ArgumentException("--resume continues the run in --out and --overwrite replaces it; give one of them.");
            if (isResume && outDir is null) throw new ArgumentException("--resume needs --out naming the run folder to continue.");
            if (!isResume)
            {
                config.Validate();
                ModelCatalog.Get(config.Model); // unknown model: fail before touching data
                config = config.WithDefaults(); // config.json records what every default resolved to
                FineTuneOptions.CheckInit(config.Init);
            }
            outDir ??= Path.Combine("runs", $"{config.Model}-{config.Dataset}-{DateTime.Now:yyyyMMdd-HHmmss}");
            OutputFile.RequireFolder(outDir, "--out");
            if (RunFolder.Enclosing(outDir) is { } outer && outer.Path != RunFolder.RealPath(outDir))
                throw new ArgumentException($"--out {outDir} is inside the training run in {outer.Path}; give a folder outside it.");
            var run = new RunFolder(outDir);

            // One writer per run folder: a second process is refused here, naming the holder.
            using var folderLock = RunFolderLock.Acquire(run);
            var present = run.PresentRunFiles;
            if (!isResume && !replace && present.Count > 0)
                throw new ArgumentException($"{run.Path} already holds a run ({string.Join(", ", present)}); pass --resume to continue it, or --overwrite to replace it.");
            if (isResume && !File.Exists(run.LatestCheckpoint))
                throw new FileNotFoundException(present.Count == 0
                    ? $"Nothing to resume: {run.Path} holds no run."
                    : $"Nothing to resume: {run.Path} has no {Checkpoints.Checkpoint.LatestFileName} (the run stopped before its first checkpoint); start it again with --overwrite.");
            foreach (string leftover in Checkpoints.AtomicFile.RemoveLeftovers(run.Path))
                Console.Error.WriteLine($"Removed {leftover}, left by a write that was cut short.");

            // The checkpoint (checksummed) holds the run's settings; config.json is only a readable copy. It is opened
            // and verified once: the settings come from its header, the weights from the same read.
            using var latest = isResume ? Checkpoints.Checkpoint.Open(run.LatestCheckpoint) : null;
            if (latest is not null)
            {
                config = TrainResume.Merge(latest.Header.Config, config, parse, command, run.Path, out string report);
                config.Validate();
                Console.WriteLine(report);
            }
            return Train(config, run, latest);
        }));
        return command;
    }

    static int Train(TrainConfig config, RunFolder run, Checkpoints.VerifiedCheckpoint? resumeFrom)
    {
        Interruption.StoppingMessage = "Stopping at the next safe point (after this step, or as soon as loading or evaluation allows) and writing a checkpoint; press Ctrl+C again to exit at once.";
        var facts = ModelCatalog.Get(config.Model).Facts;
        var dataset = CommonOptions.OpenTrainingData(config, facts, config.Seed);
        Console.WriteLine($"Training {config.Model} on {dataset.Name} ({(config.Limit > 0 ? Math.Min(config.Limit, dataset.Train.Count) : dataset.Train.Count)} images) for {config.Epochs.ToString(CultureInfo.InvariantCulture)} epochs{(config.Recipe is null ? "" : $" (recipe {config.Recipe})")}; run folder {run.Path}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = TrainingProgressView.Show(observer => resumeFrom is null
            ? new Trainer(config, run, observer).Run(dataset, resume: false, Interruption.Token)
            : new Trainer(config, run, observer).Run(dataset, resumeFrom, Interruption.Token));

        RunPlots.Write(run, result.LastEvaluation);
        if (result.Outcome == TrainingOutcome.Completed) Console.WriteLine(result.Message);
        else Console.Error.WriteLine((result.Outcome == TrainingOutcome.Diverged ? "error: " : "") + result.Message);
        if (result.ImagesPerEpoch > 0)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Trained on {result.ImagesSeen:N0} images ({Epochs((double)result.ImagesSeen / result.ImagesPerEpoch)}) in total; this session took {Durations.Format(clock.Elapsed)}."));
        if (result.LastEvaluation is { } evaluation) Console.WriteLine(evaluation.ReferenceLine);
        return result.Outcome switch
        {
            TrainingOutcome.Completed => ExitCodes.Success,
            TrainingOutcome.Interrupted => ExitCodes.Interrupted,
            _ => ExitCodes.Diverged,
        };
    }

    /// <summary>"1 epoch", "0.5 epochs", "2 epochs": a count of epochs as it reads.</summary>
    static string Epochs(double epochs)
    {
        string text = epochs.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);
        return text == "1" ? "1 epoch" : text + " epochs";
    }
}
