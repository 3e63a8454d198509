using System.CommandLine;
using ArchGen.Checkpoints;
using ArchGen.Interop;

namespace ArchGen.App.Cli;

/// <summary>The options of <c>train</c> that start from existing weights.</summary>
public static class FineTuneOptions
{
    public static Option<string?> Init() => new("--init")
    {
        Description = "Start from these weights: a PyTorch .pth/.pt/.safetensors state_dict (e.g. torchvision's ImageNet mobilenet_v2) or an ArchGen checkpoint/run folder. " +
                      "Every tensor whose name and shape match is loaded; the classifier is re-initialized when the class count differs.",
    };

    public static Option<bool> FreezeFeatures() => new("--freeze-features")
    {
        Description = "Train only the classifier (the layers whose shape depends on the class count); the rest keeps its weights and statistics.",
    };

    /// <summary>Fails with one line when <c>--init</c> names nothing usable, before any data is read.</summary>
    public static void CheckInit(string? init)
    {
        if (init is null) return;
        if (File.Exists(init) && PyTorchWeights.IsWeightsFile(init)) return;
        if (Checkpoint.Resolve(init) is null) throw new FileNotFoundException($"--init: run folder '{init}' has no {Checkpoint.LatestFileName} yet.");
    }
}
