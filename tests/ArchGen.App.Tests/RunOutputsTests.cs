using System.Security.Cryptography;
using SkiaSharp;

namespace ArchGen.App.Tests;

/// <summary>
/// What import, export and test write, and where (issue 24, items 2, 3 and 5): a file of a training run is replaced
/// only with --overwrite and under the run's lock; only a real run folder gets run outputs; a model is tested only on
/// the classes it was trained on.
/// </summary>
public class RunOutputsTests(FinishedRun finished) : IClassFixture<FinishedRun>
{
    static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    public void ImportOverARunsCheckpointIsRefusedWithoutOverwrite()
    {
        using var dir = new TempDir();
        finished.CopyTo(dir["run"]);
        var export = AppProcess.Run(dir.Path, "export", "--checkpoint", "run", "--to", "weights.pt");
        Assert.True(export.ExitCode == 0, export.Out + export.Err);
        string before = Hash(dir["run/last.ckpt"]);

        var refused = AppProcess.Run(dir.Path, "import", "--model", "CifarMobileNetV2", "--from", "weights.pt", "--out", "run/last.ckpt");
        Assert.True(refused.ExitCode == 2, $"exit {refused.ExitCode}\n{refused.Out}\n{refused.Err}");
        EndToEndTests.AssertOneLineError(refused.Err);
        Assert.Contains(dir["run"], refused.Err);
        Assert.Contains("--overwrite", refused.Err);
        Assert.Equal(before, Hash(dir["run/last.ckpt"]));

        // A file that is not one of the run's may be written beside it; another of its files may not.
        var beside = AppProcess.Run(dir.Path, "export", "--checkpoint", "run", "--to", "run/weights.safetensors");
        Assert.True(beside.ExitCode == 0, beside.Out + beside.Err);
        refused = AppProcess.Run(dir.Path, "import", "--model", "CifarMobileNetV2", "--from", "weights.pt", "--out", "run/last-epoch.ckpt");
        Assert.True(refused.ExitCode == 2, $"exit {refused.ExitCode}\n{refused.Out}\n{refused.Err}");

        var replaced = AppProcess.Run(dir.Path, "import", "--model", "CifarMobileNetV2", "--from", "weights.pt", "--out", "run/last.ckpt", "--overwrite");
        Assert.True(replaced.ExitCode == 0, replaced.Out + replaced.Err);
        Assert.NotEqual(before, Hash(dir["run/last.ckpt"]));
    }

