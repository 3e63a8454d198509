namespace ArchGen.App.Tests;

/// <summary>
/// Options shared by several commands are validated once, the same way for every command that takes them, before
/// anything is loaded or started (issue 15: <c>--threads 100000</c>, <c>test --test-limit -1</c>).
/// </summary>
public class CommandLineTests
{
    [Theory]
    [InlineData("test", "--checkpoint", "nowhere.ckpt", "--test-limit", "-1")]
    [InlineData("train", "--dataset", "synthetic", "--test-limit", "-1", "--out", "run")]
    [InlineData("test", "--checkpoint", "nowhere.ckpt", "--batch-size", "0")]
    [InlineData("train", "--dataset", "synthetic", "--batch-size", "-5", "--out", "run")]
    [InlineData("bench", "--batch-size", "0")]
    [InlineData("test", "--checkpoint", "nowhere.ckpt", "--threads", "-1")]
    [InlineData("train", "--dataset", "synthetic", "--limit", "-1", "--out", "run")]
    [InlineData("train", "--dataset", "synthetic", "--limit", "abc", "--out", "run")] // not a number: it used to crash
    [InlineData("study", "--models", "CifarMobileNetV2", "--limit", "1.5", "--out", "run")]
    [InlineData("test", "--checkpoint", "nowhere.ckpt", "--threads", "x")]
    public void SharedOptionsOutOfRangeAreRefusedByEveryCommand(params string[] args)
    {
        using var dir = new TempDir();
        var (code, output, err) = AppProcess.Run(dir.Path, null, 60, args);
        Assert.True(code == 2, $"exit {code}\n{output}\n{err}");
        EndToEndTests.AssertOneLineError(err);
        string option = args.First(a => a is "--test-limit" or "--batch-size" or "--threads" or "--limit");
        Assert.Contains(option, err);
        Assert.False(Directory.Exists(dir["run"]), "nothing may be created for a refused command line");
    }

    /// <summary>
    /// More threads than a sane multiple of the cores is an error for every command that takes --threads (it used to
    /// start ~32,000 threads, exhaust the machine's process slots and ignore SIGTERM).
    /// </summary>
    [Theory]
    [InlineData("train", "--dataset", "synthetic", "--epochs", "1", "--out", "run")]
    [InlineData("test", "--checkpoint", "nowhere.ckpt")]
    [InlineData("bench", "--steps", "1", "--warmup", "0")]
    public void ThreadsAboveFourTimesTheCoresAreRefused(params string[] args)
    {
        using var dir = new TempDir();
        var (code, output, err) = AppProcess.Run(dir.Path, null, 60, [.. args, "--threads", "100000"]);
        Assert.True(code == 2, $"exit {code}\n{output}\n{err}");
        EndToEndTests.AssertOneLineError(err);
        Assert.Contains("--threads", err);
        Assert.Contains($"{Environment.ProcessorCount} cores", err);
        Assert.False(Directory.Exists(dir["run"]));
    }

    [Fact]
    public void NoCommandListsTheCommands()
    {
        using var dir = new TempDir();
        var (code, _, err) = AppProcess.Run(dir.Path, null, 60);
        Assert.Equal(2, code);
        EndToEndTests.AssertOneLineError(err);
        Assert.DoesNotContain("Required command was not provided", err);
        foreach (string command in new[] { "models", "info", "train", "test", "import", "export", "bench" })
            Assert.Contains(command, err);
    }

    /// <summary>A fault hook that could never fire (an unknown point, disagree anywhere but the layout check, a bad #n) is refused before the command starts, not ignored.</summary>
    [Theory]
    [InlineData("disagree@nowhere", "nowhere")]
    [InlineData("kill@nowhere", "nowhere")]
    [InlineData("pause@evaluate#x", "#n")]
    public void AFaultHookThatCouldNeverFireIsRefused(string fault, string named)
    {
        using var dir = new TempDir();
        var (code, _, err) = AppProcess.Run(dir.Path, new Dictionary<string, string> { ["ARCHGEN_FAULT"] = fault }, 60, "models");
        Assert.True(code == 2, $"exit {code}: {err}");
        EndToEndTests.AssertOneLineError(err);
        Assert.Contains("ARCHGEN_FAULT", err);
        Assert.Contains(named, err);
    }
}
