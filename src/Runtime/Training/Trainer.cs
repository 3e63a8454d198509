using System.Diagnostics;
using ArchGen.Checkpoints;
using ArchGen.Data;
using ArchGen.Performance;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ArchGen.Training;

/// <summary>How a training run ended.</summary>
public enum TrainingOutcome
{
    /// <summary>All epochs ran.</summary>
    Completed,

    /// <summary>Stopped on request (Ctrl+C, SIGTERM) after a checkpoint was written; <c>--resume</c> continues.</summary>
    Interrupted,

    /// <summary>The loss became NaN or infinite; the last good checkpoint was kept.</summary>
    Diverged,
}

/// <summary>The result of <see cref="Trainer.Run"/>.</summary>
/// <param name="ImagesSeen">Training images processed by the whole run (all sittings) up to <paramref name="Position"/>.</param>
/// <param name="ImagesPerEpoch">Training images in one epoch.</param>
public sealed record TrainingResult(TrainingOutcome Outcome, TrainingPosition Position, EvaluationResult? LastEvaluation, string Message,
    long ImagesSeen = 0, int ImagesPerEpoch = 0);

/// <summary>
/// The training loop: cross-entropy (optionally label-smoothed) on augmented CIFAR-style batches, with the optimizer
/// (<see cref="Optimizers"/>), the per-step learning rate (<see cref="LearningRateSchedule"/>) and the moving average of
/// the weights (<see cref="WeightAverage"/>) the configuration asks for; evaluated on the test set after each epoch or
/// at the end (or on held-out training images), checkpointed atomically, resumable bit for bit.
/// </summary>
public sealed class Trainer
{
    readonly TrainConfig config;
    readonly RunFolder run;
    readonly ITrainingObserver observer;

    public Trainer(TrainConfig config, RunFolder run, ITrainingObserver? observer = null)
    {
        config.Validate();
        this.config = config;
        this.run = run;
        this.observer = observer ?? new NullObserver();
    }

