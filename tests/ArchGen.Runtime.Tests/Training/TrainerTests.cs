using ArchGen.Checkpoints;
using ArchGen.Runtime.Tests.Data;
using ArchGen.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Runtime.Tests.Training;

/// <summary>The training loop with the recipe's levers, on a tiny model: resume, logging and evaluation choices.</summary>
[Collection(TorchGlobalStateCollection.Name)]
public class TrainerTests
{
    /// <summary>
    /// Every lever on at once: decoupled or nesterov-free decay without BN/bias decay, a per-step schedule, label
    /// smoothing, a weight average, flip TTA, a held-out slice, batched logging, no crop, a fractional last epoch.
    /// </summary>
    static TrainConfig EveryOption(string optimizer) => new()
    {
        Model = nameof(TinyTrainingModel),
        Dataset = "tiny",
        Device = "cpu",
        Epochs = 1.6,
        BatchSize = 8,
        Seed = 3,
        Optimizer = optimizer,
        LearningRate = optimizer == "sgd" ? 0.05 : 0.01,
        Schedule = optimizer == "sgd" ? "cosine" : "one-cycle",
        Warmup = 0.3,
        LabelSmoothing = 0.1,
        WeightDecay = 0.05,
        DecayNormAndBias = false,
        Nesterov = false,
        Ema = 0.9,
        FlipTta = true,
        Evaluate = "epoch",
        Holdout = 8,
        LogEvery = 3,
        CropPadding = 0,
    };

    [Theory]
    [InlineData("adamw")]
    [InlineData("sgd")]
    public void ResumeIsBitExactWithEveryOptionOn(string optimizer)
    {
        using var dir = new TempDir();
        var config = EveryOption(optimizer);
        var data = TinyData.Dataset();

        var straight = new Trainer(config, new RunFolder(dir.Sub("straight"))).Run(data, resume: false);
        Assert.Equal(TrainingOutcome.Completed, straight.Outcome);
        Assert.Equal(8, straight.Position.GlobalStep); // (48 - 8 held out) / 8 = 5 steps per epoch, 1.6 epochs
        Assert.Equal(64, straight.ImagesSeen);

        // Stop after step 3 (mid-epoch, where a batch of logged steps is read back), then resume.
        using (var stop = new CancellationTokenSource())
        {
            var observer = new StopAfter(3, stop);
            var first = new Trainer(config, new RunFolder(dir.Sub("split")), observer).Run(data, resume: false, stop.Token);
            Assert.Equal(TrainingOutcome.Interrupted, first.Outcome);
            Assert.Equal((0, 3, 3L), (first.Position.Epoch, first.Position.Batch, first.Position.GlobalStep));
            Assert.Equal(24, first.Position.Totals!.Seen); // the epoch's sums so far travel with the checkpoint
            Assert.True(first.Position.Totals.Seconds > 0); // and so does its training time
        }
        var resumed = new Trainer(config, new RunFolder(dir.Sub("split"))).Run(data, resume: true);
        Assert.Equal(TrainingOutcome.Completed, resumed.Outcome);

        AssertSameCheckpoints(config, dir.Sub("straight"), dir.Sub("split"));
        Assert.Equal(MetricColumns(dir.Sub("straight")), MetricColumns(dir.Sub("split")));
        Assert.Equal(straight.LastEvaluation!.Accuracy, resumed.LastEvaluation!.Accuracy);
    }

