using ArchGen.Checkpoints;

namespace ArchGen.Training;

/// <summary>One optimizer step, as the progress display and the metrics log see it.</summary>
/// <param name="Loss">This step's mean loss.</param>
/// <param name="Accuracy">This step's training accuracy in percent.</param>
/// <param name="RunningLoss">Mean loss over the epoch so far.</param>
/// <param name="RunningAccuracy">Training accuracy over the epoch so far, in percent.</param>
/// <param name="ImagesPerSecond">Throughput of this epoch so far.</param>
public sealed record StepReport(int Epoch, int Batch, int BatchesPerEpoch, long GlobalStep, double Loss, double Accuracy,
    double RunningLoss, double RunningAccuracy, double ImagesPerSecond, double LearningRate);

/// <summary>One finished epoch: training figures and the test-set evaluation.</summary>
public sealed record EpochReport(int Epoch, long GlobalStep, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy,
    double Seconds, double ImagesPerSecond, double LearningRate, EvaluationResult Evaluation);

/// <summary>Receives training events; the command-line app renders them as progress bars.</summary>
public interface ITrainingObserver
{
    void EpochStarted(int epoch, int epochs, int batchesPerEpoch, int startBatch) { }
    void StepCompleted(StepReport step) { }
    void EvaluationStarted(int epoch, int images) { }
    void EvaluationProgress(int imagesDone) { }
    void EpochCompleted(EpochReport epoch) { }
    void CheckpointWritten(string path, TrainingPosition position) { }
    void Message(string text) { }
}
