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
    TrainConfig config;
    IReadOnlyList<string> classNames = [];
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
    /// Trains until all epochs ran, the token is cancelled (a checkpoint is written after the current step, or,
    /// during an evaluation, of the epoch's finished training) or the loss diverges. With <paramref name="resume"/>,
    /// continues from the run folder's latest checkpoint; otherwise a previous run's files in the folder are replaced.
    /// The data is read, and its classes checked against the model's outputs, before anything is written.
    /// </summary>
    public TrainingResult Run(IDataset dataset, bool resume, CancellationToken cancel = default)
    {
        var entry = ModelCatalog.Get(config.Model);
        var device = Devices.Resolve(config.Device);
        Devices.SetThreads(config.Threads);
        run.Create();

        torch.manual_seed(config.Seed);
        classNames = dataset.Train.ClassNames; // the model's class count follows the dataset
        ClassCount.CheckTrainable(classNames, $"'{dataset.Name}'");
        using var model = entry.Create(classNames.Count);
        if (config.Init is { } init && !resume)
        {
            var report = FineTuning.Initialize(model, entry, init);
            observer.Message(report.Summary(model.state_dict().Count));
        }
        if (config.FreezeFeatures)
            observer.Message($"Training only the classifier ({FineTuning.FreezeFeatures(model, entry):N0} parameters); the features are frozen.");
        config = config with { Normalization = FineTuning.ChooseNormalization(config, dataset) };
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
        latestIsEpochEnd = resume && position.Batch == 0;

        // Read the data now (a stop request or a bad file ends the run here, before anything is written).
        FaultInjection.Reach("load-data", cancel);
        var train = config.Limit > 0 ? dataset.Train.Take(config.Limit) : dataset.Train;
        var test = config.TestLimit > 0 ? dataset.Test.Take(config.TestLimit) : dataset.Test;
        cancel.ThrowIfCancellationRequested();
        ImageSet? holdout = null;
        if (config.Holdout > 0)
        {
            if (train is not ImageSet inMemory)
                throw new ArgumentException($"--holdout needs an in-memory dataset (cifar10, fashion-mnist, synthetic); '{dataset.Name}' is read from files.");
            if (config.Holdout >= train.Count)
                throw new ArgumentException($"--holdout {config.Holdout} leaves no images to train on (the training set has {train.Count}).");
            holdout = inMemory.Slice(train.Count - config.Holdout, config.Holdout);
            train = inMemory.Take(train.Count - config.Holdout);
        }
        observer.Message($"Data: {train.Count} training images, {test.Count} test images{(holdout is null ? "" : $", {holdout.Count} held out")} ({dataset.Name}).");
        int channels = entry.Facts.InputChannels, size = entry.Facts.InputSize;
        // The classifier was built for the training split's classes (a checkpoint's weights were checked against it
        // when loaded); the test split must have as many.
        string modelName = resume ? $"the checkpoint's {config.Model}" : config.Model;
        ClassCount.Check(classNames.Count, modelName, dataset.Test.ClassNames, $"'{dataset.Name}' (test split)");

        if (!resume) run.ClearRun();
        var layouts = CheckLayouts(model, average?.Model, [Math.Max(1, Math.Min(config.BatchSize, train.Count)), channels, size, size]);
        AtomicFile.WriteAllText(run.Config, LayoutRecord.AddTo(config.ToJson(), layouts));
        var normalization = config.Normalization!.ToNormalization();
        var trainLoader = train.CreateLoader(new LoaderOptions(normalization, config.BatchSize, Train: true, config.Seed, device, channels, size, config.CropPadding));
        var testLoader = test.CreateLoader(new LoaderOptions(normalization, config.BatchSize, Train: false, config.Seed, device, channels, size));
        var holdoutLoader = holdout?.CreateLoader(new LoaderOptions(normalization, config.BatchSize, Train: false, config.Seed, device, channels, size));
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
            if (config.FreezeFeatures) FineTuning.KeepFrozenLayersInEval(model);
            var clock = Stopwatch.StartNew();
            // An epoch resumed in its middle starts from the sums (and training time) its checkpoint carries.
            var carried = startBatch > 0 ? position.Totals : null;
            // (A checkpoint written before the time was carried leaves the epoch's time unknown: NaN.)
            double lossSum = carried?.LossSum ?? 0, carriedSeconds = carried is null ? 0 : carried.Seconds ?? double.NaN, lr = schedule.At(position.GlobalStep);
            long correct = carried?.Correct ?? 0, seen = carried?.Seen ?? 0, seenHere = 0;
            int batchIndex = startBatch;
            double SecondsSoFar() => carriedSeconds + clock.Elapsed.TotalSeconds;

            // Reads the pending steps' figures back (one synchronization), logs them; a diverged step ends the run.
            TrainingResult? Flush()
            {
                var steps = pending.Read();
                double rss = steps.Count > 0 ? ResourceUsage.ResidentMiB() : double.NaN;
                foreach (var (s, loss, stepCorrect) in steps)
                {
                    if (!double.IsFinite(loss))
                        return Diverged($"the loss became {loss} at epoch {s.Epoch + 1}, batch {s.Batch - 1} (step {s.GlobalStep})", position, last);
                    lossSum += loss * s.Images;
                    correct += stepCorrect;
                    seen += s.Images;
                    seenHere += s.Images;
                    var step = new StepReport(s.Epoch, s.Batch, endBatch, s.GlobalStep, loss, 100.0 * stepCorrect / s.Images,
                        lossSum / seen, 100.0 * correct / seen, seenHere / clock.Elapsed.TotalSeconds, s.LearningRate, rss);
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
                // Once flushed, the sums cover every step so far, so a checkpoint (written only then) carries them.
                if (pending.Count == 0)
                {
                    double seconds = SecondsSoFar();
                    position = position with { Totals = new EpochTotals(lossSum, correct, seen, double.IsNaN(seconds) ? null : seconds) };
                }

                if (cancel.IsCancellationRequested)
                {
                    SaveCheckpoint(model, optimizer, average, position, epochEnd: false);
                    return Result(TrainingOutcome.Interrupted,
                        $"Interrupted at epoch {epoch + 1}, batch {batchIndex} (step {position.GlobalStep}); checkpoint written to {run.LatestCheckpoint}. Continue with --resume.");
                }
                if (checkpointDue)
                    SaveCheckpoint(model, optimizer, average, position, epochEnd: false);
                if (batchIndex == endBatch) break;
            }

            // Over all sittings: a checkpoint carries the seconds of the epoch's earlier steps, recorded with them.
            double trainSeconds = startBatch == endBatch ? carriedSeconds : SecondsSoFar();
            double imagesPerSecond = trainSeconds > 0 ? seen / trainSeconds : double.NaN;
            // Memory is this process's: an epoch it trained no step of (resumed at its evaluation) has no figure.
            bool trainedHere = seenHere > 0;
            double rssAfterTraining = trainedHere ? ResourceUsage.ResidentMiB() : double.NaN;
            double peakRss = trainedHere ? ResourceUsage.PeakResidentMiB() : double.NaN;
            EvaluationResult? validation = null, tested = null;
            try
            {
                if (holdoutLoader is not null)
                {
                    observer.EvaluationStarted(epoch, holdout!.Count);
                    validation = Evaluator.Evaluate(evaluated, holdoutLoader, holdout.ClassNames, observer.EvaluationProgress, cancel, config.FlipTta);
                    board.add_scalar("validation/accuracy", (float)validation.Accuracy, (int)position.GlobalStep);
                }
                bool lastEpoch = epoch + 1 == schedule.EpochCount;
                if ((config.Evaluate == "epoch" && holdoutLoader is null) || (lastEpoch && config.Evaluate != "none"))
                {
                    observer.EvaluationStarted(epoch, test.Count);
                    tested = last = Evaluator.Evaluate(evaluated, testLoader, dataset.Test.ClassNames, observer.EvaluationProgress, cancel, config.FlipTta);
                    board.add_scalar("test/accuracy", (float)tested.Accuracy, (int)position.GlobalStep);
                    board.add_scalar("test/loss", (float)tested.MeanLoss, (int)position.GlobalStep);
                }
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                // The epoch's training is done: keep it; --resume evaluates it.
                SaveCheckpoint(model, optimizer, average, position, epochEnd: false);
                return Result(TrainingOutcome.Interrupted,
                    $"Interrupted during the evaluation of epoch {epoch + 1} (step {position.GlobalStep}); checkpoint of its training written to {run.LatestCheckpoint}. Continue with --resume.");
            }
            var report = new EpochReport(epoch, position.GlobalStep, seen == 0 ? double.NaN : lossSum / seen, seen == 0 ? double.NaN : 100.0 * correct / seen,
                tested?.MeanLoss ?? double.NaN, tested?.Accuracy ?? double.NaN, trainSeconds, imagesPerSecond, lr, tested,
                validation, rssAfterTraining, peakRss);
            if (tested is { } t && !double.IsFinite(t.MeanLoss) && t.Total > 0)
                return Diverged($"the test loss after epoch {epoch + 1} is {t.MeanLoss} (the weights diverged in the epoch's last steps)", position, last);
            metrics.Epoch(report);
            if (trainedHere) board.add_scalar("memory/rss_mb", (float)rssAfterTraining, (int)position.GlobalStep);
            observer.EpochCompleted(report);

            position = new TrainingPosition(epoch + 1, 0, position.GlobalStep);
            SaveCheckpoint(model, optimizer, average, position, epochEnd: true);
            // The evaluation and the checkpoint allocate blocks of other sizes than a training step; give the pages
            // they leave free back to the system, or the heap (never trimmed: AllocatorPolicy) keeps them resident.
            AllocatorPolicy.ReleaseFreeMemory();
            if (cancel.IsCancellationRequested && epoch + 1 < schedule.EpochCount)
                return Result(TrainingOutcome.Interrupted,
                    $"Interrupted after epoch {epoch + 1}; checkpoint written to {run.LatestCheckpoint}. Continue with --resume.");
        }

        if (last is null && config.Evaluate != "none")
        {
            // Resumed a run that had already finished: evaluate what it holds.
            last = Evaluator.Evaluate(evaluated, testLoader, dataset.Test.ClassNames, observer.EvaluationProgress, cancel, config.FlipTta);
        }
        return Result(TrainingOutcome.Completed, "Finished Training");
    }

    /// <summary>
    /// The memory layout of every layer for the run's batches, checked now (<see cref="VerifiedLayout"/>): the model
    /// training (with gradients) and the evaluated model (the average, when there is one) under evaluation.
    /// </summary>
    IReadOnlyList<LayoutCheck> CheckLayouts(nn.Module<Tensor, Tensor> model, nn.Module<Tensor, Tensor>? average, long[] batch)
    {
        if (model is not Blocks.GeneratedModel generated) return [];
        model.train();
        if (config.FreezeFeatures) FineTuning.KeepFrozenLayersInEval(model);
        var training = VerifiedLayout.Verify(generated, batch, withGradients: true);
        var evaluated = average as Blocks.GeneratedModel ?? generated;
        evaluated.eval();
        var evaluation = VerifiedLayout.Verify(evaluated, batch, withGradients: false);
        model.train();
        return [training, evaluation];
    }

    /// <summary>The moving average of the weights, started at the fresh model's; torch's RNG is left as it was, so the run is otherwise the same as without it.</summary>
    WeightAverage CreateAverage(CatalogEntry entry, nn.Module<Tensor, Tensor> model, Device device)
    {
        using var rng = torch.random.get_rng_state();
        var copy = entry.Create(classNames.Count);
        torch.random.set_rng_state(rng);
        copy.to(device);
        return new WeightAverage(model, copy, config.Ema);
    }

    // Whether last.ckpt holds the end of an epoch (whose losses were finite) rather than a point inside one.
    bool latestIsEpochEnd;

    /// <summary>
    /// Writes last.ckpt. Before a checkpoint from inside an epoch replaces one from an epoch's end, that one is kept
    /// as last-epoch.ckpt (the weights inside an epoch are not yet checked by an evaluation; see <see cref="Diverged"/>).
    /// </summary>
    void SaveCheckpoint(nn.Module model, OptimizerHelper optimizer, WeightAverage? average, TrainingPosition position, bool epochEnd)
    {
        if (!epochEnd && latestIsEpochEnd && File.Exists(run.LatestCheckpoint))
            AtomicFile.Write(run.LastEpochCheckpoint, copy =>
            {
                using var source = new FileStream(run.LatestCheckpoint, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
                source.CopyTo(copy);
            });
        var header = new CheckpointHeader(config.Model, position, config, DateTime.UtcNow.ToString("O")) { ClassNames = classNames };
        Checkpoint.Save(run.LatestCheckpoint, header, model, optimizer, average?.Model);
        if (epochEnd && File.Exists(run.LastEpochCheckpoint)) File.Delete(run.LastEpochCheckpoint);
        latestIsEpochEnd = epochEnd;
        observer.CheckpointWritten(run.LatestCheckpoint, position);
    }

    /// <summary>
    /// Stops a diverged run, leaving in last.ckpt the checkpoint of the last epoch whose losses were finite: a
    /// checkpoint from inside the diverging epoch may already hold exploded weights, so it is replaced by
    /// last-epoch.ckpt (or removed when no epoch had ended yet).
    /// </summary>
    TrainingResult Diverged(string what, TrainingPosition position, EvaluationResult? last)
    {
        string kept;
        if (!File.Exists(run.LatestCheckpoint))
        {
            kept = "No checkpoint had been written yet; start again with --overwrite and a lower --lr.";
        }
        else
        {
            if (!latestIsEpochEnd)
            {
                if (File.Exists(run.LastEpochCheckpoint)) File.Move(run.LastEpochCheckpoint, run.LatestCheckpoint, overwrite: true);
                else File.Delete(run.LatestCheckpoint);
            }
            var good = File.Exists(run.LatestCheckpoint) ? Checkpoint.ReadHeader(run.LatestCheckpoint).Position : null;
            kept = good is null
                ? "No epoch had ended with finite losses, so no checkpoint is kept (the one from inside the epoch could hold diverged weights); start again with --overwrite and a lower --lr."
                : good.Epoch == 0
                    ? $"{run.LatestCheckpoint} holds the run's starting point (step {good.GlobalStep}); continue with --resume and a lower --lr."
                    : $"{run.LatestCheckpoint} holds the end of epoch {good.Epoch} (step {good.GlobalStep}), the last epoch whose losses were finite; continue from it with --resume and a lower --lr.";
        }
        return new TrainingResult(TrainingOutcome.Diverged, position, last, $"Training diverged: {what}. {kept}");
    }

    sealed class NullObserver : ITrainingObserver;
}
