using SkiaSharp;

namespace ArchGen.App.Tests;

/// <summary>
/// What a user types or names, odd or hostile, gets one clear line (issue 24, items 14 and 15): file names that are
/// not UTF-8 or hold terminal escapes, an empty path, a file that is not named as an image, nothing readable at all,
/// and --freeze-features without anything to freeze.
/// </summary>
public class UserInputTests(FinishedRun finished) : IClassFixture<FinishedRun>
{
    static void Png(string path, byte shade = 120)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(new SKImageInfo(36, 36));
        bitmap.Erase(new SKColor(shade, 90, 160));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    [Fact]
    public void AFileNameThatIsNotUtf8IsNamedAndSkippedOrRefused()
    {
        using var dir = new TempDir();
        Png(dir["photos/good.png"]);
        // A name with the byte 0xFF (Latin-1 'ÿ'), written by the shell: .NET cannot spell it.
        var made = Toolchain.Run("/bin/sh", dir["photos"], "-c", "cp good.png \"$(printf 'caf\\351.png')\"");
        Assert.True(made.Code == 0, made.Output);

        var refused = AppProcess.Run(dir.Path, "predict", "--checkpoint", finished.Path, "--json", "photos");
        Assert.True(refused.ExitCode == 1, $"exit {refused.ExitCode}\n{refused.Out}\n{refused.Err}");
        EndToEndTests.AssertOneLineError(refused.Err);
        Assert.Contains("not valid UTF-8", refused.Err);
        Assert.Contains("--skip-bad-images", refused.Err);

        var skipped = AppProcess.Run(dir.Path, "predict", "--checkpoint", finished.Path, "--json", "--skip-bad-images", "photos");
        Assert.True(skipped.ExitCode == 0, skipped.Out + skipped.Err);
        Assert.Contains("good.png", skipped.Out);
        Assert.Contains("not valid UTF-8", skipped.Err);
    }

    [Fact]
    public void ControlCharactersInNamesReachTheTerminalEscaped()
    {
        using var dir = new TempDir();
        string name = "red\u001b[31mALERT\u0007.png";
        Png(Path.Combine(dir["photos"], name));
        var table = AppProcess.Run(dir.Path, "predict", "--checkpoint", finished.Path, "photos");
        Assert.True(table.ExitCode == 0, table.Out + table.Err);
        Assert.DoesNotContain('\u001b', table.Out);
        Assert.DoesNotContain('\u0007', table.Out);
        Assert.Contains("\\x1B", table.Out);

        File.Move(Path.Combine(dir["photos"], name), Path.Combine(dir["photos"], "red\u001b[31mALERT.txt"));
        var error = AppProcess.Run(dir.Path, "predict", "--checkpoint", finished.Path, "photos");
        Assert.True(error.ExitCode == 1, error.Out + error.Err);
        Assert.DoesNotContain('\u001b', error.Err);
    }

