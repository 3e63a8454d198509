using ArchGen.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Runtime.Tests.Training;

public class WeightAverageTests
{
    static nn.Module<Tensor, Tensor> Model() => nn.Sequential(("linear", nn.Linear(2, 1)), ("bn", nn.BatchNorm1d(1)));

    static void Set(nn.Module model, float w0, float w1, float bias)
    {
        using var noGrad = torch.no_grad();
        var state = model.state_dict();
        state["linear.weight"].copy_(torch.tensor(new[] { w0, w1 }).reshape(1, 2));
        state["linear.bias"].fill_(bias);
    }

    [Fact]
    public void AverageAfterKnownUpdates()
    {
        using var model = Model();
        Set(model, 1, 2, 3);
        using var average = new WeightAverage(model, Model(), decay: 0.3);

        // d = min(0.3, (1 + n) / (10 + n)): step 1: 2/11; step 2: 3/12; step 3: min(0.3, 4/13) = 0.3; step 4: 0.3.
        double[] w0 = [1], b = [3];
        double[] decays = [2.0 / 11, 1.0 / 4, 0.3, 0.3];
        for (int step = 1; step <= 4; step++)
        {
            Set(model, 10 * step, 0, -step);
            model.state_dict()["bn.num_batches_tracked"].fill_(step * 7);
            average.Update(step);
            Assert.Equal(decays[step - 1], average.DecayAt(step), 12);
            double d = decays[step - 1];
            double expectedW0 = d * w0[0] + (1 - d) * 10 * step, expectedBias = d * b[0] + (1 - d) * -step;
            w0[0] = expectedW0;
            b[0] = expectedBias;

            var state = average.Model.state_dict();
            Assert.Equal(expectedW0, state["linear.weight"][0, 0].item<float>(), 4);
            Assert.Equal(expectedBias, state["linear.bias"][0].item<float>(), 4);
            Assert.Equal(step * 7L, state["bn.num_batches_tracked"].item<long>()); // integer buffers are copied
        }
        Assert.False(average.Model.training);
    }

    [Fact]
    public void RejectsADecayOutsideZeroToOne()
    {
        using var model = Model();
        Assert.Throws<ArgumentOutOfRangeException>(() => new WeightAverage(model, Model(), 1.0));
    }
}
