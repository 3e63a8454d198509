using System.Security.Cryptography;

namespace ArchGen.App.Tests;

/// <summary>One finished tiny run (synthetic data, 1 epoch of 4 steps), trained once and copied by the tests that change it.</summary>
public sealed class FinishedRun : IDisposable
{
    readonly TempDir dir = new();

    public FinishedRun()
    {
        var (code, output, err) = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "64", "--seed", "1", "--out", "run"));
        Assert.True(code == 0, $"exit {code}\n{output}\n{err}");
    }

    public string Path => dir["run"];

    /// <summary>Copies the run folder to <paramref name="target"/>.</summary>
    public void CopyTo(string target)
    {
        foreach (string file in Directory.GetFiles(Path, "*", SearchOption.AllDirectories))
        {
            string to = System.IO.Path.Combine(target, System.IO.Path.GetRelativePath(Path, file));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
    }

    public void Dispose() => dir.Dispose();
}

/// <summary>
/// A run folder is never lost or mixed: a finished run is not overwritten without --overwrite, one process writes a
/// folder at a time, --resume keeps the run's settings, and a diverged run keeps its last good epoch (issue 15).
/// </summary>
public class RunFolderTests(FinishedRun finished) : IClassFixture<FinishedRun>
{
    static readonly string[] RunFiles = ["last.ckpt", "config.json", "metrics.csv"];

