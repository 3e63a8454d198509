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
        classNames = dataset.Train.ClassNames; // the model's class count follows the dataset
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
        File.WriteAllText(run.Config, config.ToJson());

        var train = config.Limit > 0 ? dataset.Train.Take(config.Limit) : dataset.Train;
        var test = config.TestLimit > 0 ? dataset.Test.Take(config.TestLimit) : dataset.Test;
        int channels = entry.Facts.InputChannels, size = entry.Facts.InputSize;
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
            double lossSum = 0;
            long correct = 0, seen = 0;
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
                    {
                        string message = $"Training stopped: the loss became {loss} at epoch {epoch + 1}, batch {batchIndex} (step {position.GlobalStep + 1}). " +
                                         (File.Exists(run.LatestCheckpoint) ? $"The last good checkpoint is {run.LatestCheckpoint}." : "No checkpoint had been written yet.") +
                                         " Try a lower --lr.";
                        return new TrainingResult(TrainingOutcome.Diverged, position, last, message);
                    }
                    lossTensor.backward();
                    optimizer.step();
                    batchCorrect = logits.argmax(1).eq(batch.Labels).sum().item<long>();
                }

                batchIndex++;
                position = new TrainingPosition(epoch, batchIndex, position.GlobalStep + 1);
                lossSum += loss * batch.Count;
                correct += batchCorrect;
                seen += batch.Count;
                var step = new StepReport(epoch, batchIndex, trainLoader.BatchesPerEpoch, position.GlobalStep, loss, 100.0 * batchCorrect / batch.Count,
                    lossSum / seen, 100.0 * correct / seen, seen / clock.Elapsed.TotalSeconds, lr);
                metrics.Step(step);
                board.add_scalar("train/loss", (float)loss, (int)position.GlobalStep);
                observer.StepCompleted(step);

                if (cancel.IsCancellationRequested)
                {
                    SaveCheckpoint(model, optimizer, position);
                    return new TrainingResult(TrainingOutcome.Interrupted, position, last,
                        $"Interrupted at epoch {epoch + 1}, batch {batchIndex} (step {position.GlobalStep}); checkpoint written to {run.LatestCheckpoint}. Continue with --resume.");
                }
                if (config.CheckpointEvery > 0 && position.GlobalStep % config.CheckpointEvery == 0)
                    SaveCheckpoint(model, optimizer, position);
            }

            double trainSeconds = clock.Elapsed.TotalSeconds;
            observer.EvaluationStarted(epoch, test.Count);
            last = Evaluator.Evaluate(model, testLoader, dataset.Test.ClassNames, observer.EvaluationProgress);
            var report = new EpochReport(epoch, position.GlobalStep, seen == 0 ? double.NaN : lossSum / seen, seen == 0 ? double.NaN : 100.0 * correct / seen,
                last.MeanLoss, last.Accuracy, trainSeconds, seen / Math.Max(trainSeconds, 1e-9), lr, last);
            metrics.Epoch(report);
            board.add_scalar("test/accuracy", (float)last.Accuracy, (int)position.GlobalStep);
            board.add_scalar("test/loss", (float)last.MeanLoss, (int)position.GlobalStep);
            observer.EpochCompleted(report);

            position = new TrainingPosition(epoch + 1, 0, position.GlobalStep);
            SaveCheckpoint(model, optimizer, position);
            if (cancel.IsCancellationRequested && epoch + 1 < config.Epochs)
                return new TrainingResult(TrainingOutcome.Interrupted, position, last,
                    $"Interrupted after epoch {epoch + 1}; checkpoint written to {run.LatestCheckpoint}. Continue with --resume.");
        }

        if (last is null)
        {
            // Resumed a run that had already finished: evaluate what it holds.
            last = Evaluator.Evaluate(model, testLoader, dataset.Test.ClassNames, observer.EvaluationProgress);
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

    void SaveCheckpoint(nn.Module model, OptimizerHelper optimizer, TrainingPosition position)
    {
        var header = new CheckpointHeader(config.Model, position, config, DateTime.UtcNow.ToString("O")) { ClassNames = classNames };
        Checkpoint.Save(run.LatestCheckpoint, header, model, optimizer);
        observer.CheckpointWritten(run.LatestCheckpoint, position);
    }

    sealed class NullObserver : ITrainingObserver;
}
