using ArchGen.Checkpoints;
using ArchGen.Data;
using ArchGen.Interop;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ArchGen.Training;

/// <summary>The statistics a run normalizes with, and where they came from (recorded in <c>config.json</c>).</summary>
/// <param name="Source"><c>imagenet</c> (initialized from PyTorch weights), <c>dataset</c> (the train split's statistics) or <c>checkpoint</c> (those of the ArchGen checkpoint it started from).</param>
/// <param name="Mean">Per-channel mean of x / 255.</param>
/// <param name="Std">Per-channel standard deviation of x / 255.</param>
public sealed record NormalizationChoice(string Source, float[] Mean, float[] Std)
{
    /// <summary>As a <see cref="Data.Normalization"/>.</summary>
    public Normalization ToNormalization() => new(Mean, Std);
}

/// <summary>
/// Starting a run from existing weights (<c>train --init FILE</c>) and training only part of it
/// (<c>--freeze-features</c>): which weights to load, which statistics to normalize with, which parameters learn.
/// "The classifier" is whatever the catalog model's class count changes (<see cref="PartialWeights.ClassifierKeys"/>),
/// so this holds for any generated family.
/// </summary>
public static class FineTuning
{
    /// <summary>
    /// The statistics a run uses: the ones its configuration already records (a resumed run), else those of the weights
    /// it starts from (<paramref name="init"/>: recorded by an ArchGen checkpoint or export, ImageNet's for other PyTorch
    /// weights), and the dataset's own from scratch.
    /// </summary>
    public static NormalizationChoice ChooseNormalization(TrainConfig config, IDataset dataset, PartialLoadReport? init)
    {
        if (config.Normalization is { } recorded) return recorded;
        if (init?.Statistics is { } inherited) return inherited;
        var own = dataset.Normalization;
        return new("dataset", own.Mean, own.Std);
    }

    /// <summary>Loads the matching weights of <paramref name="path"/> into a fresh <paramref name="model"/>; reports what was loaded and re-initialized.</summary>
    public static PartialLoadReport Initialize(nn.Module model, CatalogEntry entry, string path) => PartialWeights.Load(model, entry, path);

    /// <summary>Stops gradients for every parameter outside the classifier; returns how many parameters still learn.</summary>
    public static long FreezeFeatures(nn.Module model, CatalogEntry entry)
    {
        var classifier = PartialWeights.ClassifierKeys(entry);
        long trainable = 0;
        foreach (var (name, parameter) in model.named_parameters())
        {
            bool learns = classifier.Contains(name);
            parameter.requires_grad = learns;
            if (learns) trainable += parameter.numel();
        }
        return trainable;
    }

    /// <summary>
    /// After <c>model.train()</c>: puts every normalization layer whose parameters are all frozen back in eval mode,
    /// so frozen features also keep their running statistics (the features are truly fixed; only the classifier moves).
    /// </summary>
    public static void KeepFrozenLayersInEval(nn.Module model)
    {
        foreach (var (_, module) in model.named_modules())
        {
            if (module is not (BatchNorm1d or BatchNorm2d or BatchNorm3d)) continue;
            var parameters = module.parameters(recurse: false).ToList();
            if (parameters.Count > 0 && parameters.All(p => !p.requires_grad)) module.eval();
        }
    }

    /// <summary>The parameters an optimizer should update (all of them unless some were frozen).</summary>
    public static IEnumerable<Parameter> Trainable(nn.Module model) => model.parameters().Where(p => p.requires_grad);
}
