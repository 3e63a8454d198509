using System.Text.Json.Serialization;

namespace ArchGen.Training;

/// <summary>
/// The recipe's levers. Every default reproduces what a run did before the lever existed, so a <c>config.json</c> or
/// checkpoint written without them resumes unchanged; <see cref="WithDefaults"/> writes the resolved values out.
/// </summary>
public sealed partial record TrainConfig
{
    /// <summary>The preset the run started from (<see cref="Recipes.Names"/>), or null; its values are recorded in the other properties.</summary>
    public string? Recipe { get; init; }

    /// <summary>
    /// Learning-rate schedule, one of <see cref="LearningRateSchedule.Names"/>; null means the optimizer's default
    /// (<c>epoch-cosine</c> for sgd, <c>constant</c> otherwise).
    /// </summary>
    public string? Schedule { get; init; }

    /// <summary>Share of the run's steps spent warming up (<c>cosine</c>, <c>one-cycle</c>); null means the schedule's default.</summary>
    public double? Warmup { get; init; }

    /// <summary>Label smoothing of the cross-entropy loss (0 = none).</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Weight decay; null means the optimizer's default (sgd 5e-4, adamw 0.01, adam 0).</summary>
    public double? WeightDecay { get; init; }

    /// <summary>Whether weight decay also applies to BatchNorm weights and biases (every parameter of one dimension).</summary>
    public bool DecayNormAndBias { get; init; } = true;

    /// <summary>Nesterov momentum for sgd.</summary>
    public bool Nesterov { get; init; } = true;

    /// <summary>Decay of the exponential moving average of the weights (0 = off); the average is what is evaluated and exported.</summary>
    public double Ema { get; init; }

    /// <summary>Test-time augmentation: each test image's logits are averaged with those of its mirror image.</summary>
    public bool FlipTta { get; init; }

    /// <summary>
    /// <c>epoch</c>: evaluate on the test set after every epoch; <c>end</c>: only after the last one; <c>none</c>: never
    /// (<c>archgen test</c> evaluates the checkpoint).
    /// </summary>
    public string Evaluate { get; init; } = "epoch";

    /// <summary>Hold out the last N training images and evaluate on them after every epoch; the test set is then evaluated once, at the end.</summary>
    public int Holdout { get; init; }

    /// <summary>Zero padding around each training image before its random crop (0: no crop, flips only); the reference exercise's 4 by default.</summary>
    public int CropPadding { get; init; } = Data.BatchLoader.Padding;

    /// <summary>Read the step losses back from the device every N steps (one host synchronization per N steps).</summary>
    public int LogEvery { get; init; } = 1;

    [JsonIgnore]
    public string ResolvedSchedule => Schedule ?? (IsSgd ? "epoch-cosine" : "constant");

    [JsonIgnore]
    public double ResolvedWarmup => Warmup ?? LearningRateSchedule.DefaultWarmup(ResolvedSchedule);

    [JsonIgnore]
    public double ResolvedWeightDecay => WeightDecay ?? Optimizer switch
    {
        "sgd" => 5e-4,
        "adamw" => 0.01,
        _ => 0,
    };

    /// <summary>This configuration with every "default" (null) value replaced by what it resolves to, as written to <c>config.json</c>.</summary>
    public TrainConfig WithDefaults() => this with
    {
        LearningRate = ResolvedLearningRate,
        Schedule = ResolvedSchedule,
        Warmup = ResolvedWarmup,
        WeightDecay = ResolvedWeightDecay,
    };

    void ValidateRecipe()
    {
        if (Recipe is not null && !Recipes.Names.Contains(Recipe)) throw new ArgumentException($"--recipe must be one of {string.Join(", ", Recipes.Names)} (got '{Recipe}').");
        if (Schedule is not null && !LearningRateSchedule.Names.Contains(Schedule))
            throw new ArgumentException($"--schedule must be one of {string.Join(", ", LearningRateSchedule.Names)} (got '{Schedule}').");
        if (Warmup is { } w && !(w >= 0 && w < 1)) throw new ArgumentException($"--warmup must be a share of the run in [0, 1) (got {w}).");
        if (!(LabelSmoothing >= 0 && LabelSmoothing < 1)) throw new ArgumentException($"--label-smoothing must be in [0, 1) (got {LabelSmoothing}).");
        if (WeightDecay is { } d && !(d >= 0 && double.IsFinite(d))) throw new ArgumentException($"--weight-decay must be 0 or a positive number (got {d}).");
        if (!(Ema >= 0 && Ema < 1)) throw new ArgumentException($"--ema must be in [0, 1) (0 = off; got {Ema}).");
        if (Evaluate is not ("epoch" or "end" or "none")) throw new ArgumentException($"--evaluate must be epoch, end or none (got '{Evaluate}').");
        if (Holdout < 0) throw new ArgumentException($"--holdout must be 0 or more (got {Holdout}).");
        if (Holdout > 0 && Evaluate != "epoch") throw new ArgumentException("--holdout evaluates the held-out images after every epoch; it needs --evaluate epoch.");
        if (CropPadding < 0) throw new ArgumentException($"--crop-padding must be 0 (no crop) or more (got {CropPadding}).");
        if (LogEvery < 1) throw new ArgumentException($"--log-every must be at least 1 (got {LogEvery}).");
    }
}
