using ArchGen.Training;

namespace ArchGen.Runtime.Tests.Training;

public class LearningRateScheduleTests
{
    /// <summary>torch.optim.lr_scheduler.OneCycleLR(max_lr=0.01, total_steps=100, pct_start=0.3), read after each step (PyTorch 1.13).</summary>
    [Theory]
    [InlineData(0, 0.0003999999999999993)]
    [InlineData(1, 0.00042813780565907275)]
    [InlineData(10, 0.002951639484641007)]
    [InlineData(28, 0.009971862194340927)]
    [InlineData(29, 0.01)]
    [InlineData(30, 0.009994965352845242)]
    [InlineData(50, 0.00793893450575732)]
    [InlineData(64, 0.00500002)]
    [InlineData(98, 5.07464715475788e-06)]
    [InlineData(99, 4e-08)]
    public void OneCycleMatchesPyTorch(long step, double expected)
    {
        var schedule = new LearningRateSchedule("one-cycle", 0.01, epochs: 10, stepsPerEpoch: 10, warmup: 0.3);
        Assert.Equal(expected, schedule.At(step), 1e-12);
    }

    [Fact]
    public void EpochCosineIsKuangliusPerEpochCurve()
    {
        var schedule = new LearningRateSchedule("epoch-cosine", 0.1, epochs: 4, stepsPerEpoch: 5, warmup: 0);
        double[] perEpoch = [0.1, 0.1 * 0.5 * (1 + Math.Cos(Math.PI / 4)), 0.05, 0.1 * 0.5 * (1 + Math.Cos(3 * Math.PI / 4))];
        for (int step = 0; step < 20; step++) Assert.Equal(perEpoch[step / 5], schedule.At(step)); // bit for bit: same expression as before the schedules
    }

    [Fact]
    public void CosineWarmsUpLinearlyThenAnneals()
    {
        // 100 steps, 10 of warm-up: peak * (k + 1) / 10 up to the peak at step 9, then cosine over the 90 others.
        var schedule = new LearningRateSchedule("cosine", 0.2, epochs: 4, stepsPerEpoch: 25, warmup: 0.1);
        Assert.Equal(0.02, schedule.At(0), 1e-15);
        Assert.Equal(0.1, schedule.At(4), 1e-15);
        Assert.Equal(0.2, schedule.At(9), 1e-15);
        Assert.Equal(0.2, schedule.At(10), 1e-15);
        Assert.Equal(0.1, schedule.At(55), 1e-15);
        Assert.Equal(0.2 * 0.5 * (1 + Math.Cos(Math.PI * 89 / 90)), schedule.At(99), 1e-15);
    }

    [Fact]
    public void AFractionalRunEndsPartWayThroughItsLastEpoch()
    {
        var schedule = new LearningRateSchedule("one-cycle", 0.01, epochs: 1.5, stepsPerEpoch: 10, warmup: 0.2);
        Assert.Equal(15, schedule.TotalSteps);
        Assert.Equal(2, schedule.EpochCount);
        Assert.Equal((10, 5, 0), (schedule.BatchesIn(0), schedule.BatchesIn(1), schedule.BatchesIn(2)));
        Assert.Equal(0.01 / 25 / 1e4, schedule.At(14), 1e-15); // the cycle ends with the run
        Assert.Equal(0.01, schedule.At(2), 1e-15); // warm-up: 0.2 * 15 - 1 = step 2

        var cosine = new LearningRateSchedule("epoch-cosine", 0.1, epochs: 2.5, stepsPerEpoch: 4, warmup: 0);
        Assert.Equal(3, cosine.EpochCount);
        Assert.Equal(0.1 * 0.5 * (1 + Math.Cos(Math.PI * 2 / 2.5)), cosine.At(9), 1e-15);
    }

    [Fact]
    public void ConstantIsConstant()
    {
        var schedule = new LearningRateSchedule("constant", 0.001, epochs: 3, stepsPerEpoch: 7, warmup: 0);
        Assert.All(Enumerable.Range(0, 21), s => Assert.Equal(0.001, schedule.At(s)));
    }

    [Fact]
    public void ConfigurationsWithoutAScheduleKeepTheirOptimizersCurve()
    {
        Assert.Equal("epoch-cosine", new TrainConfig { Optimizer = "sgd" }.ResolvedSchedule);
        Assert.Equal("constant", new TrainConfig { Optimizer = "adam" }.ResolvedSchedule);
        Assert.Equal(0.3, new TrainConfig { Schedule = "one-cycle" }.ResolvedWarmup);
        var resolved = new TrainConfig { Optimizer = "sgd" }.WithDefaults();
        Assert.Equal(("epoch-cosine", 0.1, 5e-4, 0.0), (resolved.Schedule, resolved.LearningRate, resolved.WeightDecay, resolved.Warmup));
    }
}
