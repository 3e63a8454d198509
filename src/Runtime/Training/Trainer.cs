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

/// <summary>The result of <see cref="Trainer.Run(IDataset, bool, CancellationToken)"/>.</summary>
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
    readonly TrainConfig requested;
    readonly RunFolder run;
    readonly ITrainingObserver observer;

    public Trainer(TrainConfig config, RunFolder run, ITrainingObserver? observer = null)
    {
        config.Validate();
        requested = config;
        this.run = run;
        this.observer = observer ?? new NullObserver();
    }

    /// <summary>An <see cref="ArgumentException"/> unless <paramref name="holdout"/> images can be held out of <paramref name="train"/> (an in-memory split with more images).</summary>
    public static void RequireHoldout(int holdout, IImageSplit train, string datasetName)
    {
        if (holdout <= 0) return;
        if (train is not ImageSet)
            throw new ArgumentException($"--holdout needs an in-memory dataset ({string.Join(", ", Datasets.InMemoryNames)}); '{datasetName}' is read from files.");
        if (holdout >= train.Count)
            throw new ArgumentException($"--holdout {holdout} leaves no images to train on (the training set has {train.Count}).");
    }

    /// <summary>
    /// Trains until all epochs ran, the token is cancelled (a checkpoint is written after the current step, or,
    /// during an evaluation, of the epoch's finished training) or the loss diverges. With <paramref name="resume"/>,
    /// continues from the run folder's latest checkpoint; otherwise a previous run's files in the folder are replaced.
    /// The data is read, and its classes checked against the model's outputs, before anything is written.
    /// </summary>
    public TrainingResult Run(IDataset dataset, bool resume, CancellationToken cancel = default)
    {
        if (!resume) return Train(dataset, resumeFrom: null, cancel);
        if (!File.Exists(run.LatestCheckpoint)) throw new FileNotFoundException($"Nothing to resume: {run.Path} has no {Checkpoint.LatestFileName}.");
        using var latest = Checkpoint.Open(run.LatestCheckpoint);
        return Train(dataset, latest, cancel);
    }

    /// <summary>
    /// Continues the run from <paramref name="resumeFrom"/>, the run folder's latest checkpoint already opened and
    /// verified (the caller read the run's settings from its header), so the file is read once.
    /// </summary>
    public TrainingResult Run(IDataset dataset, VerifiedCheckpoint resumeFrom, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(resumeFrom);
        return Train(dataset, resumeFrom, cancel);
    }

    /// <summary>A new run, or the run continued from <paramref name="resumeFrom"/>.</summary>
    TrainingResult Train(IDataset dataset, VerifiedCheckpoint? resumeFrom, CancellationToken cancel)
    {
        using var session = Session.Open(requested, run, observer, dataset, resumeFrom, cancel);
        for (int epoch = session.Position.Epoch; epoch < session.Schedule.EpochCount; epoch++)
        {
            var epochRun = new EpochRun(session, epoch);
            if (epochRun.Train(cancel) is { } stopped) return stopped;
            if (EvaluateAndCheckpoint(session, epochRun, cancel) is { } ended) return ended;
        }

        if (session.Last is null && session.Config.Evaluate != "none")
        {
            // Resumed a run that had already finished: evaluate what it holds.
            session.Last = Evaluator.Evaluate(session.Evaluated, session.TestLoader, dataset.Test.ClassNames, observer.EvaluationProgress, cancel, session.Config.FlipTta);
        }
        return session.Result(TrainingOutcome.Completed, "Finished Training");
    }

    /// <summary>
    /// The end of an epoch: the evaluations it is due (held-out images, the test set), its row, and the epoch-end
    /// checkpoint. Returns how the run ends when it ends here (interrupted, diverged), else null.
    /// </summary>
    static TrainingResult? EvaluateAndCheckpoint(Session s, EpochRun e, CancellationToken cancel)
    {
        var config = s.Config;
        int epoch = e.Epoch;
        // Over all sittings: a checkpoint carries the seconds of the epoch's earlier steps, recorded with them.
        double trainSeconds = e.StartBatch == e.EndBatch ? e.CarriedSeconds : e.SecondsSoFar;
        double imagesPerSecond = trainSeconds > 0 ? e.Seen / trainSeconds : double.NaN;
        // Memory is this process's: an epoch it trained no step of (resumed at its evaluation) has no figure.
        bool trainedHere = e.SeenHere > 0;
        double rssAfterTraining = trainedHere ? ResourceUsage.ResidentMiB() : double.NaN;
        double peakRss = trainedHere ? ResourceUsage.PeakResidentMiB() : double.NaN;
        EvaluationResult? validation = null, tested = null;
        try
        {
            if (s.HoldoutLoader is not null)
            {
                s.Observer.EvaluationStarted(epoch, s.Holdout!.Count);
                validation = Evaluator.Evaluate(s.Evaluated, s.HoldoutLoader, s.Holdout.ClassNames, s.Observer.EvaluationProgress, cancel, config.FlipTta);
                s.Board.add_scalar("validation/accuracy", (float)validation.Accuracy, (int)s.Position.GlobalStep);
            }
            bool lastEpoch = epoch + 1 == s.Schedule.EpochCount;
            if ((config.Evaluate == "epoch" && s.HoldoutLoader is null) || (lastEpoch && config.Evaluate != "none"))
            {
                s.Observer.EvaluationStarted(epoch, s.Test.Count);
                tested = s.Last = Evaluator.Evaluate(s.Evaluated, s.TestLoader, s.TestClassNames, s.Observer.EvaluationProgress, cancel, config.FlipTta);
                s.Board.add_scalar("test/accuracy", (float)tested.Accuracy, (int)s.Position.GlobalStep);
                s.Board.add_scalar("test/loss", (float)tested.MeanLoss, (int)s.Position.GlobalStep);
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // The epoch's training is done: keep it; --resume evaluates it.
            s.SaveCheckpoint(epochEnd: false);
            return s.Result(TrainingOutcome.Interrupted,
                $"Interrupted during the evaluation of epoch {epoch + 1} (step {s.Position.GlobalStep}); checkpoint of its training written to {s.Run.LatestCheckpoint}. Continue with --resume.");
        }
        var report = new EpochReport(epoch, s.Position.GlobalStep, e.Seen == 0 ? double.NaN : e.LossSum / e.Seen, e.Seen == 0 ? double.NaN : 100.0 * e.Correct / e.Seen,
            tested?.MeanLoss ?? double.NaN, tested?.Accuracy ?? double.NaN, trainSeconds, imagesPerSecond, e.LearningRate, tested,
            validation, rssAfterTraining, peakRss);
        if (tested is { } t && !double.IsFinite(t.MeanLoss) && t.Total > 0)
            return s.Diverged($"the test loss after epoch {epoch + 1} is {t.MeanLoss} (the weights diverged in the epoch's last steps)");
        s.Metrics.Epoch(report);
        if (trainedHere) s.Board.add_scalar("memory/rss_mb", (float)rssAfterTraining, (int)s.Position.GlobalStep);
        s.Observer.EpochCompleted(report);

        s.Position = new TrainingPosition(epoch + 1, 0, s.Position.GlobalStep);
        s.SaveCheckpoint(epochEnd: true);
        // The evaluation and the checkpoint allocate blocks of other sizes than a training step; give the pages
        // they leave free back to the system, or the heap (never trimmed: AllocatorPolicy) keeps them resident.
        AllocatorPolicy.ReleaseFreeMemory();
        if (cancel.IsCancellationRequested && epoch + 1 < s.Schedule.EpochCount)
            return s.Result(TrainingOutcome.Interrupted,
                $"Interrupted after epoch {epoch + 1}; checkpoint written to {s.Run.LatestCheckpoint}. Continue with --resume.");
        return null;
    }

    /// <summary>
    /// One epoch's training steps, owning the epoch's running totals (loss, correct answers, images, time), which an
    /// epoch resumed in its middle starts from as its checkpoint carried them.
    /// </summary>
    sealed class EpochRun
    {
        readonly Session s;
        readonly Stopwatch clock = Stopwatch.StartNew();

        public EpochRun(Session session, int epoch)
        {
            s = session;
            Epoch = epoch;
            StartBatch = epoch == s.Position.Epoch ? s.Position.Batch : 0;
            EndBatch = s.Schedule.BatchesIn(epoch); // short in a last, fractional epoch
            var carried = StartBatch > 0 ? s.Position.Totals : null;
            // (A checkpoint written before the time was carried leaves the epoch's time unknown: NaN.)
            LossSum = carried?.LossSum ?? 0;
            CarriedSeconds = carried is null ? 0 : carried.Seconds ?? double.NaN;
            Correct = carried?.Correct ?? 0;
            Seen = carried?.Seen ?? 0;
            LearningRate = s.Schedule.At(s.Position.GlobalStep);
        }

        public int Epoch { get; }
        public int StartBatch { get; }
        public int EndBatch { get; }
        public double LossSum { get; private set; }
        public long Correct { get; private set; }
        public long Seen { get; private set; }

        /// <summary>Images this process trained in the epoch (not carried from an earlier sitting).</summary>
        public long SeenHere { get; private set; }

        public double CarriedSeconds { get; }
        public double LearningRate { get; private set; }
        public double SecondsSoFar => CarriedSeconds + clock.Elapsed.TotalSeconds;

        /// <summary>Runs the epoch's steps; returns how the run ends when it ends inside the epoch (interrupted, diverged), else null.</summary>
        public TrainingResult? Train(CancellationToken cancel)
        {
            var config = s.Config;
            s.Observer.EpochStarted(Epoch, s.Schedule.EpochCount, EndBatch, StartBatch);
            s.Model.train();
            if (config.FreezeFeatures) FineTuning.KeepFrozenLayersInEval(s.Model);
            clock.Restart();
            int batchIndex = StartBatch;
            foreach (var batch in StartBatch < EndBatch ? s.TrainLoader.Epoch(Epoch, StartBatch) : [])
            {
                LearningRate = s.Schedule.At(s.Position.GlobalStep);
                Optimizers.SetLearningRate(s.Optimizer, LearningRate);
                using (batch)
                using (torch.NewDisposeScope())
                {
                    s.Optimizer.zero_grad();
                    var logits = s.Model.forward(batch.Images);
                    var lossTensor = TrainingLoss.Compute(logits, batch.Labels, config.LabelSmoothing);
                    lossTensor.backward();
                    s.Optimizer.step();
                    using (torch.no_grad())
                        s.Pending.Add(new PendingSteps.Step(Epoch, batchIndex + 1, s.Position.GlobalStep + 1, batch.Count, LearningRate), lossTensor, logits.argmax(1).eq(batch.Labels).sum());
                }

                batchIndex++;
                s.Position = new TrainingPosition(Epoch, batchIndex, s.Position.GlobalStep + 1);
                s.Average?.Update(s.Position.GlobalStep);
                StepGarbage.Release();

                bool checkpointDue = config.CheckpointEvery > 0 && s.Position.GlobalStep % config.CheckpointEvery == 0;
                if (s.Pending.Count >= config.LogEvery || batchIndex == EndBatch || checkpointDue || cancel.IsCancellationRequested)
                {
                    if (Flush() is { } diverged) return diverged;
                }
                // Once flushed, the sums cover every step so far, so a checkpoint (written only then) carries them.
                if (s.Pending.Count == 0)
                {
                    double seconds = SecondsSoFar;
                    s.Position = s.Position with { Totals = new EpochTotals(LossSum, Correct, Seen, double.IsNaN(seconds) ? null : seconds) };
                }

                if (cancel.IsCancellationRequested)
                {
                    s.SaveCheckpoint(epochEnd: false);
                    return s.Result(TrainingOutcome.Interrupted,
                        $"Interrupted at epoch {Epoch + 1}, batch {batchIndex} (step {s.Position.GlobalStep}); checkpoint written to {s.Run.LatestCheckpoint}. Continue with --resume.");
                }
                if (checkpointDue)
                    s.SaveCheckpoint(epochEnd: false);
                if (batchIndex == EndBatch) break;
            }
            return null;
        }

        // Reads the pending steps' figures back (one synchronization), logs them; a diverged step ends the run.
        TrainingResult? Flush()
        {
            var steps = s.Pending.Read();
            double rss = steps.Count > 0 ? ResourceUsage.ResidentMiB() : double.NaN;
            foreach (var (step, loss, stepCorrect) in steps)
            {
                if (!double.IsFinite(loss))
                    return s.Diverged($"the loss became {loss} at epoch {step.Epoch + 1}, batch {step.Batch - 1} (step {step.GlobalStep})");
                LossSum += loss * step.Images;
                Correct += stepCorrect;
                Seen += step.Images;
                SeenHere += step.Images;
                var report = new StepReport(step.Epoch, step.Batch, EndBatch, step.GlobalStep, loss, 100.0 * stepCorrect / step.Images,
                    LossSum / Seen, 100.0 * Correct / Seen, SeenHere / clock.Elapsed.TotalSeconds, step.LearningRate, rss);
                s.Metrics.Step(report);
                s.Board.add_scalar("train/loss", (float)loss, (int)step.GlobalStep);
                s.Observer.StepCompleted(report);
            }
            return null;
        }
    }

    /// <summary>
    /// Everything a run trains with, set up before its first step: the model (fresh, initialized from a file, or
    /// resumed), optimizer, moving average, the data and its loaders, the schedule, and the run's record files.
    /// Also where the run's checkpoints are written and a diverged run is stopped.
    /// </summary>
    sealed class Session : IDisposable
    {
        // Whether last.ckpt holds the end of an epoch (whose losses were finite) rather than a point inside one.
        bool latestIsEpochEnd;

        Session(TrainConfig config, RunFolder run, ITrainingObserver observer)
        {
            Config = config;
            Run = run;
            Observer = observer;
        }

        /// <summary>The run's configuration as resolved (the normalization chosen); what its checkpoints record.</summary>
        public TrainConfig Config { get; private set; }

        public RunFolder Run { get; }
        public ITrainingObserver Observer { get; }
        public IReadOnlyList<string> ClassNames { get; private set; } = [];
        public IReadOnlyList<string> TestClassNames { get; private set; } = [];
        public nn.Module<Tensor, Tensor> Model { get; private set; } = null!;
        public OptimizerHelper Optimizer { get; private set; } = null!;
        public WeightAverage? Average { get; private set; }
        public nn.Module<Tensor, Tensor> Evaluated => Average?.Model ?? Model;
        public TrainingPosition Position { get; set; } = new(0, 0, 0);
        public IImageSplit Train { get; private set; } = null!;
        public IImageSplit Test { get; private set; } = null!;
        public ImageSet? Holdout { get; private set; }
        public IBatchLoader TrainLoader { get; private set; } = null!;
        public IBatchLoader TestLoader { get; private set; } = null!;
        public IBatchLoader? HoldoutLoader { get; private set; }
        public LearningRateSchedule Schedule { get; private set; } = null!;
        public MetricsLog Metrics { get; private set; } = null!;
        public SummaryWriter Board { get; private set; } = null!;
        public PendingSteps Pending { get; } = new();
        public EvaluationResult? Last { get; set; }

        /// <summary>Sets the run up; nothing is written before the data is read and checked.</summary>
        public static Session Open(TrainConfig config, RunFolder run, ITrainingObserver observer, IDataset dataset, VerifiedCheckpoint? resumeFrom, CancellationToken cancel)
        {
            var s = new Session(config, run, observer);
            try
            {
                s.Start(dataset, resumeFrom, cancel);
                return s;
            }
            catch
            {
                s.Dispose();
                throw;
            }
        }

        void Start(IDataset dataset, VerifiedCheckpoint? resumeFrom, CancellationToken cancel)
        {
            bool resume = resumeFrom is not null;
            var entry = ModelCatalog.Get(Config.Model);
            var device = Devices.Resolve(Config.Device);
            Devices.SetThreads(Config.Threads);
            Run.Create();

            torch.manual_seed(Config.Seed);
            ClassNames = dataset.Train.ClassNames; // the model's class count follows the dataset
            ClassCount.CheckTrainable(ClassNames, $"'{dataset.Name}'");
            Model = entry.Create(ClassNames.Count);
            Interop.PartialLoadReport? initialized = null;
            if (Config.Init is { } init && !resume)
            {
                initialized = FineTuning.Initialize(Model, entry, init);
                Observer.Message(initialized.Summary(Model.state_dict().Count));
            }
            if (Config.FreezeFeatures)
                Observer.Message($"Training only the classifier ({FineTuning.FreezeFeatures(Model, entry):N0} parameters); the features are frozen.");
            Config = Config with { Normalization = FineTuning.ChooseNormalization(Config, dataset, initialized) };
            Model.to(device);
            Optimizer = Optimizers.Create(Config, Model);
            Average = Config.Ema > 0 ? CreateAverage(entry, device) : null;

            if (resumeFrom is not null)
            {
                var header = Checkpoint.Load(resumeFrom, Model, Optimizer, average: Average?.Model);
                Position = header.Position;
                Observer.Message($"Resumed from {resumeFrom.Path} at epoch {Position.Epoch + 1}, batch {Position.Batch} (step {Position.GlobalStep}).");
            }
            latestIsEpochEnd = resume && Position.Batch == 0;

            // Read the data now (a stop request or a bad file ends the run here, before anything is written).
            FaultInjection.Reach("load-data", cancel);
            Train = Config.Limit > 0 ? dataset.Train.Take(Config.Limit) : dataset.Train;
            Test = Config.TestLimit > 0 ? dataset.Test.Take(Config.TestLimit) : dataset.Test;
            TestClassNames = dataset.Test.ClassNames;
            cancel.ThrowIfCancellationRequested();
            if (Config.Holdout > 0)
            {
                RequireHoldout(Config.Holdout, Train, dataset.Name);
                var inMemory = (ImageSet)Train;
                Holdout = inMemory.Slice(Train.Count - Config.Holdout, Config.Holdout);
                Train = inMemory.Take(Train.Count - Config.Holdout);
            }
            Observer.Message($"Data: {Train.Count} training images, {Test.Count} test images{(Holdout is null ? "" : $", {Holdout.Count} held out")} ({dataset.Name}).");
            int channels = entry.Facts.InputChannels, size = entry.Facts.InputSize;
            // The classifier was built for the training split's classes (a checkpoint's weights were checked against it
            // when loaded); the test split must have as many.
            string modelName = resume ? $"the checkpoint's {Config.Model}" : Config.Model;
            ClassCount.Check(ClassNames.Count, modelName, dataset.Test.ClassNames, $"'{dataset.Name}' (test split)");

            if (!resume) Run.ClearRun();
            PrepareLayouts(channels, size);
            RecordLayouts();
            var normalization = Config.Normalization!.ToNormalization();
            TrainLoader = Train.CreateLoader(new LoaderOptions(normalization, Config.BatchSize, Train: true, Config.Seed, device, channels, size, Config.CropPadding));
            TestLoader = Test.CreateLoader(new LoaderOptions(normalization, Config.BatchSize, Train: false, Config.Seed, device, channels, size));
            HoldoutLoader = Holdout?.CreateLoader(new LoaderOptions(normalization, Config.BatchSize, Train: false, Config.Seed, device, channels, size));
            Schedule = LearningRateSchedule.For(Config, TrainLoader.BatchesPerEpoch);
            Metrics = new MetricsLog(Run.Metrics, Position.GlobalStep);
            Board = torch.utils.tensorboard.SummaryWriter(Run.TensorBoard, createRunName: false);
        }

        /// <summary>Training images processed by the whole run (all sittings) up to <see cref="Position"/>.</summary>
        long ImagesSeen => Position.GlobalStep / TrainLoader.BatchesPerEpoch * Train.Count
                           + Math.Min(Position.GlobalStep % TrainLoader.BatchesPerEpoch * Config.BatchSize, Train.Count);

        public TrainingResult Result(TrainingOutcome outcome, string message) => new(outcome, Position, Last, message, ImagesSeen, Train.Count);

        /// <summary>
        /// Decides the path of every convolution for the batches this run will meet (full and last, in training and in
        /// evaluation) before the first step, so that the checks this needs run while no activation is held
        /// (<see cref="VerifiedLayout.Prepare"/>: on tensors of their own, never on the model).
        /// </summary>
        void PrepareLayouts(int channels, int size)
        {
            foreach (int batch in Batches(Train.Count))
                VerifiedLayout.Prepare(Model, [batch, channels, size, size], training: true);
            var evaluated = new List<int>();
            if (Config.Evaluate != "none") evaluated.AddRange(Batches(Test.Count));
            if (Holdout is not null) evaluated.AddRange(Batches(Holdout.Count));
            foreach (int batch in evaluated.Distinct())
                VerifiedLayout.Prepare(Evaluated, [batch, channels, size, size], training: false);

            IEnumerable<int> Batches(int count)
            {
                if (count == 0) yield break;
                yield return Math.Min(Config.BatchSize, count);
                if (count > Config.BatchSize && count % Config.BatchSize != 0) yield return count % Config.BatchSize;
            }
        }

        /// <summary>
        /// Writes config.json: the configuration and the path each convolution took (<see cref="VerifiedLayout"/>), in the
        /// model trained and in the moving average evaluated: at the start, the paths prepared for the run's batches, and
        /// again with every checkpoint, with anything met since that was not foreseen.
        /// </summary>
        public void RecordLayouts()
        {
            var models = new List<(string, IReadOnlyList<LayoutEntry>)> { ("model", VerifiedLayout.Report(Model)) };
            if (Average is not null) models.Add(("average", VerifiedLayout.Report(Average.Model)));
            AtomicFile.WriteAllText(Run.Config, LayoutRecord.AddTo(Config.ToJson(), models.ToArray()));
        }

        /// <summary>The moving average of the weights, started at the fresh model's; torch's RNG is left as it was, so the run is otherwise the same as without it.</summary>
        WeightAverage CreateAverage(CatalogEntry entry, Device device)
        {
            using var rng = torch.random.get_rng_state();
            var copy = entry.Create(ClassNames.Count);
            torch.random.set_rng_state(rng);
            copy.to(device);
            return new WeightAverage(Model, copy, Config.Ema);
        }

        /// <summary>
        /// Writes last.ckpt at <see cref="Position"/>. Before a checkpoint from inside an epoch replaces one from an
        /// epoch's end, that one is kept as last-epoch.ckpt (the weights inside an epoch are not yet checked by an
        /// evaluation; see <see cref="Diverged"/>).
        /// </summary>
        public void SaveCheckpoint(bool epochEnd)
        {
            if (!epochEnd && latestIsEpochEnd && File.Exists(Run.LatestCheckpoint))
                AtomicFile.Write(Run.LastEpochCheckpoint, copy =>
                {
                    using var source = new FileStream(Run.LatestCheckpoint, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
                    source.CopyTo(copy);
                });
            var header = new CheckpointHeader(Config.Model, Position, Config, DateTime.UtcNow.ToString("O")) { ClassNames = ClassNames };
            Checkpoint.Save(Run.LatestCheckpoint, header, Model, Optimizer, Average?.Model);
            RecordLayouts();
            if (epochEnd && File.Exists(Run.LastEpochCheckpoint)) File.Delete(Run.LastEpochCheckpoint);
            latestIsEpochEnd = epochEnd;
            Observer.CheckpointWritten(Run.LatestCheckpoint, Position);
        }

        /// <summary>
        /// Stops a diverged run, leaving in last.ckpt the checkpoint of the last epoch whose losses were finite: a
        /// checkpoint from inside the diverging epoch may already hold exploded weights, so it is replaced by
        /// last-epoch.ckpt (or removed when no epoch had ended yet).
        /// </summary>
        public TrainingResult Diverged(string what)
        {
            string kept;
            if (!File.Exists(Run.LatestCheckpoint))
            {
                kept = "No checkpoint had been written yet; start again with --overwrite and a lower --lr.";
            }
            else
            {
                if (!latestIsEpochEnd)
                {
                    if (File.Exists(Run.LastEpochCheckpoint)) File.Move(Run.LastEpochCheckpoint, Run.LatestCheckpoint, overwrite: true);
                    else File.Delete(Run.LatestCheckpoint);
                }
                var good = File.Exists(Run.LatestCheckpoint) ? Checkpoint.ReadHeader(Run.LatestCheckpoint).Position : null;
                kept = good is null
                    ? "No epoch had ended with finite losses, so no checkpoint is kept (the one from inside the epoch could hold diverged weights); start again with --overwrite and a lower --lr."
                    : good.Epoch == 0
                        ? $"{Run.LatestCheckpoint} holds the run's starting point (step {good.GlobalStep}); continue with --resume and a lower --lr."
                        : $"{Run.LatestCheckpoint} holds the end of epoch {good.Epoch} (step {good.GlobalStep}), the last epoch whose losses were finite; continue from it with --resume and a lower --lr.";
            }
            return new TrainingResult(TrainingOutcome.Diverged, Position, Last, $"Training diverged: {what}. {kept}");
        }

        public void Dispose()
        {
            Pending.Dispose();
            Metrics?.Dispose();
            Average?.Dispose();
            Optimizer?.Dispose();
            Model?.Dispose();
        }
    }

    sealed class NullObserver : ITrainingObserver;
}