    [Fact]
    public void EveryFileBadWithSkipIsOneErrorNamingThem()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["bad"]);
        for (int i = 0; i < 5; i++) File.WriteAllText(dir[$"bad/{i}.png"], "not a png");
        var result = AppProcess.Run(dir.Path, "predict", "--checkpoint", finished.Path, "--skip-bad-images", "--batch-size", "2", "bad");
        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}\n{result.Out}\n{result.Err}");
        EndToEndTests.AssertOneLineError(result.Err);
        Assert.Contains("none of the 5 files", result.Err);
        Assert.Contains("0.png", result.Err);
        Assert.Contains("and 2 more", result.Err);
    }

    [Fact]
    public void PredictAndTrainFollowOneRuleForImageNames()
    {
        using var dir = new TempDir();
        Png(dir["photo.heic"]); // a PNG under another name
        var result = AppProcess.Run(dir.Path, "predict", "--checkpoint", finished.Path, "photo.heic");
        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}\n{result.Out}\n{result.Err}");
        EndToEndTests.AssertOneLineError(result.Err);
        Assert.Contains("not an image file name", result.Err);
    }

    [Fact]
    public void AnEmptyPathIsABadArgument()
    {
        using var dir = new TempDir();
        var result = AppProcess.Run(dir.Path, "predict", "--checkpoint", finished.Path, "");
        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}\n{result.Out}\n{result.Err}");
        EndToEndTests.AssertOneLineError(result.Err);
        Assert.Contains("PATH", result.Err);
    }

    [Fact]
    public void FreezingFeaturesWithoutInitIsRefused()
    {
        using var dir = new TempDir();
        var result = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "32", "--freeze-features", "--out", "run"));
        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}\n{result.Out}\n{result.Err}");
        EndToEndTests.AssertOneLineError(result.Err);
        Assert.Contains("--init", result.Err);
        Assert.False(Directory.Exists(dir["run"]));
    }

    [Fact]
    public void AFolderNameThatIsNotUtf8IsRefusedNotMadeAnEmptyClass()
    {
        using var dir = new TempDir();
        foreach (var split in new[] { "train", "test" })
            for (int c = 0; c < 2; c++)
                for (int i = 0; i < 2; i++)
                    Png(dir[$"data/{split}/class{c}/{i}.png"], (byte)(80 * c + 10 * i));
        var made = Toolchain.Run("/bin/sh", dir["data/train"], "-c", "mkdir \"$(printf 'c\\377t')\" && cp class0/0.png \"$(printf 'c\\377t')/x.png\"");
        Assert.True(made.Code == 0, made.Output);

        var train = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--dataset", "folder", "--data", "data", "--epochs", "1", "--out", "run"));
        Assert.True(train.ExitCode == 1, $"exit {train.ExitCode}\n{train.Out}\n{train.Err}");
        EndToEndTests.AssertOneLineError(train.Err);
        Assert.Contains("not valid UTF-8", train.Err);

        var predict = AppProcess.Run(dir.Path, "predict", "--checkpoint", finished.Path, "--json", "data/train");
        Assert.True(predict.ExitCode == 1, $"exit {predict.ExitCode}\n{predict.Out}\n{predict.Err}");
        Assert.Contains("not valid UTF-8", predict.Err);
    }

    [Fact]
    public void JsonOutputEscapesBidirectionalOverrides()
    {
        using var dir = new TempDir();
        Png(Path.Combine(dir["photos"], "a\u202Eb.png"));
        var json = AppProcess.Run(dir.Path, "predict", "--checkpoint", finished.Path, "--json", "photos");
        Assert.True(json.ExitCode == 0, json.Out + json.Err);
        Assert.DoesNotContain('\u202E', json.Out);
        Assert.Contains("\\u202E", json.Out, StringComparison.OrdinalIgnoreCase);
        using var parsed = System.Text.Json.JsonDocument.Parse(json.Out.Trim());
        Assert.EndsWith("a\u202Eb.png", parsed.RootElement.GetProperty("path").GetString());
    }

    [Theory]
    [InlineData("\u200F")]
    [InlineData("\u061C")]
    [InlineData("\uFEFF")]
    [InlineData("\u2028")]
    public void InvisibleCharactersInNamesAreEscapedEverywhere(string invisible)
    {
        using var dir = new TempDir();
        Png(Path.Combine(dir["photos"], "x" + invisible + "y.png"));
        foreach (var mode in new[] { "--json", "--top" })
        {
            var result = AppProcess.Run(dir.Path, mode == "--json" ? ["predict", "--checkpoint", finished.Path, "--json", "photos"] : ["predict", "--checkpoint", finished.Path, "--top", "2", "photos"]);
            Assert.True(result.ExitCode == 0, result.Out + result.Err);
            Assert.DoesNotContain(invisible, result.Out, StringComparison.Ordinal);
            Assert.Contains("\\u" + ((int)invisible[0]).ToString("X4"), result.Out, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void AnExplicitPathThatIsNotUtf8IsNamedAsSuch()
    {
        using var dir = new TempDir();
        Png(dir["good.png"]);
        var made = Toolchain.Run("/bin/sh", dir.Path, "-c", "cp good.png \"$(printf 'x\\303.png')\"");
        Assert.True(made.Code == 0, made.Output);
        string name = Directory.GetFiles(dir.Path).Single(f => f.Contains('\uFFFD'));
        var result = AppProcess.Run(dir.Path, "predict", "--checkpoint", finished.Path, name);
        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}\n{result.Out}\n{result.Err}");
        Assert.Contains("not valid UTF-8", result.Err);
    }
}
