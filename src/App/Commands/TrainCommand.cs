using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
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
        var dataset = CommonOptions.Dataset();
        var data = CommonOptions.DataDir();
        var download = CommonOptions.Download();
        var epochs = new Option<double>("--epochs", "-e") { Description = "Epochs to train; a fraction ends the last one early (e.g. 1.5).", DefaultValueFactory = _ => 10 };
        var batchSize = CommonOptions.BatchSize();
        var optimizer = new Option<string>("--optimizer") { Description = "adam (lr 0.001, the reference exercise), adamw (decoupled weight decay) or sgd (momentum 0.9, nesterov, weight decay 5e-4, cosine schedule).", DefaultValueFactory = _ => "adam" }
            .AcceptOnlyFromAmong("adam", "adamw", "sgd");
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate (default: 0.001 adam and adamw, 0.1 sgd)." };
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var output = new Option<string?>("--out", "-o") { Description = "Run folder for checkpoints, metrics and plots (default: runs/<model>-<dataset>-<time>)." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its latest checkpoint, bit for bit." };
        var limit = new Option<int>("--limit") { Description = "Use only the first N training images (0 = all), for quick runs.", DefaultValueFactory = _ => 0 };
        var testLimit = CommonOptions.TestLimit();
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Also checkpoint every N steps (0 = at each epoch's end and on interruption).", DefaultValueFactory = _ => 0 };
        var levers = new RecipeOptions();

        var command = new Command("train", "Train a model, evaluating on the test set after each epoch (or as --evaluate says).")
        {
            model, dataset, data, download, epochs, batchSize, optimizer, lr, seed, device, threads, output, resume, limit, testLimit, checkpointEvery,
        };
        levers.AddTo(command);
        command.SetAction(parse => CommandAction.Run(() =>
        {
            // A --recipe is the starting point; flags given on the command line override it.
            var start = levers.Start(parse);
            T Pick<T>(Option<T> option, T fallback) => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option)! : fallback;
            var config = levers.Apply(parse, start with
            {
                Model = parse.GetValue(model)!,
                Dataset = parse.GetValue(dataset)!,
                DataDir = parse.GetValue(data),
                Download = parse.GetValue(download),
                Epochs = Pick(epochs, start.Epochs),
                BatchSize = Pick(batchSize, start.BatchSize),
                Optimizer = Pick(optimizer, start.Optimizer),
                LearningRate = Pick(lr, start.LearningRate),
                Seed = parse.GetValue(seed),
                Device = parse.GetValue(device)!,
                Threads = parse.GetValue(threads),
                Limit = parse.GetValue(limit),
                TestLimit = parse.GetValue(testLimit),
                CheckpointEvery = parse.GetValue(checkpointEvery),
            });
            bool isResume = parse.GetValue(resume);
            string? outDir = parse.GetValue(output);
            if (isResume)
            {
                if (outDir is null) throw new ArgumentException("--resume needs --out naming the run folder to continue.");
                var saved = new RunFolder(outDir);
                if (!File.Exists(saved.Config)) throw new FileNotFoundException($"Nothing to resume: {saved.Path} has no config.json.");
                // The saved run decides everything; only --epochs (to extend a run), --device and --threads may change.
                var previous = TrainConfig.FromJson(File.ReadAllText(saved.Config));
                config = previous with
                {
                    Epochs = parse.GetResult(epochs) is { Implicit: false } ? config.Epochs : previous.Epochs,
                    Device = config.Device,
                    Threads = config.Threads,
                    DataDir = config.DataDir ?? previous.DataDir,
                };
            }
            else
            {
                config = config.WithDefaults(); // config.json records what every default resolved to
            }
            config.Validate();
            ModelCatalog.Get(config.Model); // unknown model: fail before touching data
            outDir ??= Path.Combine("runs", $"{config.Model}-{config.Dataset}-{DateTime.Now:yyyyMMdd-HHmmss}");
            var run = new RunFolder(outDir);
            return Train(config, run, isResume);
        }));
        return command;
    }

    static int Train(TrainConfig config, RunFolder run, bool resume)
    {
        var dataset = CommonOptions.OpenDataset(config.Dataset, config.DataDir, config.Download, config.Seed, ModelCatalog.Get(config.Model).Facts.InputSize);
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true; // finish the step, write a checkpoint, then exit
            if (!stop.IsCancellationRequested) Console.Error.WriteLine("Stopping after this step; writing a checkpoint...");
            stop.Cancel();
        }

        Console.WriteLine($"Training {config.Model} on {dataset.Name} ({(config.Limit > 0 ? Math.Min(config.Limit, dataset.Train.Count) : dataset.Train.Count)} images) for {config.Epochs.ToString(CultureInfo.InvariantCulture)} epochs{(config.Recipe is null ? "" : $" (recipe {config.Recipe})")}; run folder {run.Path}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = TrainingProgressView.Show(observer => new Trainer(config, run, observer).Run(dataset, resume, stop.Token));

        RunPlots.Write(run, result.LastEvaluation);
        Console.WriteLine(result.Message);
        if (result.ImagesPerEpoch > 0)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Trained on {result.ImagesSeen:N0} images ({(double)result.ImagesSeen / result.ImagesPerEpoch:0.##} epochs) in total; this session took {Durations.Format(clock.Elapsed)}."));
        if (result.LastEvaluation is { } evaluation) Console.WriteLine(evaluation.ReferenceLine);
        return result.Outcome switch
        {
            TrainingOutcome.Completed => ExitCodes.Success,
            TrainingOutcome.Interrupted => ExitCodes.Interrupted,
            _ => ExitCodes.Diverged,
        };
    }
}
