namespace ArchGen.Training;

/// <summary>
/// Named presets of the training levers (<c>--recipe</c>). A preset is a starting configuration: flags given on the
/// command line override its values, and the run's <c>config.json</c> records every resolved value.
/// </summary>
public static class Recipes
{
    /// <summary>The presets by name.</summary>
    public static IReadOnlyList<string> Names { get; } = ["reference", "fast"];

    /// <summary>
    /// <c>reference</c>: the reference exercise exactly (Adam at a constant 0.001, batch 128, cross-entropy, 10 epochs,
    /// evaluation after every epoch). <c>fast</c>: the main job's recipe, chosen by accuracy per image seen on
    /// Fashion-MNIST (see docs/results.md).
    /// </summary>
    public static TrainConfig Get(string name) => name switch
    {
        "reference" => new TrainConfig
        {
            Recipe = "reference",
            Epochs = 10,
            BatchSize = 128,
            Optimizer = "adam",
            LearningRate = 0.001,
            Schedule = "constant",
            Warmup = 0,
            WeightDecay = 0,
            Evaluate = "epoch",
        },
        "fast" => new TrainConfig
        {
            Recipe = "fast",
            Epochs = 2,
            BatchSize = 128,
            Optimizer = "adamw",
            LearningRate = 0.004,
            Schedule = "one-cycle",
            Warmup = 0.25,
            WeightDecay = 0.05,
            DecayNormAndBias = false,
            LabelSmoothing = 0.1,
            CropPadding = 0,
            FlipTta = true,
            Evaluate = "end",
            LogEvery = 10,
        },
        _ => throw new ArgumentException($"--recipe must be one of {string.Join(", ", Names)} (got '{name}')."),
    };
}
