using ArchGen.Data;
using ArchGen.Data.Images;
using ArchGen.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Inference;

/// <summary>One class and its probability.</summary>
public sealed record ClassScore(int Index, string Label, double Probability);

/// <summary>What the model says about one image: its classes, most probable first.</summary>
/// <param name="Path">The image file.</param>
/// <param name="Top">The <c>k</c> most probable classes, most probable first.</param>
public sealed record Prediction(string Path, IReadOnlyList<ClassScore> Top)
{
    /// <summary>The most probable class.</summary>
    public ClassScore Best => Top[0];
}

/// <summary>
/// Classifies image files with a trained model: each image goes through the evaluation transform
/// (<see cref="ImageNetTransforms"/>: resize the shorter side to size / 0.875, center crop), is normalized with the
/// statistics the model was trained with, and the softmax of the model's logits (with flip test-time augmentation, the
/// mean of the image's and its mirror image's, as <c>archgen test</c> evaluates) gives the top classes. Batches are decoded by
/// <see cref="ImageFileLoader"/> while the model runs.
/// </summary>
public sealed class ImagePredictor
{
    readonly nn.Module<Tensor, Tensor> model;

    /// <param name="model">The trained model (put in eval mode).</param>
    /// <param name="classNames">Its classes, in output order.</param>
    /// <param name="normalization">The statistics it was trained with.</param>
    /// <param name="channels">Its input channels.</param>
    /// <param name="size">Its input side.</param>
    /// <param name="device">Where it runs.</param>
    /// <param name="flipTta">Average each image's logits with its mirror image's.</param>
    public ImagePredictor(nn.Module<Tensor, Tensor> model, IReadOnlyList<string> classNames, Normalization normalization, int channels, int size, Device device, bool flipTta = false)
    {
        this.model = model;
        ClassNames = classNames;
        Normalization = normalization;
        Channels = channels;
        Size = size;
        Device = device;
        FlipTta = flipTta;
    }

    /// <summary>The classes, in output order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The input statistics.</summary>
    public Normalization Normalization { get; }

    /// <summary>Input channels.</summary>
    public int Channels { get; }

    /// <summary>Input side.</summary>
    public int Size { get; }

    /// <summary>Where the model runs.</summary>
    public Device Device { get; }

    /// <summary>Whether each image's logits are averaged with its mirror image's.</summary>
    public bool FlipTta { get; }

    /// <summary>Files left out by the last <see cref="Predict"/> (when skipping bad images), each with why.</summary>
    public IReadOnlyList<string> Skipped { get; private set; } = [];

    /// <summary>
    /// Predicts the <paramref name="top"/> classes of every file, in order, as batches finish. A file that cannot be
    /// read is a <see cref="DataException"/> naming it, or, with <paramref name="skipBadImages"/>, left out (see <see cref="Skipped"/>).
    /// A stop request (<paramref name="cancel"/>) ends it before the next batch with an <see cref="OperationCanceledException"/>.
    /// </summary>
    public IEnumerable<Prediction> Predict(IReadOnlyList<string> files, int top = 1, int batchSize = 32, bool skipBadImages = false, ImageLimits? limits = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(top);
        top = Math.Min(top, ClassNames.Count);
        var split = ImageFileSplit.FromFiles("predict", files, ClassNames, new ImageFolderOptions(SkipBadImages: skipBadImages, Limits: limits, CacheBytes: 0));
        var loader = new ImageFileLoader(split, scan: null, new LoaderOptions(Normalization, batchSize, Train: false, Seed: 0, Device, Channels, Size));
        Skipped = [];
        bool wasTraining = model.training;
        model.eval();
        try
        {
            foreach (var batch in loader.Epoch(0))
            {
                Checkpoints.FaultInjection.Reach("predict", cancel);
                if (cancel.IsCancellationRequested)
                {
                    batch.Dispose();
                    cancel.ThrowIfCancellationRequested();
                }
                if (batch.Count == 0)
                {
                    batch.Dispose(); // every file of the batch was bad and skipped
                    continue;
                }
                float[] probabilities;
                using (batch)
                using (torch.NewDisposeScope())
                using (torch.no_grad())
                {
                    var logits = FlipTta ? Evaluator.FlipAveraged(model, batch.Images) : model.forward(batch.Images);
                    if (Evaluator.NonFiniteRows(logits) > 0)
                    {
                        using var finite = torch.isfinite(logits).all(1).cpu();
                        bool[] ok = finite.data<bool>().ToArray();
                        string first = files[batch.Indices[Array.IndexOf(ok, false)]];
                        throw new DataException("the model's logits for it are not finite (NaN or infinite), so it has no probabilities; the model's weights are damaged", first);
                    }
                    probabilities = nn.functional.softmax(logits, 1).cpu().data<float>().ToArray();
                }
                int classes = ClassNames.Count;
                for (int i = 0; i < batch.Count; i++)
                {
                    int offset = i * classes;
                    var best = Enumerable.Range(0, classes).OrderByDescending(c => probabilities[offset + c]).ThenBy(c => c).Take(top)
                        .Select(c => new ClassScore(c, ClassNames[c], probabilities[offset + c])).ToArray();
                    yield return new Prediction(files[batch.Indices[i]], best);
                }
            }
        }
        finally
        {
            model.train(wasTraining);
            Skipped = loader.Skipped.OrderBy(kv => kv.Key).Select(kv => kv.Value).ToArray();
        }
    }
}