    /// <summary>
    /// Trains until all epochs ran, the token is cancelled (a checkpoint is written after the current step) or the
    /// loss diverges. With <paramref name="resume"/>, continues from the run folder's latest checkpoint.
    /// </summary>
    public TrainingResult Run(IDataset dataset, bool resume, CancellationToken cancel = default)
    {
        var entry = ModelCatalog.Get(config.Model);
        var device = Devices.Resolve(config.Device);
        Devices.SetThreads(config.Threads);
        run.Create();

        torch.manual_seed(config.Seed);
        using var model = entry.Create();
        model.to(device);
        using var optimizer = Optimizers.Create(config, model);
        using var average = config.Ema > 0 ? CreateAverage(entry, model, device) : null;

        var position = new TrainingPosition(0, 0, 0);
        if (resume)
        {
            string? latest = File.Exists(run.LatestCheckpoint) ? run.LatestCheckpoint : null;
            if (latest is null) throw new FileNotFoundException($"Nothing to resume: {run.Path} has no {Checkpoint.LatestFileName}.");
            var header = Checkpoint.Load(latest, model, optimizer, average: average?.Model);
            position = header.Position;
            observer.Message($"Resumed from {latest} at epoch {position.Epoch + 1}, batch {position.Batch} (step {position.GlobalStep}).");
        }
        File.WriteAllText(run.Config, config.ToJson());

        var train = config.Limit > 0 ? dataset.Train.Take(config.Limit) : dataset.Train;
        var test = config.TestLimit > 0 ? dataset.Test.Take(config.TestLimit) : dataset.Test;
        ImageSet? holdout = null;
        if (config.Holdout > 0)
        {
            if (config.Holdout >= train.Count)
                throw new ArgumentException($"--holdout {config.Holdout} leaves no images to train on (the training set has {train.Count}).");
            holdout = train.Slice(train.Count - config.Holdout, config.Holdout);
            train = train.Take(train.Count - config.Holdout);
        }
        int channels = entry.Facts.InputChannels, size = entry.Facts.InputSize;
        var trainLoader = new BatchLoader(train, dataset.Normalization, config.BatchSize, train: true, config.Seed, device, channels, size, config.CropPadding);
        var testLoader = new BatchLoader(test, dataset.Normalization, config.BatchSize, train: false, config.Seed, device, channels, size);
        var holdoutLoader = holdout is null ? null : new BatchLoader(holdout, dataset.Normalization, config.BatchSize, train: false, config.Seed, device, channels, size);
        var schedule = LearningRateSchedule.For(config, trainLoader.BatchesPerEpoch);
        var evaluated = average?.Model ?? model;

        using var metrics = new MetricsLog(run.Metrics, position.GlobalStep);
        var board = torch.utils.tensorboard.SummaryWriter(run.TensorBoard, createRunName: false);
        using var pending = new PendingSteps();
        EvaluationResult? last = null;
        long ImagesSeen() => position.GlobalStep / trainLoader.BatchesPerEpoch * train.Count
                             + Math.Min(position.GlobalStep % trainLoader.BatchesPerEpoch * config.BatchSize, train.Count);
        TrainingResult Result(TrainingOutcome outcome, string message) => new(outcome, position, last, message, ImagesSeen(), train.Count);

        for (int epoch = position.Epoch; epoch < schedule.EpochCount; epoch++)
        {
            int startBatch = epoch == position.Epoch ? position.Batch : 0;
            int endBatch = schedule.BatchesIn(epoch); // short in a last, fractional epoch
            observer.EpochStarted(epoch, schedule.EpochCount, endBatch, startBatch);

            model.train();
            var clock = Stopwatch.StartNew();
            double lossSum = 0, lr = schedule.At(position.GlobalStep);
            long correct = 0, seen = 0;
            int batchIndex = startBatch;

            // Reads the pending steps' figures back (one synchronization), logs them; a diverged step ends the run.
            TrainingResult? Flush()
            {
                var steps = pending.Read();
                double rss = steps.Count > 0 ? ResourceUsage.ResidentMiB() : double.NaN;
                foreach (var (s, loss, stepCorrect) in steps)
                {
                    if (!double.IsFinite(loss))
                    {
                        string message = $"Training stopped: the loss became {loss} at epoch {s.Epoch + 1}, batch {s.Batch - 1} (step {s.GlobalStep}). " +
                                         (File.Exists(run.LatestCheckpoint) ? $"The last good checkpoint is {run.LatestCheckpoint}." : "No checkpoint had been written yet.") +
                                         " Try a lower --lr.";
                        return Result(TrainingOutcome.Diverged, message);
                    }
                    lossSum += loss * s.Images;
                    correct += stepCorrect;
                    seen += s.Images;
                    var step = new StepReport(s.Epoch, s.Batch, endBatch, s.GlobalStep, loss, 100.0 * stepCorrect / s.Images,
                        lossSum / seen, 100.0 * correct / seen, seen / clock.Elapsed.TotalSeconds, s.LearningRate, rss);
                    metrics.Step(step);
                    board.add_scalar("train/loss", (float)loss, (int)s.GlobalStep);
                    observer.StepCompleted(step);
                }
                return null;
            }

            foreach (var batch in startBatch < endBatch ? trainLoader.Epoch(epoch, startBatch) : [])
            {
                lr = schedule.At(position.GlobalStep);
                Optimizers.SetLearningRate(optimizer, lr);
                using (batch)
                using (torch.NewDisposeScope())
                {
                    optimizer.zero_grad();
                    var logits = model.forward(batch.Images);
                    var lossTensor = TrainingLoss.Compute(logits, batch.Labels, config.LabelSmoothing);
                    lossTensor.backward();
                    optimizer.step();
                    using (torch.no_grad())
                        pending.Add(new PendingSteps.Step(epoch, batchIndex + 1, position.GlobalStep + 1, batch.Count, lr), lossTensor, logits.argmax(1).eq(batch.Labels).sum());
                }

                batchIndex++;
                position = new TrainingPosition(epoch, batchIndex, position.GlobalStep + 1);
                average?.Update(position.GlobalStep);
                StepGarbage.Release();

                bool checkpointDue = config.CheckpointEvery > 0 && position.GlobalStep % config.CheckpointEvery == 0;
                if (pending.Count >= config.LogEvery || batchIndex == endBatch || checkpointDue || cancel.IsCancellationRequested)
                {
                    if (Flush() is { } diverged) return diverged;
                }

                if (cancel.IsCancellationRequested)
                {
                    SaveCheckpoint(model, optimizer, average, position);
                    return Result(TrainingOutcome.Interrupted,
                        $"Interrupted at epoch {epoch + 1}, batch {batchIndex} (step {position.GlobalStep}); checkpoint written to {run.LatestCheckpoint}. Continue with --resume.");
                }
                if (checkpointDue)
                    SaveCheckpoint(model, optimizer, average, position);
                if (batchIndex == endBatch) break;
            }

            double trainSeconds = clock.Elapsed.TotalSeconds;
            double rssAfterTraining = ResourceUsage.ResidentMiB(), peakRss = ResourceUsage.PeakResidentMiB();
            EvaluationResult? validation = null, tested = null;
            if (holdoutLoader is not null)
            {
                observer.EvaluationStarted(epoch, holdoutLoader.Set.Count);
                validation = Evaluator.Evaluate(evaluated, holdoutLoader, holdoutLoader.Set.ClassNames, observer.EvaluationProgress, flip: config.FlipTta);
                board.add_scalar("validation/accuracy", (float)validation.Accuracy, (int)position.GlobalStep);
            }
            bool lastEpoch = epoch + 1 == schedule.EpochCount;
            if ((config.Evaluate == "epoch" && holdoutLoader is null) || (lastEpoch && config.Evaluate != "none"))
            {
                observer.EvaluationStarted(epoch, test.Count);
                tested = last = Evaluator.Evaluate(evaluated, testLoader, dataset.Test.ClassNames, observer.EvaluationProgress, flip: config.FlipTta);
                board.add_scalar("test/accuracy", (float)tested.Accuracy, (int)position.GlobalStep);
                board.add_scalar("test/loss", (float)tested.MeanLoss, (int)position.GlobalStep);
            }
            var report = new EpochReport(epoch, position.GlobalStep, seen == 0 ? double.NaN : lossSum / seen, seen == 0 ? double.NaN : 100.0 * correct / seen,
                tested?.MeanLoss ?? double.NaN, tested?.Accuracy ?? double.NaN, trainSeconds, seen / Math.Max(trainSeconds, 1e-9), lr, tested,
                validation, rssAfterTraining, peakRss);
            metrics.Epoch(report);
            board.add_scalar("memory/rss_mb", (float)rssAfterTraining, (int)position.GlobalStep);
            observer.EpochCompleted(report);

            position = new TrainingPosition(epoch + 1, 0, position.GlobalStep);
            SaveCheckpoint(model, optimizer, average, position);
            if (cancel.IsCancellationRequested && epoch + 1 < schedule.EpochCount)
                return Result(TrainingOutcome.Interrupted,
                    $"Interrupted after epoch {epoch + 1}; checkpoint written to {run.LatestCheckpoint}. Continue with --resume.");
        }

        if (last is null && config.Evaluate != "none")
        {
            // Resumed a run that had already finished: evaluate what it holds.
            last = Evaluator.Evaluate(evaluated, testLoader, dataset.Test.ClassNames, observer.EvaluationProgress, flip: config.FlipTta);
        }
        return Result(TrainingOutcome.Completed, "Finished Training");
    }

    /// <summary>The moving average of the weights, started at the fresh model's; torch's RNG is left as it was, so the run is otherwise the same as without it.</summary>
    WeightAverage CreateAverage(CatalogEntry entry, nn.Module<Tensor, Tensor> model, Device device)
    {
        using var rng = torch.random.get_rng_state();
        var copy = entry.Create();
        torch.random.set_rng_state(rng);
        copy.to(device);
        return new WeightAverage(model, copy, config.Ema);
    }

    void SaveCheckpoint(nn.Module model, OptimizerHelper optimizer, WeightAverage? average, TrainingPosition position)
    {
        var header = new CheckpointHeader(config.Model, position, config, DateTime.UtcNow.ToString("O"));
        Checkpoint.Save(run.LatestCheckpoint, header, model, optimizer, average?.Model);
        observer.CheckpointWritten(run.LatestCheckpoint, position);
    }

    sealed class NullObserver : ITrainingObserver;
}