    static Dictionary<string, string> Hashes(string run) =>
        RunFiles.ToDictionary(f => f, f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(run, f)))));

    [Fact]
    public void AFolderThatHoldsARunIsRefusedWithoutResumeOrOverwrite()
    {
        using var dir = new TempDir();
        finished.CopyTo(dir["a"]);
        var before = Hashes(dir["a"]);

        var again = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "32", "--seed", "7", "--out", "a"));
        Assert.True(again.ExitCode == 2, $"exit {again.ExitCode}\n{again.Out}\n{again.Err}");
        EndToEndTests.AssertOneLineError(again.Err);
        Assert.Contains("already holds a run", again.Err);
        Assert.Contains("--resume", again.Err);
        Assert.Contains("--overwrite", again.Err);
        Assert.Equal(before, Hashes(dir["a"]));

        var overwritten = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "32", "--seed", "7", "--out", "a", "--overwrite"));
        Assert.True(overwritten.ExitCode == 0, overwritten.Out + overwritten.Err);
        Assert.Contains("\"seed\": 7", File.ReadAllText(dir["a/config.json"]));
        Assert.Equal(2, EndToEndTests.StepRows(dir["a"])); // the old run's rows are gone, not mixed in
    }

    [Fact]
    public void ASecondProcessOnARunFolderIsRefusedNamingTheHolderWhileReadersStillWork()
    {
        using var dir = new TempDir();
        string[] train = EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "64", "--seed", "1", "--checkpoint-every", "1", "--out", "c");
        // The first run stalls holding the lock, just after its second checkpoint is in place.
        var stall = new Dictionary<string, string> { ["ARCHGEN_FAULT"] = "stall@last.ckpt:after-rename#2" };
        using (var first = AppProcess.Start(dir.Path, stall, train))
        {
            first.WaitUntil(() => first.Err.Contains("ARCHGEN_FAULT: stall", StringComparison.Ordinal), "the first run's second checkpoint");
            string config = File.ReadAllText(dir["c/config.json"]);

            var second = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "64", "--seed", "2", "--lr", "0.01", "--out", "c"));
            Assert.True(second.ExitCode == 1, $"exit {second.ExitCode}\n{second.Out}\n{second.Err}");
            EndToEndTests.AssertOneLineError(second.Err);
            Assert.Contains(dir["c"], second.Err);
            Assert.Contains($"PID {first.Id}", second.Err);
            Assert.Equal(config, File.ReadAllText(dir["c/config.json"]));

            var resume = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--out", "c", "--resume"));
            Assert.Equal(1, resume.ExitCode);
            Assert.Contains($"PID {first.Id}", resume.Err);

            // Readers need no lock: test and export read the latest complete checkpoint.
            var test = AppProcess.Run(dir.Path, "test", "--checkpoint", "c", "--test-limit", "16", "--device", "cpu", "--threads", "2");
            Assert.True(test.ExitCode == 0, test.Out + test.Err);
            Assert.Contains($"in use by PID {first.Id}", test.Out);
            var export = AppProcess.Run(dir.Path, "export", "--checkpoint", "c", "--to", "c.safetensors");
            Assert.True(export.ExitCode == 0, export.Out + export.Err);

            first.Signal("KILL");
            first.WaitForExit();
        }

        // The OS released the killed holder's lock.
        var resumed = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--out", "c", "--resume"));
        Assert.True(resumed.ExitCode == 0, resumed.Out + resumed.Err);
        Assert.Contains("(step 2)", resumed.Out);
        Assert.Equal(4, EndToEndTests.StepRows(dir["c"]));
    }

    [Fact]
    public void ResumeSaysWhereItsSettingsComeFromAcceptsTheLearningRateAndRefusesTheRest()
    {
        using var dir = new TempDir();
        finished.CopyTo(dir["r"]);
        File.WriteAllText(dir["r/config.json"], "{ this is not json"); // the checkpoint holds the settings

        var refused = AppProcess.Run(dir.Path, "train", "--out", "r", "--resume", "--epochs", "2", "--dataset", "cifar10", "--seed", "9", "--batch-size", "32", "--device", "cpu", "--threads", "2",
            "--label-smoothing", "0.2", "--decay-norm-bias", "false", "--recipe", "reference");
        Assert.True(refused.ExitCode == 2, $"exit {refused.ExitCode}\n{refused.Out}\n{refused.Err}");
        EndToEndTests.AssertOneLineError(refused.Err);
        foreach (string option in new[] { "--dataset cifar10", "--seed 9", "--batch-size 32", "--label-smoothing 0.2", "--decay-norm-bias False", "--recipe reference" })
            Assert.Contains(option, refused.Err);
        Assert.DoesNotContain("--epochs 2 (the run has", refused.Err);

        var accepted = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--out", "r", "--resume", "--epochs", "2", "--lr", "0.0005", "--seed", "1", "--flip-tta", "--log-every", "3"));
        Assert.True(accepted.ExitCode == 0, accepted.Out + accepted.Err);
        Assert.Contains("Settings from the checkpoint: model CifarMobileNetV2, dataset synthetic, batch size 16", accepted.Out);
        Assert.Contains("--lr 0.0005 (was 0.001)", accepted.Out); // a new run records the rate its default resolved to
        Assert.Contains("--flip-tta True (was False)", accepted.Out); // evaluation settings may change
        Assert.Contains("--epochs 2 (was 1)", accepted.Out);
        Assert.Contains("\"learningRate\": 0.0005", File.ReadAllText(dir["r/config.json"]));
        Assert.Equal(8, EndToEndTests.StepRows(dir["r"]));
    }

    /// <summary>
    /// A run resumed with a learning rate of 1e30 diverges in its second epoch, after a checkpoint from inside that
    /// epoch was written: the folder goes back to the end of epoch 1 (the last epoch whose losses were finite), says
    /// so on stderr with exit code 3, and resumes from there with a sane rate. A fresh run at 1e30 keeps nothing.
    /// </summary>
    [Fact]
    public void DivergenceKeepsTheLastEpochWhoseLossWasFiniteAndSaysSoOnStderr()
    {
        using var dir = new TempDir();
        finished.CopyTo(dir["n"]);
        var diverged = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--out", "n", "--resume", "--epochs", "2", "--lr", "1e30", "--checkpoint-every", "1"));
        Assert.True(diverged.ExitCode == 3, $"exit {diverged.ExitCode}\n{diverged.Out}\n{diverged.Err}");
        EndToEndTests.AssertOneLineError(diverged.Err.Split('\n').Last(l => l.Length > 0));
        Assert.Contains("holds the end of epoch 1 (step 4)", diverged.Err);
        Assert.DoesNotContain("diverged", diverged.Out);
        Assert.False(File.Exists(dir["n/last-epoch.ckpt"]));
        File.Copy(Path.Combine(finished.Path, "last.ckpt"), dir["finished.ckpt"]);
        EndToEndTests.AssertSameWeights(dir, "finished.ckpt", "n");

        var again = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--out", "n", "--resume", "--epochs", "2", "--lr", "0.0005"));
        Assert.True(again.ExitCode == 0, again.Out + again.Err);
        Assert.Contains("Resumed from", again.Out);

        var fresh = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "64", "--lr", "1e30", "--checkpoint-every", "1", "--out", "boom"));
        Assert.Equal(3, fresh.ExitCode);
        Assert.Contains("no checkpoint is kept", fresh.Err);
        Assert.False(File.Exists(dir["boom/last.ckpt"]));
    }

    [Fact]
    public void AFlippedByteInACheckpointIsDamagedExitCode1()
    {
        using var dir = new TempDir();
        byte[] bytes = File.ReadAllBytes(Path.Combine(finished.Path, "last.ckpt"));
        int at = bytes.AsSpan().IndexOf("CifarMobileNetV2"u8);
        bytes[at + 3] ^= 0x02;
        File.WriteAllBytes(dir["flipped.ckpt"], bytes);

        var test = AppProcess.Run(dir.Path, "test", "--checkpoint", "flipped.ckpt", "--device", "cpu");
        Assert.True(test.ExitCode == 1, $"exit {test.ExitCode}\n{test.Out}\n{test.Err}");
        EndToEndTests.AssertOneLineError(test.Err);
        Assert.Contains("flipped.ckpt", test.Err);
        Assert.Contains("damaged", test.Err);
    }
}
