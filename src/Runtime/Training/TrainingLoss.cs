using static TorchSharp.torch;

namespace ArchGen.Training;

/// <summary>The loss the trainer minimizes.</summary>
public static class TrainingLoss
{
    /// <summary>
    /// Mean cross-entropy of <paramref name="logits"/> against <paramref name="labels"/> with label smoothing
    /// <c>e</c> (PyTorch's definition): per image <c>(1 - e) * (-log p[label]) + e * mean over classes k of (-log p[k])</c>.
    /// </summary>
    public static Tensor Compute(Tensor logits, Tensor labels, double labelSmoothing = 0) =>
        nn.functional.cross_entropy(logits, labels, label_smoothing: labelSmoothing);
}