    [Fact]
    public void ABareCheckpointInAnOrdinaryFolderGetsNoRunOutputs()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["mine"]);
        File.Copy(Path.Combine(finished.Path, "last.ckpt"), dir["mine/model.ckpt"]);
        File.WriteAllText(dir["mine/confusion.png"], "the user's own picture");

        var test = AppProcess.Run(dir.Path, EndToEndTests.Args("test", "--checkpoint", "mine/model.ckpt", "--dataset", "synthetic"));
        Assert.True(test.ExitCode == 0, test.Out + test.Err);
        Assert.Equal("the user's own picture", File.ReadAllText(dir["mine/confusion.png"]));
        Assert.Equal(new[] { "confusion.png", "model.ckpt" }, Directory.GetFileSystemEntries(dir["mine"]).Select(Path.GetFileName).Order());

        var withOut = AppProcess.Run(dir.Path, EndToEndTests.Args("test", "--checkpoint", "mine/model.ckpt", "--dataset", "synthetic", "--out", "plots"));
        Assert.True(withOut.ExitCode == 0, withOut.Out + withOut.Err);
        Assert.True(new FileInfo(dir["plots/confusion.png"]).Length > 1000);
        Assert.Equal("the user's own picture", File.ReadAllText(dir["mine/confusion.png"]));
    }

    [Fact]
    public void TestingOnOtherClassNamesIsRefusedUnlessMappedByIndex()
    {
        using var dir = new TempDir();
        finished.CopyTo(dir["run"]);
        string before = Hash(dir["run/confusion.png"]);
        // Ten classes, as many as the run's model has, named otherwise.
        foreach (var split in new[] { "train", "test" })
            for (int c = 0; c < 10; c++)
            {
                Directory.CreateDirectory(dir[$"other/{split}/class{c}"]);
                using var bitmap = new SKBitmap(new SKImageInfo(40, 40));
                bitmap.Erase(new SKColor((byte)(25 * c), 100, 200));
                using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(dir[$"other/{split}/class{c}/a.png"], data.ToArray());
            }

        var refused = AppProcess.Run(dir.Path, EndToEndTests.Args("test", "--checkpoint", "run", "--dataset", "folder", "--data", "other"));
        Assert.True(refused.ExitCode == 2, $"exit {refused.ExitCode}\n{refused.Out}\n{refused.Err}");
        EndToEndTests.AssertOneLineError(refused.Err);
        Assert.Contains("circle", refused.Err);
        Assert.Contains("class0", refused.Err);
        Assert.Contains("--classes-by-index", refused.Err);
        Assert.Equal(before, Hash(dir["run/confusion.png"]));

        var mapped = AppProcess.Run(dir.Path, EndToEndTests.Args("test", "--checkpoint", "run", "--dataset", "folder", "--data", "other", "--classes-by-index"));
        Assert.True(mapped.ExitCode == 0, mapped.Out + mapped.Err);
    }

    [Fact]
    public void EveryFileOfARunIsProtectedAndItsLockAlways()
    {
        using var dir = new TempDir();
        finished.CopyTo(dir["run"]);
        var export = AppProcess.Run(dir.Path, "export", "--checkpoint", "run", "--to", "w.safetensors");
        Assert.True(export.ExitCode == 0, export.Out + export.Err);
        File.WriteAllText(dir["run/memory.png"], "plot");

        var plot = AppProcess.Run(dir.Path, "import", "--from", "w.safetensors", "--out", "run/memory.png");
        Assert.True(plot.ExitCode == 2, $"exit {plot.ExitCode}\n{plot.Out}\n{plot.Err}");
        Assert.Equal("plot", File.ReadAllText(dir["run/memory.png"]));

        var lockFile = AppProcess.Run(dir.Path, "import", "--from", "w.safetensors", "--out", "run/.archgen.lock", "--overwrite");
        Assert.True(lockFile.ExitCode == 2, $"exit {lockFile.ExitCode}\n{lockFile.Out}\n{lockFile.Err}");
        EndToEndTests.AssertOneLineError(lockFile.Err);

        var folder = AppProcess.Run(dir.Path, "import", "--from", "w.safetensors", "--out", "run/");
        Assert.True(folder.ExitCode == 2, $"exit {folder.ExitCode}\n{folder.Out}\n{folder.Err}");
        Assert.Contains("--out", folder.Err);
    }

    [Fact]
    public void NothingIsWrittenInsideAnotherRunOrOverADeviceOrFifo()
    {
        using var dir = new TempDir();
        finished.CopyTo(dir["run"]);
        var export = AppProcess.Run(dir.Path, "export", "--checkpoint", "run", "--to", "w.safetensors");
        Assert.True(export.ExitCode == 0, export.Out + export.Err);
        string events = Directory.GetFiles(dir["run/tensorboard"]).First();
        string before = Hash(events);

        var intoEvents = AppProcess.Run(dir.Path, "import", "--from", "w.safetensors", "--out", events, "--overwrite");
        Assert.True(intoEvents.ExitCode == 2, $"exit {intoEvents.ExitCode}\n{intoEvents.Out}\n{intoEvents.Err}");
        Assert.Equal(before, Hash(events));

        string plot = Hash(dir["run/confusion.png"]);
        var testOut = AppProcess.Run(dir.Path, EndToEndTests.Args("test", "--checkpoint", "w.safetensors", "--dataset", "synthetic", "--out", "run"));
        Assert.True(testOut.ExitCode == 2, $"exit {testOut.ExitCode}\n{testOut.Out}\n{testOut.Err}");
        Assert.Equal(plot, Hash(dir["run/confusion.png"]));

        var nested = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "16", "--out", "run/nested"));
        Assert.True(nested.ExitCode == 2, $"exit {nested.ExitCode}\n{nested.Out}\n{nested.Err}");
        Assert.False(Directory.Exists(dir["run/nested"]));

        File.WriteAllText(dir["afile"], "mine");
        var onFile = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "16", "--out", "afile"));
        Assert.True(onFile.ExitCode == 2, $"exit {onFile.ExitCode}\n{onFile.Out}\n{onFile.Err}");
        Assert.Contains("--out", onFile.Err);

        var fifo = Toolchain.Run("/usr/bin/mkfifo", dir.Path, "pipe.ckpt");
        Assert.True(fifo.Code == 0, fifo.Output);
        var intoFifo = AppProcess.Run(dir.Path, "import", "--from", "w.safetensors", "--out", "pipe.ckpt");
        Assert.True(intoFifo.ExitCode == 2, $"exit {intoFifo.ExitCode}\n{intoFifo.Out}\n{intoFifo.Err}");
        Assert.Contains("not a regular file", intoFifo.Err);
        Assert.True(Toolchain.Run("/usr/bin/test", dir.Path, "-p", "pipe.ckpt").Code == 0, "the FIFO is still a FIFO");
    }

    [Fact]
    public void ASymlinkDoesNotLeadAWriteIntoAnotherRun()
    {
        using var dir = new TempDir();
        finished.CopyTo(dir["run"]);
        var export = AppProcess.Run(dir.Path, "export", "--checkpoint", "run", "--to", "w.safetensors");
        Assert.True(export.ExitCode == 0, export.Out + export.Err);
        Directory.CreateSymbolicLink(dir["tblink"], dir["run/tensorboard"]);
        var before = Directory.GetFileSystemEntries(dir["run/tensorboard"]).Order().ToArray();

        var import = AppProcess.Run(dir.Path, "import", "--from", "w.safetensors", "--out", "tblink/z.ckpt");
        Assert.True(import.ExitCode == 2, $"exit {import.ExitCode}\n{import.Out}\n{import.Err}");
        var train = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "16", "--out", "tblink"));
        Assert.True(train.ExitCode == 2, $"exit {train.ExitCode}\n{train.Out}\n{train.Err}");
        Assert.Equal(before, Directory.GetFileSystemEntries(dir["run/tensorboard"]).Order().ToArray());
    }

    [Fact]
    public void AnOutputPathThatIsNotUtf8IsRefusedNotRenamed()
    {
        using var dir = new TempDir();
        var result = Toolchain.Run("/bin/sh", dir.Path, "-c", "exec dotnet \"$1\" export --checkpoint \"$2\" --to \"$(printf 'e\\377.pt')\"", "sh", AppProcess.AppDll, finished.Path);
        Assert.True(result.Code == 2, $"exit {result.Code}\n{result.Output}");
        Assert.Contains("not valid UTF-8", result.Output);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }
}
