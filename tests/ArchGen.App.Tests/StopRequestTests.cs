using SkiaSharp;

namespace ArchGen.App.Tests;

/// <summary>
/// The first Ctrl+C or SIGTERM stops predict and export at their next batch or step, with exit 130 (issue 24,
/// item 8): before, both printed "Stopping at the next safe point…", then classified every image or wrote the file,
/// and exited 0.
/// </summary>
public class StopRequestTests(FinishedRun finished) : IClassFixture<FinishedRun>
{
    static Dictionary<string, string> Fault(string value) => new() { ["ARCHGEN_FAULT"] = value };

    /// <summary><paramref name="count"/> small PNGs, <c>photos/0.png</c> … in <paramref name="dir"/>.</summary>
    static void Photos(TempDir dir, int count)
    {
        Directory.CreateDirectory(dir["photos"]);
        for (int i = 0; i < count; i++)
        {
            using var bitmap = new SKBitmap(new SKImageInfo(36, 36));
            bitmap.Erase(new SKColor((byte)(40 * i), 90, 160));
            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(dir[$"photos/{i}.png"], data.ToArray());
        }
    }

    [Fact]
    public void PredictStopsAtTheNextBatch()
    {
        using var dir = new TempDir();
        Photos(dir, 6);

        // Paused in its second batch (of one image each), as long work that checks for a stop request.
        using var app = AppProcess.Start(dir.Path, Fault("pause@predict#2"), "predict", "--checkpoint", finished.Path, "--json", "--batch-size", "1", "photos");
        app.WaitUntil(() => app.Err.Contains("ARCHGEN_FAULT: pause at predict", StringComparison.Ordinal), "the second batch");
        app.Signal("INT");
        var (code, output, err) = app.WaitForExit(60);
        Assert.True(code == 130, $"exit {code}\n{output}\n{err}");
        Assert.Contains("Interrupted", err);
        int lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        Assert.True(lines <= 1, $"{lines} images were classified after the stop request:\n{output}");
    }

    [Fact]
    public void ExportStopsBeforeWritingAndLeavesNoFile()
    {
        using var dir = new TempDir();
        using var app = AppProcess.Start(dir.Path, Fault("pause@export"), "export", "--checkpoint", finished.Path, "--to", "model.onnx");
        app.WaitUntil(() => app.Err.Contains("ARCHGEN_FAULT: pause at export", StringComparison.Ordinal), "the export");
        app.Signal("TERM");
        var (code, output, err) = app.WaitForExit(60);
        Assert.True(code == 130, $"exit {code}\n{output}\n{err}");
        Assert.Contains("nothing was written", err);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void PredictInTableModeShowsWhatItClassifiedBeforeTheStop()
    {
        using var dir = new TempDir();
        Photos(dir, 5);
        using var app = AppProcess.Start(dir.Path, Fault("pause@predict#3"), "predict", "--checkpoint", finished.Path, "--batch-size", "1", "photos");
        app.WaitUntil(() => app.Err.Contains("ARCHGEN_FAULT: pause at predict", StringComparison.Ordinal), "the third batch");
        app.Signal("INT");
        var (code, output, err) = app.WaitForExit(60);
        Assert.True(code == 130, $"exit {code}\n{output}\n{err}");
        Assert.Contains("0.png", output);
        Assert.Contains("1.png", output);
        Assert.DoesNotContain("3.png", output);
    }

    [Fact]
    public void ImportStopsBeforeWritingAndLeavesNoFile()
    {
        using var dir = new TempDir();
        var export = AppProcess.Run(dir.Path, "export", "--checkpoint", finished.Path, "--to", "w.safetensors");
        Assert.True(export.ExitCode == 0, export.Out + export.Err);
        using var app = AppProcess.Start(dir.Path, Fault("pause@import"), "import", "--from", "w.safetensors", "--out", "imported.ckpt");
        app.WaitUntil(() => app.Err.Contains("ARCHGEN_FAULT: pause at import", StringComparison.Ordinal), "the import");
        app.Signal("INT");
        var (code, output, err) = app.WaitForExit(60);
        Assert.True(code == 130, $"exit {code}\n{output}\n{err}");
        Assert.Contains("nothing was written", err);
        Assert.Equal(new[] { "w.safetensors" }, Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
    }
}
