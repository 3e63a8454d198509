using System.Diagnostics;
using ArchGen.Checkpoints;
using ArchGen.Data;
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
public sealed record TrainingResult(TrainingOutcome Outcome, TrainingPosition Position, EvaluationResult? LastEvaluation, string Message);

/// <summary>
/// The training loop: the reference exercise's recipe (Adam, cross-entropy, batch 128, augmented CIFAR-style batches)
/// or kuangliu's SGD recipe, evaluated on the test set after each epoch, checkpointed atomically, resumable bit for bit.
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
        using var optimizer = CreateOptimizer(model);

        var position = new TrainingPosition(0, 0, 0);
        if (resume)
        {
            string? latest = File.Exists(run.LatestCheckpoint) ? run.LatestCheckpoint : null;
            if (latest is null) throw new FileNotFoundException($"Nothing to resume: {run.Path} has no {Checkpoint.LatestFileName}.");
            var header = Checkpoint.Load(latest, model, optimizer);
            position = header.Position;
            observer.Message($"Resumed from {latest} at epoch {position.Epoch + 1}, batch {position.Batch} (step {position.GlobalStep}).");
        }
        latestIsEpochEnd = resume && position.Batch == 0;

        // Read the data now (a stop request or a bad file ends the run here, before anything is written).
        FaultInjection.Reach("load-data", cancel);
        var train = config.Limit > 0 ? dataset.Train.Take(config.Limit) : dataset.Train;
        var test = config.TestLimit > 0 ? dataset.Test.Take(config.TestLimit) : dataset.Test;
        cancel.ThrowIfCancellationRequested();
        observer.Message($"Data: {train.Count} training images, {test.Count} test images ({dataset.Name}).");
        int channels = entry.Facts.InputChannels, size = entry.Facts.InputSize;
        int outputs = ClassCount.Outputs(model, channels, size, device);
        string modelName = resume ? $"the checkpoint's {config.Model}" : config.Model;
        ClassCount.Check(outputs, modelName, dataset.Train.ClassNames, $"'{dataset.Name}'");
        ClassCount.Check(outputs, modelName, dataset.Test.ClassNames, $"'{dataset.Name}' (test split)");

        if (!resume) run.ClearRun();
        AtomicFile.WriteAllText(run.Config, config.ToJson());
        var normalization = config.Normalization!.ToNormalization();
        var trainLoader = train.CreateLoader(new LoaderOptions(normalization, config.BatchSize, Train: true, config.Seed, device, channels, size));
        var testLoader = test.CreateLoader(new LoaderOptions(normalization, config.BatchSize, Train: false, config.Seed, device, channels, size));

        using var metrics = new MetricsLog(run.Metrics, position.GlobalStep);
        var board = torch.utils.tensorboard.SummaryWriter(run.TensorBoard, createRunName: false);
        EvaluationResult? last = null;

        for (int epoch = position.Epoch; epoch < config.Epochs; epoch++)
        {
            double lr = LearningRateAt(epoch);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            int startBatch = epoch == position.Epoch ? position.Batch : 0;
            observer.EpochStarted(epoch, config.Epochs, trainLoader.BatchesPerEpoch, startBatch);

            model.train();
            if (config.FreezeFeatures) FineTuning.KeepFrozenLayersInEval(model);
            var clock = Stopwatch.StartNew();
            // An epoch resumed in its middle starts from the sums its checkpoint carries.
            var carried = startBatch > 0 ? position.Totals : null;
            double lossSum = carried?.LossSum ?? 0;
            long correct = carried?.Correct ?? 0, seen = carried?.Seen ?? 0, seenHere = 0;
            int batchIndex = startBatch;
            foreach (var batch in trainLoader.Epoch(epoch, startBatch))
            {
                double loss;
                long batchCorrect;
                using (batch)
                using (torch.NewDisposeScope())
                {
                    optimizer.zero_grad();
                    var logits = model.forward(batch.Images);
                    var lossTensor = nn.functional.cross_entropy(logits, batch.Labels);
                    loss = lossTensor.item<float>();
                    if (!double.IsFinite(loss))
                        return Diverged($"the loss became {loss} at epoch {epoch + 1}, batch {batchIndex} (step {position.GlobalStep + 1})", position, last);
                    lossTensor.backward();
                    optimizer.step();
                    batchCorrect = logits.argmax(1).eq(batch.Labels).sum().item<long>();
                }

                batchIndex++;
                lossSum += loss * batch.Count;
                correct += batchCorrect;
                seen += batch.Count;
                seenHere += batch.Count;
                position = new TrainingPosition(epoch, batchIndex, position.GlobalStep + 1, new EpochTotals(lossSum, correct, seen));
                var step = new StepReport(epoch, batchIndex, trainLoader.BatchesPerEpoch, position.GlobalStep, loss, 100.0 * batchCorrect / batch.Count,
                    lossSum / seen, 100.0 * correct / seen, seenHere / clock.Elapsed.TotalSeconds, lr);
                metrics.Step(step);
                board.add_scalar("train/loss", (float)loss, (int)position.GlobalStep);
                observer.StepCompleted(step);

                if (cancel.IsCancellationRequested)
                {
                    SaveCheckpoint(model, optimizer, position, epochEnd: false);
                    return new TrainingResult(TrainingOutcome.Interrupted, position, last,
                        $"Interrupted at epoch {epoch + 1}, batch {batchIndex} (step {position.GlobalStep}); checkpoint written to {run.LatestCheckpoint}. Continue with --resume.");
                }
                if (config.CheckpointEvery > 0 && position.GlobalStep % config.CheckpointEvery == 0)
                    SaveCheckpoint(model, optimizer, position, epochEnd: false);
            }

            double trainSeconds = clock.Elapsed.TotalSeconds;
            observer.EvaluationStarted(epoch, test.Count);
            try
            {
                last = Evaluator.Evaluate(model, testLoader, dataset.Test.ClassNames, observer.EvaluationProgress, cancel);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                // The epoch's training is done: keep it; --resume evaluates it.
                SaveCheckpoint(model, optimizer, position, epochEnd: false);
                return new TrainingResult(TrainingOutcome.Interrupted, position, last,
                    $"Interrupted during the evaluation of epoch {epoch + 1} (step {position.GlobalStep}); checkpoint of its training written to {run.LatestCheckpoint}. Continue with --resume.");
            }
            var report = new EpochReport(epoch, position.GlobalStep, seen == 0 ? double.NaN : lossSum / seen, seen == 0 ? double.NaN : 100.0 * correct / seen,
                last.MeanLoss, last.Accuracy, trainSeconds, seenHere / Math.Max(trainSeconds, 1e-9), lr, last);
            if (!double.IsFinite(last.MeanLoss) && last.Total > 0)
                return Diverged($"the test loss after epoch {epoch + 1} is {last.MeanLoss} (the weights diverged in the epoch's last steps)", position, last);
            metrics.Epoch(report);
            board.add_scalar("test/accuracy", (float)last.Accuracy, (int)position.GlobalStep);
            board.add_scalar("test/loss", (float)last.MeanLoss, (int)position.GlobalStep);
            observer.EpochCompleted(report);

            position = new TrainingPosition(epoch + 1, 0, position.GlobalStep);
            SaveCheckpoint(model, optimizer, position, epochEnd: true);
            if (cancel.IsCancellationRequested && epoch + 1 < config.Epochs)
                return new TrainingResult(TrainingOutcome.Interrupted, position, last,
                    $"Interrupted after epoch {epoch + 1}; checkpoint written to {run.LatestCheckpoint}. Continue with --resume.");
        }

        if (last is null)
        {
            // Resumed a run that had already finished: evaluate what it holds.
            last = Evaluator.Evaluate(model, testLoader, dataset.Test.ClassNames, observer.EvaluationProgress, cancel);
        }
        return new TrainingResult(TrainingOutcome.Completed, position, last, "Finished Training");
    }

    /// <summary>Adam at 0.001 (the reference exercise) or SGD with momentum 0.9, nesterov and weight decay 5e-4 (kuangliu).</summary>
    OptimizerHelper CreateOptimizer(nn.Module model) => config.IsSgd
        ? optim.SGD(FineTuning.Trainable(model), config.ResolvedLearningRate, momentum: 0.9, weight_decay: 5e-4, nesterov: true)
        : optim.Adam(FineTuning.Trainable(model), config.ResolvedLearningRate);

    /// <summary>Adam: constant. SGD: cosine annealing over the epochs, stepped per epoch as in kuangliu's recipe.</summary>
    double LearningRateAt(int epoch) => config.IsSgd
        ? config.ResolvedLearningRate * 0.5 * (1 + Math.Cos(Math.PI * epoch / config.Epochs))
        : config.ResolvedLearningRate;

    // Whether last.ckpt holds the end of an epoch (whose losses were finite) rather than a point inside one.
    bool latestIsEpochEnd;

    /// <summary>
    /// Writes last.ckpt. Before a checkpoint from inside an epoch replaces one from an epoch's end, that one is kept
    /// as last-epoch.ckpt (the weights inside an epoch are not yet checked by an evaluation; see <see cref="Diverged"/>).
    /// </summary>
    void SaveCheckpoint(nn.Module model, OptimizerHelper optimizer, TrainingPosition position, bool epochEnd)
    {
        if (!epochEnd && latestIsEpochEnd && File.Exists(run.LatestCheckpoint))
            AtomicFile.Write(run.LastEpochCheckpoint, copy =>
            {
                using var source = new FileStream(run.LatestCheckpoint, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
                source.CopyTo(copy);
            });
        var header = new CheckpointHeader(config.Model, position, config, DateTime.UtcNow.ToString("O")) { ClassNames = classNames };
        Checkpoint.Save(run.LatestCheckpoint, header, model, optimizer);
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
