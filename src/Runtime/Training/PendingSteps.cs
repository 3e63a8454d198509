using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Training;

/// <summary>
/// The loss and correct count of recent training steps, kept as tensors on the training device and read back to the
/// host together (<c>--log-every</c>): one synchronization for several steps instead of two per step, which lets a
/// GPU run ahead of the host.
/// </summary>
internal sealed class PendingSteps : IDisposable
{
    /// <summary>Where a step ran: its epoch, its 1-based batch number in the epoch, its 1-based global step, its images and learning rate.</summary>
    public readonly record struct Step(int Epoch, int Batch, long GlobalStep, int Images, double LearningRate);

    readonly List<Step> steps = [];
    readonly List<Tensor> losses = [];
    readonly List<Tensor> corrects = [];

    public int Count => steps.Count;

    /// <summary>Keeps the step's scalar loss and correct count (detached from every dispose scope; this object disposes them).</summary>
    public void Add(Step step, Tensor loss, Tensor correct)
    {
        steps.Add(step);
        losses.Add(loss.detach().DetachFromDisposeScope());
        corrects.Add(correct.DetachFromDisposeScope());
    }

    /// <summary>Reads every kept step's loss and correct count in one transfer, in order, and forgets them.</summary>
    public List<(Step Step, double Loss, long Correct)> Read()
    {
        var result = new List<(Step, double, long)>(steps.Count);
        if (steps.Count == 0) return result;
        float[] loss;
        long[] correct;
        using (torch.NewDisposeScope())
        {
            loss = torch.stack(losses).cpu().data<float>().ToArray();
            correct = torch.stack(corrects).cpu().data<long>().ToArray();
        }
        for (int i = 0; i < steps.Count; i++) result.Add((steps[i], loss[i], correct[i]));
        Clear();
        return result;
    }

    void Clear()
    {
        foreach (var t in losses) t.Dispose();
        foreach (var t in corrects) t.Dispose();
        losses.Clear();
        corrects.Clear();
        steps.Clear();
    }

    public void Dispose() => Clear();
}
