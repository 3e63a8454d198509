using System.CommandLine;
using ArchGen.Training;

namespace ArchGen.App.Cli;

/// <summary>
/// The <c>train</c> flags of the recipe's levers and <c>--recipe</c>, the preset they start from. A flag given on the
/// command line overrides the preset; one not given keeps the preset's value (or the plain default without a preset).
/// </summary>
public sealed class RecipeOptions
{
    readonly Option<string?> recipe = new Option<string?>("--recipe")
    {
        Description = "Start from a preset: reference (the exercise: Adam 0.001 constant, batch 128, 10 epochs, evaluation after each) or fast (the main job's recipe). Other flags override it.",
    }.AcceptOnlyFromAmong(Recipes.Names.ToArray());

    readonly Option<string?> schedule = new Option<string?>("--schedule")
    {
        Description = "Learning-rate schedule: constant, epoch-cosine (per epoch), cosine (per step, linear warm-up then cosine) or one-cycle (per step, PyTorch's OneCycleLR). Default: epoch-cosine for sgd, constant otherwise.",
    }.AcceptOnlyFromAmong(LearningRateSchedule.Names.ToArray());

    readonly Option<double?> warmup = new("--warmup") { Description = "Share of the run's steps spent warming up, for cosine and one-cycle (default 0.05 and 0.3)." };
    readonly Option<double> labelSmoothing = new("--label-smoothing") { Description = "Label smoothing of the cross-entropy loss (0 = none).", DefaultValueFactory = _ => 0 };
    readonly Option<double?> weightDecay = new("--weight-decay") { Description = "Weight decay (default: 5e-4 sgd, 0.01 adamw, 0 adam)." };
    readonly Option<bool> decayNormAndBias = new("--decay-norm-bias") { Description = "Apply weight decay to BatchNorm weights and biases too (false: convolution and linear weights only).", DefaultValueFactory = _ => true };
    readonly Option<bool> nesterov = new("--nesterov") { Description = "Nesterov momentum for sgd.", DefaultValueFactory = _ => true };
    readonly Option<double> ema = new("--ema") { Description = "Keep an exponential moving average of the weights with this decay, e.g. 0.999 (0 = off); the average is evaluated, checkpointed and exported.", DefaultValueFactory = _ => 0 };
    readonly Option<bool> flipTta = new("--flip-tta") { Description = "Test-time augmentation: average each test image's logits with its mirror image's." };
    readonly Option<string> evaluate = new Option<string>("--evaluate")
    {
        Description = "When to evaluate on the test set: epoch (after every epoch), end (after the last) or none (leave it to 'archgen test').",
        DefaultValueFactory = _ => "epoch",
    }.AcceptOnlyFromAmong("epoch", "end", "none");
    readonly Option<int> holdout = new("--holdout") { Description = "Hold out the last N training images and evaluate on them after every epoch; the test set is evaluated once, at the end.", DefaultValueFactory = _ => 0 };
    readonly Option<int> cropPadding = new("--crop-padding") { Description = "Zero padding around each training image before its random crop (0 = no crop, flips only).", DefaultValueFactory = _ => Data.BatchLoader.Padding };
    readonly Option<int> logEvery = new("--log-every") { Description = "Read step losses back from the device every N steps (fewer host synchronizations).", DefaultValueFactory = _ => 1 };

    /// <summary>Adds the flags to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { recipe, schedule, warmup, labelSmoothing, weightDecay, decayNormAndBias, nesterov, ema, flipTta, evaluate, holdout, cropPadding, logEvery })
            command.Options.Add(option);
    }

    /// <summary>The configuration the run starts from: the <c>--recipe</c> preset, or the plain defaults.</summary>
    public TrainConfig Start(ParseResult parse) => parse.GetValue(recipe) is { } name ? Recipes.Get(name) : new TrainConfig();

    /// <summary><paramref name="config"/> with every lever flag given on the command line applied.</summary>
    public TrainConfig Apply(ParseResult parse, TrainConfig config)
    {
        T Pick<T>(Option<T> option, T fallback) => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option)! : fallback;
        return config with
        {
            Schedule = Pick(schedule, config.Schedule),
            Warmup = Pick(warmup, config.Warmup),
            LabelSmoothing = Pick(labelSmoothing, config.LabelSmoothing),
            WeightDecay = Pick(weightDecay, config.WeightDecay),
            DecayNormAndBias = Pick(decayNormAndBias, config.DecayNormAndBias),
            Nesterov = Pick(nesterov, config.Nesterov),
            Ema = Pick(ema, config.Ema),
            FlipTta = Pick(flipTta, config.FlipTta),
            Evaluate = Pick(evaluate, config.Evaluate),
            Holdout = Pick(holdout, config.Holdout),
            CropPadding = Pick(cropPadding, config.CropPadding),
            LogEvery = Pick(logEvery, config.LogEvery),
        };
    }
}