    [Fact]
    public void AnEpochResumedAtItsEvaluationReportsTheTrainingTimeOfItsFirstSittingAndNoMemoryFigureOfAnotherProcess()
    {
        using var dir = new TempDir();
        var config = EveryOption("adamw") with { Holdout = 0, Epochs = 2 };
        var data = TinyData.Dataset();
        using (var stop = new CancellationTokenSource())
        {
            var first = new Trainer(config, new RunFolder(dir.Path), new StopAtEvaluation(stop)).Run(data, resume: false, stop.Token);
            Assert.Equal(TrainingOutcome.Interrupted, first.Outcome);
            Assert.Equal((0, 6), (first.Position.Epoch, first.Position.Batch));
        }
        var epochs = new List<EpochReport>();
        var resumed = new Trainer(config, new RunFolder(dir.Path), new Recorder(epochs)).Run(data, resume: true);
        Assert.Equal(TrainingOutcome.Completed, resumed.Outcome);

        var rows = MetricsLog.Read(new RunFolder(dir.Path).Metrics, "epoch");
        Assert.Equal(2, rows.Count);
        // Epoch 1 was trained by the first process: its time and throughput are that sitting's, and the resumed
        // process, which trained none of it, does not pass its own memory off as the epoch's.
        Assert.True(rows[0]["seconds"] > 0.001, $"seconds {rows[0]["seconds"]}");
        Assert.InRange(rows[0]["images_per_second"] * rows[0]["seconds"], 48 * (1 - 1e-5), 48 * (1 + 1e-5)); // six significant digits each
        Assert.True(double.IsNaN(rows[0]["rss_mb"]) && double.IsNaN(rows[0]["peak_rss_mb"]));
        Assert.True(rows[1]["rss_mb"] > 0);
        Assert.True(double.IsNaN(epochs[0].ResidentMiB));
    }

    [Fact]
    public void AFractionalEpochEndsTheRunEarlyAndIsEvaluated()
    {
        using var dir = new TempDir();
        var epochs = new List<EpochReport>();
        var result = new Trainer(EveryOption("adam") with { Holdout = 0, Epochs = 1.5, BatchSize = 16 }, new RunFolder(dir.Path), new Recorder(epochs)).Run(TinyData.Dataset(), resume: false);
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.Equal(5, result.Position.GlobalStep); // 3 batches per epoch; 1.5 epochs = 4.5 steps, rounded half away from zero
        Assert.Equal(48 + 2 * 16, result.ImagesSeen);
        Assert.Equal(2, epochs.Count);
        Assert.NotNull(epochs[1].Evaluation);
        Assert.Equal(result.Position.GlobalStep, MetricsLog.Read(new RunFolder(dir.Path).Metrics, "step").Count);
    }

    [Fact]
    public void LoggingEveryFewStepsChangesNothingButWhenFiguresAreRead()
    {
        using var dir = new TempDir();
        var data = TinyData.Dataset();
        var every = EveryOption("adamw") with { LogEvery = 1 };
        new Trainer(every, new RunFolder(dir.Sub("one"))).Run(data, resume: false);
        new Trainer(every with { LogEvery = 4 }, new RunFolder(dir.Sub("four"))).Run(data, resume: false);
        AssertSameCheckpoints(every, dir.Sub("one"), dir.Sub("four"));
        Assert.Equal(MetricColumns(dir.Sub("one")), MetricColumns(dir.Sub("four")));
    }

    [Fact]
    public void HeldOutImagesAreEvaluatedEachEpochAndTheTestSetOnceAtTheEnd()
    {
        using var dir = new TempDir();
        var epochs = new List<EpochReport>();
        var result = new Trainer(EveryOption("adamw") with { Epochs = 3 }, new RunFolder(dir.Path), new Recorder(epochs)).Run(TinyData.Dataset(), resume: false);
        Assert.Equal(3, epochs.Count);
        Assert.All(epochs, e => Assert.Equal(8, e.Validation!.Total));
        Assert.Null(epochs[0].Evaluation);
        Assert.Null(epochs[1].Evaluation);
        Assert.Equal(16, epochs[2].Evaluation!.Total);
        Assert.Same(epochs[2].Evaluation, result.LastEvaluation);
        Assert.Equal(3 * 40, result.ImagesSeen);
        Assert.All(epochs, e => Assert.True(e.ResidentMiB > 0));

        var rows = MetricsLog.Read(new RunFolder(dir.Path).Metrics, "epoch");
        Assert.True(double.IsNaN(rows[0]["test_accuracy"]));
        Assert.False(double.IsNaN(rows[0]["val_accuracy"]));
        Assert.False(double.IsNaN(rows[2]["test_accuracy"]));
        Assert.All(rows, r => Assert.True(r["rss_mb"] > 0 && r["peak_rss_mb"] >= r["rss_mb"]));
    }

