using System.Globalization;
using ArchGen.App.Cli;
using ArchGen.Checkpoints;
using ArchGen.Training;
using Spectre.Console;

namespace ArchGen.App.Reporting;

/// <summary>
/// Shows training as it happens: live progress bars (loss, accuracy, images/s) on a terminal, plain lines in the
/// reference exercise's style when the output is redirected, and a summary table of the epochs at the end.
/// </summary>
public static class TrainingProgressView
{
    public static TrainingResult Show(Func<ITrainingObserver, TrainingResult> train)
    {
        var epochs = new List<EpochReport>();
        TrainingResult result;
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            result = AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(context => train(new LiveObserver(context, epochs)));
        }
        else
        {
            result = train(new PlainObserver(epochs));
        }
        if (epochs.Count > 0) AnsiConsole.Write(SummaryTable(epochs));
        return result;
    }

    static Table SummaryTable(IEnumerable<EpochReport> epochs)
    {
        var table = new Table().Title("Training summary").AddColumns("Epoch", "Train loss", "Train acc %", "Held-out acc %", "Test loss", "Test acc %", "Images/s", "Seconds", "RSS MiB");
        foreach (var e in epochs)
            table.AddRow(N(e.Epoch + 1, "0"), N(e.TrainLoss, "F4"), N(e.TrainAccuracy, "F2"), N(e.Validation?.Accuracy ?? double.NaN, "F2"), N(e.TestLoss, "F4"), N(e.TestAccuracy, "F2"),
                N(e.ImagesPerSecond, "F1"), N(e.Seconds, "F1"), N(e.ResidentMiB, "F0"));
        return table;
    }

    static string N(double value, string format) => double.IsNaN(value) ? "-" : value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>What an epoch's evaluations found, e.g. "test loss 0.3012, test acc 91.20%", or that there were none.</summary>
    static string Evaluations(EpochReport e)
    {
        var parts = new List<string>();
        if (e.Validation is { } v) parts.Add($"held-out loss {N(v.MeanLoss, "F4")}, held-out acc {N(v.Accuracy, "F2")}%");
        if (e.Evaluation is not null) parts.Add($"test loss {N(e.TestLoss, "F4")}, test acc {N(e.TestAccuracy, "F2")}%");
        return parts.Count == 0 ? "not evaluated" : string.Join(", ", parts);
    }

    sealed class LiveObserver(ProgressContext context, List<EpochReport> epochs) : ITrainingObserver
    {
        ProgressTask? current;
        ProgressTask? evaluation;

        public void EpochStarted(int epoch, int total, int batchesPerEpoch, int startBatch)
        {
            current = context.AddTask($"Epoch {epoch + 1}/{total}", maxValue: Math.Max(batchesPerEpoch, 1));
            current.Value = startBatch;
        }

        public void StepCompleted(StepReport s)
        {
            if (current is null) return;
            current.Value = s.Batch;
            current.Description = $"Epoch {s.Epoch + 1} loss {N(s.RunningLoss, "F3")} acc {N(s.RunningAccuracy, "F1")}% {N(s.ImagesPerSecond, "F0")} img/s";
        }

        public void EvaluationStarted(int epoch, int images) => evaluation = context.AddTask($"  Evaluation {epoch + 1}", maxValue: Math.Max(images, 1));

        public void EvaluationProgress(int done)
        {
            if (evaluation is not null) evaluation.Value = done;
        }

        public void EpochCompleted(EpochReport e)
        {
            epochs.Add(e);
            if (evaluation is not null) evaluation.Description = $"  Evaluation {e.Epoch + 1}: {Evaluations(e)}";
        }

        public void Message(string text) => AnsiConsole.MarkupLine(Terminal.Markup(text));
    }

    sealed class PlainObserver(List<EpochReport> epochs) : ITrainingObserver
    {
        public void StepCompleted(StepReport s)
        {
            if (s.Batch == 1 || s.Batch % 100 == 0 || s.Batch == s.BatchesPerEpoch)
                Console.WriteLine($"Epoch: {s.Epoch + 1} Minibatch: {s.Batch,5} loss: {N(s.Loss, "F3")} acc: {N(s.RunningAccuracy, "F1")}% {N(s.ImagesPerSecond, "F1")} img/s");
        }

        public void EpochCompleted(EpochReport e)
        {
            epochs.Add(e);
            Console.WriteLine($"Epoch {e.Epoch + 1}: train loss {N(e.TrainLoss, "F4")}, train acc {N(e.TrainAccuracy, "F2")}%, {Evaluations(e)} ({N(e.Seconds, "F1")} s, {N(e.ImagesPerSecond, "F1")} img/s, RSS {N(e.ResidentMiB, "F0")} MiB)");
        }

        public void CheckpointWritten(string path, TrainingPosition position) =>
            Console.WriteLine($"Checkpoint: {path} (step {position.GlobalStep}; resumes at epoch {position.Epoch + 1}, batch {position.Batch})");

        public void Message(string text) => Console.WriteLine(text);
    }
}
