namespace ArchGen.App.Tests;

/// <summary>The uninterrupted run every killed run must end up equal to: 2 epochs of 3 steps, a checkpoint every 2 steps.</summary>
public sealed class StraightRun : IDisposable
{
    public static readonly string[] Train = EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "2", "--limit", "48", "--seed", "9", "--checkpoint-every", "2");

    public TempDir Dir { get; } = new();

    public StraightRun()
    {
        var (code, output, err) = AppProcess.Run(Dir.Path, [.. Train, "--out", "straight"]);
        Assert.True(code == 0, $"exit {code}\n{output}\n{err}");
    }

    /// <summary>
    /// Everything a checkpoint holds after its header (which has a timestamp): the RNG state, the weights and the
    /// optimizer state, byte for byte.
    /// </summary>
    public static byte[] State(string run)
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(run, "last.ckpt"));
        using var reader = new BinaryReader(new MemoryStream(bytes));
        reader.ReadString(); // magic
        reader.ReadInt32(); // format version
        reader.ReadString(); // header (JSON)
        return bytes[(int)reader.BaseStream.Position..^32];
    }

    public void Dispose() => Dir.Dispose();
}

/// <summary>
/// Kills the training process (SIGKILL: no cleanup runs) at each point of a run folder's writes, and checks that the
/// folder always resumes to the uninterrupted run's final weights, optimizer state and epoch rows, and that no temporary file
/// survives the restart (issue 15). The run writes last.ckpt five times (steps 2, 3 = end of epoch 1, 4, 6, 6 = end
/// of epoch 2); the third write (step 4, inside epoch 2) first copies the epoch-1 checkpoint to last-epoch.ckpt.
/// </summary>
public class FaultInjectionTests(StraightRun straight) : IClassFixture<StraightRun>
{
    [Theory]
    [InlineData("kill@last.ckpt:before-temp#3")]
    [InlineData("kill@last.ckpt:after-fsync#3")]
    [InlineData("kill@last.ckpt:before-rename#3")]
    [InlineData("kill@last.ckpt:after-rename#3")]
    [InlineData("kill@last.ckpt:after-fsync#2")]
    [InlineData("kill@last-epoch.ckpt:after-fsync#1")]
    [InlineData("kill@metrics.csv:after-write#1")]
    public void AKillAtAnyWritePointResumesToTheSameFinalWeights(string fault)
    {
        using var dir = new TempDir();
        var killed = AppProcess.Run(dir.Path, new Dictionary<string, string> { ["ARCHGEN_FAULT"] = fault }, 600, [.. StraightRun.Train, "--out", "run"]);
        Assert.True(killed.ExitCode == 137, $"expected death by SIGKILL, got exit {killed.ExitCode}\n{killed.Out}\n{killed.Err}");
        Assert.Contains($"ARCHGEN_FAULT: {fault.Split('@')[0]} at", killed.Err);

        if (fault.StartsWith("kill@metrics.csv", StringComparison.Ordinal))
        {
            // Killed before its first checkpoint: there is nothing to resume, and the message says what to do.
            var refused = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--out", "run", "--resume"));
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("--overwrite", refused.Err);
            var again = AppProcess.Run(dir.Path, [.. StraightRun.Train, "--out", "run", "--overwrite"]);
            Assert.True(again.ExitCode == 0, again.Out + again.Err);
        }
        else
        {
            var resumed = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--out", "run", "--resume"));
            Assert.True(resumed.ExitCode == 0, $"exit {resumed.ExitCode}\n{resumed.Out}\n{resumed.Err}");
        }

        Assert.Empty(Directory.GetFiles(dir["run"], "*.tmp"));
        Assert.False(File.Exists(dir["run/last-epoch.ckpt"]), "the run ended at an epoch's end; the guard copy is gone");
        Assert.Equal(InterruptionTests.EpochFigures(straight.Dir["straight"]), InterruptionTests.EpochFigures(dir["run"]));
        Assert.Equal(6, EndToEndTests.StepRows(dir["run"]));
        Assert.True(StraightRun.State(dir["run"]).AsSpan().SequenceEqual(StraightRun.State(straight.Dir["straight"])),
            $"{fault}: the final weights, optimizer state or RNG state differ from the uninterrupted run's");
    }

    /// <summary>A full disk (a failing write) leaves the previous checkpoint and no temporary file; the run stops with one line.</summary>
    [Fact]
    public void AFailedWriteRemovesItsTemporaryFileAndKeepsThePreviousCheckpoint()
    {
        using var dir = new TempDir();
        var failed = AppProcess.Run(dir.Path, new Dictionary<string, string> { ["ARCHGEN_FAULT"] = "fail@last.ckpt:after-write#2" }, 600, [.. StraightRun.Train, "--out", "run"]);
        Assert.True(failed.ExitCode == 1, $"exit {failed.ExitCode}\n{failed.Out}\n{failed.Err}");
        Assert.Contains("No space left on device", failed.Err);
        Assert.Empty(Directory.GetFiles(dir["run"], "*.tmp"));

        var resumed = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--out", "run", "--resume"));
        Assert.True(resumed.ExitCode == 0, resumed.Out + resumed.Err);
        Assert.Contains("(step 2)", resumed.Out);
        Assert.True(StraightRun.State(dir["run"]).AsSpan().SequenceEqual(StraightRun.State(straight.Dir["straight"])));
    }
}
