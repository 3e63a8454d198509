using ArchGen.Training;
using TorchSharp;

namespace ArchGen.Runtime.Tests.Training;

public class TrainingLossTests
{
    [Fact]
    public void LabelSmoothingOnAKnownCase()
    {
        // Logits (ln 2, 0, 0): p = (1/2, 1/4, 1/4). Label 0, smoothing 0.3:
        // 0.7 * ln 2 + 0.3 * (ln 2 + ln 4 + ln 4) / 3 = 0.7 ln 2 + 0.5 ln 2 = 1.2 ln 2.
        using var logits = torch.tensor(new float[] { MathF.Log(2), 0, 0 }).reshape(1, 3);
        using var label = torch.tensor(new long[] { 0 });
        using var smoothed = TrainingLoss.Compute(logits, label, 0.3);
        using var plain = TrainingLoss.Compute(logits, label);
        Assert.Equal(1.2 * Math.Log(2), smoothed.item<float>(), 6);
        Assert.Equal(Math.Log(2), plain.item<float>(), 6);
    }
}
