using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Training;

/// <summary>
/// The one check that a model's outputs and a dataset's classes agree, made before the first training step
/// (<see cref="Trainer"/>, fresh or resumed) and before a test: otherwise labels beyond the outputs fail inside
/// libtorch ("Target 10 is out of bounds") and fewer classes than outputs break the evaluation after a whole epoch.
/// </summary>
public static class ClassCount
{
    /// <summary>The model's outputs per image, found by running one zero image through it in eval mode (no state changes, no gradients).</summary>
    public static int Outputs(nn.Module<Tensor, Tensor> model, int channels, int size, Device device)
    {
        ArgumentNullException.ThrowIfNull(model);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            var logits = model.forward(torch.zeros([1, channels, size, size], device: device));
            return logits.dim() == 2 ? (int)logits.shape[1] : throw new InvalidOperationException($"The model returns a [{string.Join(",", logits.shape)}] tensor for one image; expected [1, classes].");
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>
    /// An <see cref="ArgumentException"/> when a dataset a fresh run trains on (its classifier is built for the
    /// dataset's classes) has fewer than two classes: such a classifier has nothing to learn.
    /// </summary>
    public static void CheckTrainable(IReadOnlyList<string> classNames, string dataset)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count >= 2) return;
        throw new ArgumentException($"The dataset {dataset} has {classNames.Count} {(classNames.Count == 1 ? $"class ({classNames[0]})" : "classes")}; a classifier needs at least 2.");
    }

    /// <summary>
    /// An <see cref="ArgumentException"/> naming both counts when <paramref name="outputs"/> differs from the
    /// dataset's classes.
    /// </summary>
    /// <param name="outputs">The model's outputs (see <see cref="Outputs"/>).</param>
    /// <param name="model">How to name the model in the message, e.g. "CifarMobileNetV2" or "the checkpoint's CifarMobileNetV2".</param>
    /// <param name="classNames">The dataset's classes.</param>
    /// <param name="dataset">How to name the dataset, e.g. "'folder' (/data/photos)".</param>
    public static void Check(int outputs, string model, IReadOnlyList<string> classNames, string dataset)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        if (outputs == classNames.Count) return;
        string names = classNames.Count <= 12 ? $" ({string.Join(", ", classNames)})" : "";
        throw new ArgumentException(
            $"The dataset {dataset} has {classNames.Count} {(classNames.Count == 1 ? "class" : "classes")}{names} but {model} has {outputs} outputs; " +
            $"use a dataset with {outputs} classes, or a model declared with Classes = {classNames.Count}.");
    }

    /// <summary>
    /// An <see cref="ArgumentException"/> naming both lists when the classes a model was trained on (recorded in its
    /// checkpoint or ONNX model) are not the dataset's, name for name and in order: its accuracy there would count
    /// one class's answers for another's. <paramref name="byIndex"/> (<c>--classes-by-index</c>) compares them by
    /// position anyway.
    /// </summary>
    public static void CheckNames(IReadOnlyList<string> trained, string model, IReadOnlyList<string> classNames, string dataset, bool byIndex)
    {
        ArgumentNullException.ThrowIfNull(trained);
        ArgumentNullException.ThrowIfNull(classNames);
        if (byIndex || trained.SequenceEqual(classNames, StringComparer.Ordinal)) return;
        throw new ArgumentException(
            $"{model} was trained on the classes {Some(trained)}, but the dataset {dataset} has {Some(classNames)}; " +
            "pass --classes-by-index to compare them by position anyway.");
    }

    static string Some(IReadOnlyList<string> names) =>
        "[" + string.Join(", ", names.Take(10)) + (names.Count > 10 ? $", and {names.Count - 10} more" : "") + "]";
}
