using System.CommandLine;
using ArchGen.Training;

namespace ArchGen.App.Cli;

/// <summary>
/// The flags that say how to train: everything <c>train</c> takes but which model, its seed, where the run goes and
/// whether it resumes. <c>train</c> and <c>study</c> share them, so a study's runs are trained as <c>train</c> would.
/// </summary>
public sealed class TrainOptions
{
    readonly Option<string> dataset = CommonOptions.Dataset();
    readonly Option<string?> data = CommonOptions.DataDir();
    readonly Option<bool> download = CommonOptions.Download();
    readonly Option<double> epochs = CommonOptions.Checked(new Option<double>("--epochs", "-e") { Description = "Epochs to train; a fraction ends the last one early (e.g. 1.5).", DefaultValueFactory = _ => 10 }, OptionRules.Epochs);
    readonly Option<int> batchSize = CommonOptions.BatchSize();
    readonly Option<string> optimizer = new Option<string>("--optimizer") { Description = "adam (lr 0.001, the reference exercise), adamw (decoupled weight decay) or sgd (momentum 0.9, nesterov, weight decay 5e-4, cosine schedule).", DefaultValueFactory = _ => "adam" }
        .AcceptOnlyFromAmong("adam", "adamw", "sgd");
    readonly Option<double?> lr = new("--lr") { Description = "Peak learning rate (default: 0.001 adam and adamw, 0.1 sgd)." };
    readonly Option<string> device = CommonOptions.Device();
    readonly Option<int> threads = CommonOptions.Threads();
    readonly Option<int> limit = CommonOptions.Checked(new Option<int>("--limit") { Description = "Use only the first N training images (0 = all), for quick runs.", DefaultValueFactory = _ => 0 }, OptionRules.Limit);
    readonly Option<int> testLimit = CommonOptions.TestLimit();
    readonly Option<int> checkpointEvery = CommonOptions.Checked(new Option<int>("--checkpoint-every") { Description = "Also checkpoint every N steps (0 = at each epoch's end and on interruption).", DefaultValueFactory = _ => 0 }, OptionRules.CheckpointEvery);
    readonly Option<string?> init = FineTuneOptions.Init();
    readonly Option<bool> freezeFeatures = FineTuneOptions.FreezeFeatures();
    readonly Option<bool> skipBadImages = CommonOptions.SkipBadImages();
    readonly Option<bool> allowEmptyClasses = CommonOptions.AllowEmptyClasses();
    readonly RecipeOptions levers = new();

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { dataset, data, download, epochs, batchSize, optimizer, lr, device, threads, limit, testLimit, checkpointEvery, init, freezeFeatures, skipBadImages, allowEmptyClasses })
            command.Options.Add(option);
        levers.AddTo(command);
    }

    /// <summary>The run's configuration from the command line: a <c>--recipe</c> is the starting point, flags given override it.</summary>
    public TrainConfig Config(ParseResult parse, string model, int seed)
    {
        var start = levers.Start(parse);
        T Pick<T>(Option<T> option, T fallback) => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option)! : fallback;
        return levers.Apply(parse, start with
        {
            Model = model,
            Dataset = parse.GetValue(dataset)!,
            DataDir = parse.GetValue(data),
            Download = parse.GetValue(download),
            Epochs = Pick(epochs, start.Epochs),
            BatchSize = Pick(batchSize, start.BatchSize),
            Optimizer = Pick(optimizer, start.Optimizer),
            LearningRate = Pick(lr, start.LearningRate),
            Seed = seed,
            Device = parse.GetValue(device)!,
            Threads = parse.GetValue(threads),
            Limit = parse.GetValue(limit),
            TestLimit = parse.GetValue(testLimit),
            CheckpointEvery = parse.GetValue(checkpointEvery),
            Init = parse.GetValue(init),
            FreezeFeatures = parse.GetValue(freezeFeatures),
            SkipBadImages = parse.GetValue(skipBadImages),
            AllowEmptyClasses = parse.GetValue(allowEmptyClasses),
        });
    }
}
