using ArchGen.Checkpoints;

namespace ArchGen.Training;

/// <summary>One optimizer step, as the progress display and the metrics log see it.</summary>
/// <param name="Loss">This step's mean loss.</param>
/// <param name="Accuracy">This step's training accuracy in percent.</param>
/// <param name="RunningLoss">Mean loss over the epoch so far.</param>
/// <param name="RunningAccuracy">Training accuracy over the epoch so far, in percent.</param>
/// <param name="ImagesPerSecond">Throughput of this epoch so far.</param>
/// <param name="ResidentMiB">Resident memory of the process when the step was logged.</param>
public sealed record StepReport(int Epoch, int Batch, int BatchesPerEpoch, long GlobalStep, double Loss, double Accuracy,
    double RunningLoss, double RunningAccuracy, double ImagesPerSecond, double LearningRate, double ResidentMiB = double.NaN);

/// <summary>
/// One finished epoch: training figures, the test-set evaluation (null, with NaN figures, when the run evaluates
/// only at its end), the held-out images' evaluation (<c>--holdout</c>) and the resident memory after the epoch's training.
/// </summary>
public sealed record EpochReport(int Epoch, long GlobalStep, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy,
    double Seconds, double ImagesPerSecond, double LearningRate, EvaluationResult? Evaluation,
    EvaluationResult? Validation = null, double ResidentMiB = double.NaN, double PeakResidentMiB = double.NaN);

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
