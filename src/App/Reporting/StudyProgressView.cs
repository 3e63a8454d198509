using System.Globalization;
using ArchGen.Studies;
using ArchGen.Training;
using Spectre.Console;

namespace ArchGen.App.Reporting;

/// <summary>What a study reports while it runs: which run starts and finishes, and, through <see cref="Observer"/>, how far the current run is.</summary>
public sealed class StudyProgress
{
    readonly Action<string> describe;
    readonly Action<double> advance;
    readonly Action<string> line;
    readonly int runs;
    int done;

    internal StudyProgress(int runs, int done, Action<string> describe, Action<double> advance, Action<string> line)
    {
        this.runs = runs;
        this.done = done;
        this.describe = describe;
        this.advance = advance;
        this.line = line;
        Observer = new RunObserver(this);
    }

    /// <summary>Receives the current run's training events.</summary>
    public ITrainingObserver Observer { get; }

    public void Starting(string model, int seed)
    {
        string text = $"run {(done + 1).ToString(CultureInfo.InvariantCulture)}/{runs.ToString(CultureInfo.InvariantCulture)}: {model}, seed {seed.ToString(CultureInfo.InvariantCulture)}";
        describe(text);
        line(text[..1].ToUpperInvariant() + text[1..]);
        advance(done);
    }

    public void Finished(StudyRun run)
    {
        done++;
        advance(done);
        line(string.Create(CultureInfo.InvariantCulture, $"{run.Model}, seed {run.Seed}: test accuracy {run.TestAccuracy:F2} % ({run.Seconds:F1} s of training)"));
    }

    sealed class RunObserver(StudyProgress owner) : ITrainingObserver
    {
        int epochs = 1, batches = 1;

        public void EpochStarted(int epoch, int epochs, int batchesPerEpoch, int startBatch)
        {
            this.epochs = Math.Max(1, epochs);
            batches = Math.Max(1, batchesPerEpoch);
        }

        public void StepCompleted(StepReport step) =>
            owner.advance(owner.done + Math.Clamp(((double)step.Epoch * batches + step.Batch) / ((double)epochs * batches), 0, 1));
    }
}

/// <summary>One progress bar for a whole study (runs done and left, the time to go) on a terminal; one line per run when the output is redirected.</summary>
public static class StudyProgressView
{
    public static T Show<T>(int runs, int alreadyDone, Func<StudyProgress, T> body)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
            return body(new StudyProgress(runs, alreadyDone, _ => { }, _ => { }, Console.WriteLine));
        return AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("study", maxValue: runs);
                return body(new StudyProgress(runs, alreadyDone, text => task.Description = Markup.Escape(text), value => task.Value = value, _ => { }));
            });
    }
}
