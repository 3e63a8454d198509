namespace ArchGen.App.Tests;

/// <summary>
/// A closed stdout (<c>archgen ... &gt;&amp;-</c>) changes nothing but what is shown (issue 24, item 13): before,
/// export wrote its file and then failed with "Access to the path is denied." (no path), and train refused to start.
/// With descriptor 1 closed, the next file the program opens would become "stdout" and receive its output.
/// </summary>
public class StandardStreamTests(FinishedRun finished) : IClassFixture<FinishedRun>
{
    /// <summary>Runs archgen with stdout closed; returns the exit code and stderr.</summary>
    static (int Code, string Err) WithoutStdout(string workingDirectory, params string[] args) =>
        Toolchain.Run("/bin/sh", workingDirectory, ["-c", "exec dotnet \"$@\" >&-", "sh", AppProcess.AppDll, .. args]);

    [Fact]
    public void ExportAndTrainWorkWithStdoutClosed()
    {
        using var dir = new TempDir();
        var (code, err) = WithoutStdout(dir.Path, "export", "--checkpoint", finished.Path, "--to", "model.onnx");
        Assert.True(code == 0, $"exit {code}: {err}");
        Assert.DoesNotContain("error", err);
        Assert.Contains("standard output is closed", err); // said once, so results are not lost in silence
        var check = AppProcess.Run(dir.Path, "predict", "--checkpoint", "model.onnx", "--json", Path.Combine(AppProcess.RepositoryRoot, "tests", "ArchGen.Runtime.Tests", "Data", "Images", "Fixtures", "photos"));
        Assert.True(check.ExitCode == 0, check.Out + check.Err);

        (code, err) = WithoutStdout(dir.Path, EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "32", "--out", "run"));
        Assert.True(code == 0, $"exit {code}: {err}");
        var test = AppProcess.Run(dir.Path, EndToEndTests.Args("test", "--checkpoint", "run", "--dataset", "synthetic"));
        Assert.True(test.ExitCode == 0, test.Out + test.Err); // the checkpoint was not written into by the console
    }
}
