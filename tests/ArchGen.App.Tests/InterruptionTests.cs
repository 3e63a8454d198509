using System.Diagnostics;

namespace ArchGen.App.Tests;

/// <summary>
/// SIGTERM/SIGINT outside a training step (issue 15): the first stops at the next safe point wherever the program
/// is (loading, evaluation), a second exits at once with 130, and nothing half-written is left. The program is held
/// at those places with the ARCHGEN_FAULT test hook: <c>stall</c> blocks like a read from a FIFO, <c>pause</c> is
/// work that checks for a stop request.
/// </summary>
public class InterruptionTests
{
    static readonly string[] Train = EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "32", "--seed", "4");

    static Dictionary<string, string> Fault(string value) => new() { ["ARCHGEN_FAULT"] = value };

    [Fact]
    public void ASecondSignalExitsAtOnceWhileLoadingIsBlocked()
    {
        using var dir = new TempDir();
        using var app = AppProcess.Start(dir.Path, Fault("stall@load-data"), [.. Train, "--out", "run"]);
        app.WaitUntil(() => app.Err.Contains("ARCHGEN_FAULT: stall at load-data", StringComparison.Ordinal), "the blocked load");

        app.Signal("TERM");
        app.WaitUntil(() => app.Err.Contains("Stopping at the next safe point", StringComparison.Ordinal), "the first signal's message", 30);
        Thread.Sleep(500);
        Assert.False(HasExited(app), "a blocked read cannot reach a safe point; the first signal only asks");

        var clock = Stopwatch.StartNew();
        app.Signal("TERM");
        var (code, _, err) = app.WaitForExit(30);
        Assert.True(code == 130, $"exit {code}: {err}");
        Assert.True(clock.Elapsed.TotalSeconds < 10, $"took {clock.Elapsed.TotalSeconds:F1} s to exit");
        Assert.Contains("exiting at once", err);
        Assert.False(File.Exists(dir["run/config.json"]));
        Assert.False(File.Exists(dir["run/last.ckpt"]));
        Assert.Empty(Directory.Exists(dir["run"]) ? Directory.GetFiles(dir["run"], "*.tmp") : []);
    }

    [Fact]
    public void TheFirstSignalDuringLoadingStopsBeforeAnythingIsWritten()
    {
        using var dir = new TempDir();
        using var app = AppProcess.Start(dir.Path, Fault("pause@load-data"), [.. Train, "--out", "run"]);
        app.WaitUntil(() => app.Err.Contains("ARCHGEN_FAULT: pause at load-data", StringComparison.Ordinal), "loading");
        app.Signal("INT");
        var (code, _, err) = app.WaitForExit(60);
        Assert.True(code == 130, $"exit {code}: {err}");
        Assert.Contains("nothing was written", err);
        Assert.False(Directory.Exists(dir["run"]), "the run folder this run created (empty) is removed");
    }

    /// <summary>
    /// Stopped during the end-of-epoch evaluation, the epoch's training is kept in a checkpoint; the resumed run
    /// evaluates it and its epoch row (training loss and accuracy over the whole epoch) equals an uninterrupted run's.
    /// </summary>
    [Fact]
    public void TheFirstSignalDuringEvaluationKeepsTheEpochsTraining()
    {
        using var dir = new TempDir();
        var straight = AppProcess.Run(dir.Path, [.. Train, "--out", "straight"]);
        Assert.True(straight.ExitCode == 0, straight.Out + straight.Err);

        using (var app = AppProcess.Start(dir.Path, Fault("pause@evaluate"), [.. Train, "--out", "split"]))
        {
            app.WaitUntil(() => app.Err.Contains("ARCHGEN_FAULT: pause at evaluate", StringComparison.Ordinal), "the evaluation");
            app.Signal("TERM");
            var (code, _, err) = app.WaitForExit(60);
            Assert.True(code == 130, $"exit {code}: {err}");
            Assert.Contains("during the evaluation of epoch 1", err);
        }
        var resumed = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--out", "split", "--resume"));
        Assert.True(resumed.ExitCode == 0, resumed.Out + resumed.Err);
        Assert.Equal(EpochFigures(dir["straight"]), EpochFigures(dir["split"]));
        EndToEndTests.AssertSameWeights(dir, "straight", "split");

        // test stops in its evaluation the same way (it writes nothing until the end).
        using var tester = AppProcess.Start(dir.Path, Fault("pause@evaluate"), "test", "--checkpoint", "split", "--device", "cpu", "--threads", "2", "--batch-size", "8", "--test-limit", "32");
        tester.WaitUntil(() => tester.Err.Contains("ARCHGEN_FAULT: pause at evaluate", StringComparison.Ordinal), "test's evaluation");
        tester.Signal("TERM");
        var (testCode, _, testErr) = tester.WaitForExit(60);
        Assert.True(testCode == 130, $"exit {testCode}: {testErr}");
        Assert.Contains("nothing was written", testErr);
    }

    /// <summary>The training figures of each epoch row of metrics.csv: epoch, step, loss, accuracy, test loss, test accuracy, lr.</summary>
    internal static List<string> EpochFigures(string run) =>
        File.ReadAllLines(Path.Combine(run, "metrics.csv")).Where(l => l.StartsWith("epoch,", StringComparison.Ordinal))
            .Select(l => string.Join(',', l.Split(',').Take(8))).ToList();

    static bool HasExited(AppProcess app)
    {
        try
        {
            using var p = Process.GetProcessById(app.Id);
            return p.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }
}