    [Theory]
    [InlineData("end", 1)]
    [InlineData("none", 0)]
    public void EvaluationAtTheEndOrNever(string evaluate, int evaluations)
    {
        using var dir = new TempDir();
        var epochs = new List<EpochReport>();
        var config = EveryOption("adam") with { Holdout = 0, Evaluate = evaluate, Epochs = 2 };
        var result = new Trainer(config, new RunFolder(dir.Path), new Recorder(epochs)).Run(TinyData.Dataset(), resume: false);
        Assert.Equal(evaluations, epochs.Count(e => e.Evaluation is not null));
        Assert.Equal(evaluations == 1, result.LastEvaluation is not null);
    }

    [Fact]
    public void AHoldoutAsLargeAsTheTrainingSetIsRefused()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ArgumentException>(() => new Trainer(EveryOption("adamw") with { Holdout = 48 }, new RunFolder(dir.Path)).Run(TinyData.Dataset(), resume: false));
        Assert.Contains("--holdout 48", e.Message);
    }

    [Fact]
    public void TheAverageIsWhatIsEvaluatedAndExported()
    {
        using var dir = new TempDir();
        var config = EveryOption("adamw") with { Holdout = 0, FlipTta = false, Epochs = 1 };
        var result = new Trainer(config, new RunFolder(dir.Path)).Run(TinyData.Dataset(), resume: false);

        var entry = ModelCatalog.Get(config.Model);
        using var trained = entry.Create();
        using var average = entry.Create();
        Checkpoint.Load(new RunFolder(dir.Path).LatestCheckpoint, trained, optimizer: null, restoreRng: false, average: average);
        using var inference = entry.Create();
        Checkpoint.LoadInferenceWeights(new RunFolder(dir.Path).LatestCheckpoint, inference);
        Assert.True(SameState(average, inference));
        Assert.False(SameState(trained, inference));

        var loader = new ArchGen.Data.BatchLoader((ArchGen.Data.ImageSet)TinyData.Dataset().Test, new ArchGen.Data.Normalization([0.4f], [0.3f]), 8, train: false, seed: 3, torch.CPU, channels: 1, size: 8);
        var again = Evaluator.Evaluate(inference, loader, TinyData.ClassNames);
        Assert.Equal(result.LastEvaluation!.Correct, again.Correct);
    }

    static void AssertSameCheckpoints(TrainConfig config, string runA, string runB)
    {
        var entry = ModelCatalog.Get(config.Model);
        var models = new List<nn.Module<Tensor, Tensor>>();
        foreach (var run in new[] { runA, runB })
        {
            var trained = entry.Create();
            var average = entry.Create();
            Checkpoint.Load(new RunFolder(run).LatestCheckpoint, trained, optimizer: null, restoreRng: false, average: config.Ema > 0 ? average : null);
            models.Add(trained);
            models.Add(average);
        }
        Assert.True(SameState(models[0], models[2]), "trained weights differ");
        Assert.True(SameState(models[1], models[3]), "averaged weights differ");
        foreach (var m in models) m.Dispose();
    }

    static bool SameState(nn.Module a, nn.Module b)
    {
        var sa = a.state_dict();
        var sb = b.state_dict();
        return sa.Count == sb.Count && sa.All(kv => sb.TryGetValue(kv.Key, out var other) && kv.Value.Equals(other));
    }

    /// <summary>metrics.csv without the columns that measure time or memory.</summary>
    static string[] MetricColumns(string run) =>
        File.ReadAllLines(new RunFolder(run).Metrics).Select(line =>
            string.Join(',', line.Split(',').Where((_, i) => i is not (8 or 9 or 12 or 13)))).ToArray();

    sealed class StopAfter(long step, CancellationTokenSource stop) : ITrainingObserver
    {
        public void StepCompleted(StepReport s)
        {
            if (s.GlobalStep >= step) stop.Cancel();
        }
    }

    sealed class StopAtEvaluation(CancellationTokenSource stop) : ITrainingObserver
    {
        public void EvaluationStarted(int epoch, int images) => stop.Cancel();
    }

    sealed class Recorder(List<EpochReport> epochs) : ITrainingObserver
    {
        public void EpochCompleted(EpochReport e) => epochs.Add(e);
    }
}
