using System.Text.Json;
using System.Text.Json.Serialization;

namespace ArchGen.Training;

/// <summary>
/// Everything that determines a training run; saved as <c>config.json</c> in the run folder and inside every checkpoint.
/// The recipe's levers (schedule, smoothing, weight averaging, evaluation ...) are in <c>TrainConfig.Recipe.cs</c>.
/// </summary>
public sealed partial record TrainConfig
{
    /// <summary>A model name from the generated <see cref="ModelCatalog"/>.</summary>
    public string Model { get; init; } = "CifarMobileNetV2";

    /// <summary>A name from <see cref="Data.Datasets.Names"/>: <c>cifar10</c>, <c>fashion-mnist</c>, <c>synthetic</c> or <c>folder</c>.</summary>
    public string Dataset { get; init; } = "synthetic";

    public string? DataDir { get; init; }
    public bool Download { get; init; }
    /// <summary>Epochs to train; a fraction ends the last epoch early (1.5: one epoch, then half of the next one's batches).</summary>
    public double Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 128;

    /// <summary><c>adam</c> (lr 0.001, the reference exercise), <c>adamw</c> (decoupled weight decay) or <c>sgd</c> (momentum 0.9, nesterov, weight decay 5e-4, cosine schedule).</summary>
    public string Optimizer { get; init; } = "adam";

    /// <summary>Learning rate; null means the optimizer's default (0.001 for adam, 0.1 for sgd).</summary>
    public double? LearningRate { get; init; }

    public int Seed { get; init; }

    /// <summary><c>auto</c> (CUDA when available), <c>cpu</c> or <c>cuda</c>.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>Intra-op threads; 0 means one per core.</summary>
    public int Threads { get; init; }

    /// <summary>Use only the first N training images (0 = all).</summary>
    public int Limit { get; init; }

    /// <summary>Use only the first N test images (0 = all).</summary>
    public int TestLimit { get; init; }

    /// <summary>Also write a checkpoint every N steps (0 = only at the end of each epoch and on interruption).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Weights to start from (<c>--init</c>): a PyTorch .pt/.pth/.safetensors state_dict or an ArchGen checkpoint; the classifier is re-initialized when its shape differs.</summary>
    public string? Init { get; init; }

    /// <summary>Train only the classifier (<c>--freeze-features</c>).</summary>
    public bool FreezeFeatures { get; init; }

    /// <summary>Leave out image files that cannot be read, with one warning, instead of stopping (<c>--skip-bad-images</c>).</summary>
    public bool SkipBadImages { get; init; }

    /// <summary>Accept a training class folder without images as a class (<c>--allow-empty-classes</c>).</summary>
    public bool AllowEmptyClasses { get; init; }

    /// <summary>The statistics inputs are normalized with and their source; chosen when the run starts (see <see cref="FineTuning.ChooseNormalization"/>).</summary>
    public NormalizationChoice? Normalization { get; init; }

    [JsonIgnore]
    public double ResolvedLearningRate => LearningRate ?? (IsSgd ? 0.1 : 0.001);

    [JsonIgnore]
    public bool IsSgd => string.Equals(Optimizer, "sgd", StringComparison.OrdinalIgnoreCase);

    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static TrainConfig FromJson(string json) =>
        JsonSerializer.Deserialize<TrainConfig>(json, Json) ?? throw new InvalidDataException("empty training configuration");

    /// <summary>Throws <see cref="ArgumentException"/> with one clear sentence when a value is out of range.</summary>
    public void Validate()
    {
        OptionRules.Require(OptionRules.Epochs(Epochs));
        OptionRules.Require(OptionRules.BatchSize(BatchSize));
        if (Optimizer is not ("adam" or "adamw" or "sgd")) throw new ArgumentException($"--optimizer must be adam, adamw or sgd (got '{Optimizer}').");
        if (LearningRate is { } lr && !(lr > 0 && double.IsFinite(lr))) throw new ArgumentException($"--lr must be a positive number (got {lr}).");
        if (Device is not ("auto" or "cpu" or "cuda")) throw new ArgumentException($"--device must be auto, cpu or cuda (got '{Device}').");
        OptionRules.Require(OptionRules.Threads(Threads));
        OptionRules.Require(OptionRules.Limit(Limit));
        OptionRules.Require(OptionRules.TestLimit(TestLimit));
        OptionRules.Require(OptionRules.CheckpointEvery(CheckpointEvery));
        if (FreezeFeatures && Init is null)
            throw new ArgumentException("--freeze-features trains only the classifier on top of features learned elsewhere; give those weights with --init FILE (without them the features would stay random).");
        ValidateRecipe();
    }
}
