using ArchGen.Data;
using ArchGen.Performance;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Training;

/// <summary>Runs a model over a test set in eval mode under no-grad.</summary>
public static class Evaluator
{
    /// <param name="onBatch">Called after each batch with the number of images done so far.</param>
    /// <param name="flip">Test-time augmentation: average each image's logits with those of its mirror image.</param>
    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, IBatchLoader loader, IReadOnlyList<string> classNames, Action<int>? onBatch = null, CancellationToken cancel = default, bool flip = false)
    {
        int k = classNames.Count;
        var confusion = new long[k, k];
        double lossSum = 0;
        long seen = 0, nonFinite = 0;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            foreach (var batch in loader.Epoch(0))
            {
                using (batch)
                using (torch.NewDisposeScope())
                {
                    var logits = flip ? FlipAveraged(model, batch.Images) : model.forward(batch.Images);
                    nonFinite += NonFiniteRows(logits);
                    lossSum += nn.functional.cross_entropy(logits, batch.Labels, reduction: nn.Reduction.Sum).item<float>();
                    long[] predicted = logits.argmax(1).cpu().data<long>().ToArray();
                    long[] truth = batch.Labels.cpu().data<long>().ToArray();
                    for (int i = 0; i < predicted.Length; i++) confusion[truth[i], predicted[i]]++;
                    seen += predicted.Length;
                }
                onBatch?.Invoke((int)seen);
                Checkpoints.FaultInjection.Reach("evaluate", cancel);
                cancel.ThrowIfCancellationRequested();
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        return new EvaluationResult(classNames, confusion, seen == 0 ? double.NaN : lossSum / seen) { NonFinite = nonFinite };
    }

    /// <summary>How many rows (images) of a batch's logits hold NaN or an infinity.</summary>
    public static long NonFiniteRows(Tensor logits)
    {
        using var finite = torch.isfinite(logits).all(1);
        return logits.shape[0] - finite.sum().item<long>();
    }

    /// <summary>The mean of the logits of <paramref name="images"/> and of their mirror images (flipped left-right).</summary>
    public static Tensor FlipAveraged(nn.Module<Tensor, Tensor> model, Tensor images)
    {
        using var mirrored = images.flip(3);
        using var a = model.forward(images);
        using var b = model.forward(mirrored);
        return a.add(b, HeldScalars.One).mul_(HeldScalars.Half);
    }
}
