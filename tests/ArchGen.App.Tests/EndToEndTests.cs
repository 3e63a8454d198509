
namespace ArchGen.App.Tests;

/// <summary>Drives the real app: train, test, kill and resume, bad arguments and broken data.</summary>
public class EndToEndTests
{
    // Small and fast: 16-image batches of the CIFAR model on 2 threads.
    internal static readonly string[] Quick = { "--device", "cpu", "--threads", "2", "--batch-size", "16", "--test-limit", "32" };

    internal static string[] Args(params string[] args) => args.Concat(Quick).ToArray();

    [Fact]
    public void ModelsListsTheShippedModels()
    {
        using var dir = new TempDir();
        var (code, output, _) = AppProcess.Run(dir.Path, "models");
        Assert.Equal(0, code);
        Assert.Contains("CifarMobileNetV2", output);
        Assert.Contains("MobileNetV2", output);
        Assert.Contains("2,296,922", output);
        Assert.Contains("3,504,872", output);
        Assert.Contains("MobileNetV3Large", output);
        Assert.Contains("5,483,032", output);
        Assert.Contains("MobileNetV3Small", output);
        Assert.Contains("2,542,856", output);
        Assert.Contains("EfficientNetB0", output);
        Assert.Contains("5,288,548", output);
    }

    [Fact]
    public void InfoPrintsTheFamiliesLayerTables()
    {
        using var dir = new TempDir();
        var (code, output, _) = AppProcess.Run(dir.Path, "info", "--model", "EfficientNetB0");
        Assert.Equal(0, code);
        Assert.Contains("features.6.3", output); // the last of the stride-32 stage's four blocks
        Assert.Contains("385,814,752", output);
        (code, output, _) = AppProcess.Run(dir.Path, "info", "--model", "MobileNetV3Small");
        Assert.Equal(0, code);
        Assert.Contains("SE 8", output);
        Assert.Contains("Linear 1024, HardSwish, Dropout 0.2, Linear", output);
    }

    [Fact]
    public void InfoPrintsTheLayerTableWithoutBuilding()
    {
        using var dir = new TempDir();
        var (code, output, _) = AppProcess.Run(dir.Path, "info", "--model", "CifarMobileNetV2");
        Assert.Equal(0, code);
        Assert.Contains("layers.16", output);
        Assert.Contains("InvertedResidual 160->960->320", output);
        Assert.Contains("linear", output);
        Assert.Contains("91,154,944", output);
    }

    [Fact]
    public void TrainsOnSyntheticDataThenTestsTheRunFolder()
    {
        using var dir = new TempDir();
        var (code, output, err) = AppProcess.Run(dir.Path, Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "64", "--out", "run"));
        Assert.True(code == 0, $"exit {code}\n{output}\n{err}");
        Assert.Contains("Accuracy of the network on the 32 test images:", output);

        string run = dir["run"];
        foreach (string file in new[] { "config.json", "metrics.csv", "last.ckpt", "loss.png", "accuracy.png", "confusion.png" })
            Assert.True(File.Exists(Path.Combine(run, file)), $"run folder lacks {file}");
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(run, "tensorboard"), "events.out.tfevents.*", SearchOption.AllDirectories));
        string[] metrics = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        Assert.Equal(4, metrics.Count(l => l.StartsWith("step,", StringComparison.Ordinal))); // 64 images / 16
        Assert.Single(metrics, l => l.StartsWith("epoch,", StringComparison.Ordinal));

        var test = AppProcess.Run(dir.Path, Args("test", "--checkpoint", "run"));
        Assert.True(test.ExitCode == 0, test.Out + test.Err);
        Assert.Contains("Accuracy per class", test.Out);
        Assert.Contains("Confusion matrix", test.Out);
        Assert.Matches(@"Accuracy of the network on the 32 test images: \d+\.\d\d %", test.Out);
    }

    [Fact]
    public void TrainsAndTestsOnCifarFormatFiles()
    {
        using var dir = new TempDir();
        TinyCifar.Write(dir["data"]);
        var (code, output, err) = AppProcess.Run(dir.Path, Args("train", "--dataset", "cifar10", "--data", dir["data"], "--epochs", "1", "--out", "run"));
        Assert.True(code == 0, $"exit {code}\n{output}\n{err}");
        Assert.Contains("Data: 80 training images, 32 test images", output);

        var test = AppProcess.Run(dir.Path, Args("test", "--checkpoint", Path.Combine(dir["run"], "last.ckpt"), "--data", dir["data"]));
        Assert.True(test.ExitCode == 0, test.Out + test.Err);
        Assert.Contains("airplane", test.Out);
        Assert.Contains("Accuracy of the network on the 32 test images:", test.Out);
    }

    [Fact]
    public void SigtermMidEpochThenResumeEndsWithTheSameWeights()
    {
        using var dir = new TempDir();
        string[] train = Args("train", "--dataset", "synthetic", "--epochs", "2", "--limit", "96", "--seed", "3");

        var straight = AppProcess.Run(dir.Path, train.Concat(new[] { "--out", "straight" }).ToArray());
        Assert.True(straight.ExitCode == 0, straight.Out + straight.Err);

        using (var interrupted = AppProcess.Start(dir.Path, null, train.Concat(new[] { "--out", "split" }).ToArray()))
        {
            interrupted.WaitUntil(() => StepRows(dir["split"]) >= 3, "three training steps");
            interrupted.Signal("TERM");
            var (code, _, err) = interrupted.WaitForExit();
            Assert.True(code == 130, $"exit {code}: {err}");
        }
        int stoppedAt = StepRows(dir["split"]);
        Assert.InRange(stoppedAt, 3, 11); // stopped before the end (12 steps)

        var resumed = AppProcess.Run(dir.Path, Args("train", "--out", "split", "--resume"));
        Assert.True(resumed.ExitCode == 0, resumed.Out + resumed.Err);
        Assert.Contains("Resumed from", resumed.Out);
        Assert.Equal(12, StepRows(dir["split"]));
        // The interrupted epoch's row covers all its batches, as if the run had never stopped (issue 15).
        Assert.Equal(InterruptionTests.EpochFigures(dir["straight"]), InterruptionTests.EpochFigures(dir["split"]));

        AssertSameWeights(dir, "straight", "split");
    }

    [Fact]
    public void SigkillDuringACheckpointWriteKeepsThePreviousOneAndResumesExactly()
    {
        using var dir = new TempDir();
        string[] train = Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "96", "--seed", "5", "--checkpoint-every", "2");

        var straight = AppProcess.Run(dir.Path, train.Concat(new[] { "--out", "straight" }).ToArray());
        Assert.True(straight.ExitCode == 0, straight.Out + straight.Err);

        // The second checkpoint write (step 4) stops after its content is written, before fsync and rename.
        var stall = new Dictionary<string, string> { ["ARCHGEN_FAULT"] = "stall@last.ckpt:after-write#2" };
        using (var killed = AppProcess.Start(dir.Path, stall, train.Concat(new[] { "--out", "split" }).ToArray()))
        {
            killed.WaitUntil(() => killed.Err.Contains("ARCHGEN_FAULT: stall at last.ckpt:after-write", StringComparison.Ordinal), "the stalled checkpoint write");
            killed.Signal("KILL");
            killed.WaitForExit();
        }
        Assert.True(Directory.GetFiles(dir["split"], "last.ckpt.*.tmp").Length == 1, "the half-written checkpoint should be left as last.ckpt.*.tmp");

        // The previous checkpoint (step 2) is intact and is what resume uses.
        var resumed = AppProcess.Run(dir.Path, Args("train", "--out", "split", "--resume"));
        Assert.True(resumed.ExitCode == 0, resumed.Out + resumed.Err);
        Assert.Contains("(step 2)", resumed.Out);
        Assert.Empty(Directory.GetFiles(dir["split"], "*.tmp")); // the killed write's leftover is gone

        AssertSameWeights(dir, "straight", "split");
    }

    [Fact]
    public void RecipeFastIsRecordedInConfigAndFlagsOverrideIt()
    {
        using var dir = new TempDir();
        var (code, output, err) = AppProcess.Run(dir.Path, Args("train", "--dataset", "synthetic", "--recipe", "fast", "--epochs", "1", "--limit", "32",
            "--label-smoothing", "0.2", "--out", "run"));
        Assert.True(code == 0, $"exit {code}\n{output}\n{err}");
        Assert.Contains("Trained on 32 images (1 epoch) in total", output);
        Assert.Contains("Accuracy of the network on the 32 test images:", output); // the fast recipe evaluates at the end

        using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir["run/config.json"]));
        var c = config.RootElement;
        Assert.Equal("fast", c.GetProperty("recipe").GetString());
        Assert.Equal("adamw", c.GetProperty("optimizer").GetString());
        Assert.Equal("one-cycle", c.GetProperty("schedule").GetString());
        Assert.Equal(0.2, c.GetProperty("labelSmoothing").GetDouble()); // the flag beats the recipe
        Assert.Equal(16, c.GetProperty("batchSize").GetInt32());
        Assert.Equal(1, c.GetProperty("epochs").GetInt32());
        Assert.True(c.GetProperty("flipTta").GetBoolean());
        Assert.False(c.GetProperty("decayNormAndBias").GetBoolean());
        Assert.Equal(0, c.GetProperty("cropPadding").GetInt32()); // flips only
        Assert.Equal(0, c.GetProperty("ema").GetDouble()); // measured: no gain at this length
        Assert.Equal("end", c.GetProperty("evaluate").GetString());
        Assert.True(File.Exists(dir["run/memory.png"]));
        Assert.StartsWith("kind,epoch,step,loss,accuracy,test_loss,test_accuracy,lr,images_per_second,seconds,val_loss,val_accuracy,rss_mb,peak_rss_mb",
            File.ReadLines(dir["run/metrics.csv"]).First());

        var test = AppProcess.Run(dir.Path, Args("test", "--checkpoint", "run"));
        Assert.True(test.ExitCode == 0, test.Out + test.Err);
        Assert.Contains("(flip test-time augmentation)", test.Out); // as the run was trained
    }

    [Fact]
    public void RecipeReferenceIsTheExerciseAndNewRunsRecordResolvedDefaults()
    {
        using var dir = new TempDir();
        var (code, output, err) = AppProcess.Run(dir.Path, Args("train", "--dataset", "synthetic", "--recipe", "reference", "--epochs", "1", "--limit", "16", "--out", "ref"));
        Assert.True(code == 0, $"exit {code}\n{output}\n{err}");
        using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir["ref/config.json"]));
        var c = config.RootElement;
        Assert.Equal(("reference", "adam", 0.001, "constant", 0.0, "epoch"),
            (c.GetProperty("recipe").GetString(), c.GetProperty("optimizer").GetString(), c.GetProperty("learningRate").GetDouble(),
             c.GetProperty("schedule").GetString(), c.GetProperty("weightDecay").GetDouble(), c.GetProperty("evaluate").GetString()));
        Assert.Equal(0.0, c.GetProperty("labelSmoothing").GetDouble());
        Assert.Equal(0.0, c.GetProperty("ema").GetDouble());
        Assert.False(c.GetProperty("flipTta").GetBoolean());
    }

    [Theory]
    [InlineData("train", "--schedule", "linear")]
    [InlineData("train", "--label-smoothing", "1")]
    [InlineData("train", "--ema", "1.5")]
    [InlineData("train", "--warmup", "1")]
    [InlineData("train", "--recipe", "slow")]
    [InlineData("train", "--holdout", "8", "--evaluate", "end")]
    [InlineData("train", "--log-every", "0")]
    [InlineData("train", "--weight-decay", "-0.1")]
    [InlineData("train", "--epochs", "0")]
    [InlineData("train", "--model", "NoSuchModel")]
    [InlineData("train", "--dataset", "imagenet")]
    [InlineData("train", "--bogus")]
    [InlineData("train", "--lr", "-1")]
    [InlineData("test")]
    [InlineData("info", "--model", "NoSuchModel")]
    [InlineData("export", "--checkpoint", "nowhere.ckpt", "--to", "out.txt")]
    public void BadArgumentsGiveOneLineAndExitCode2(params string[] args)
    {
        using var dir = new TempDir();
        var (code, _, err) = AppProcess.Run(dir.Path, args);
        Assert.Equal(2, code);
        AssertOneLineError(err);
    }

    [Fact]
    public void MissingCheckpointGivesOneLine()
    {
        using var dir = new TempDir();
        var (code, _, err) = AppProcess.Run(dir.Path, "test", "--checkpoint", "missing.ckpt");
        Assert.Equal(1, code);
        AssertOneLineError(err);
        Assert.Contains("missing.ckpt", err);
    }

    [Fact]
    public void BrokenCifarFoldersGiveOneLineNamingTheProblem()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["empty"]);
        var missing = AppProcess.Run(dir.Path, Args("train", "--dataset", "cifar10", "--data", dir["empty"], "--epochs", "1", "--out", "run"));
        Assert.Equal(1, missing.ExitCode);
        AssertOneLineError(missing.Err);

        string cifar = TinyCifar.Write(dir["data"]);
        string batch = Path.Combine(cifar, "data_batch_3.bin");
        byte[] bytes = File.ReadAllBytes(batch);
        File.WriteAllBytes(batch, bytes.AsSpan(0, bytes.Length - 100).ToArray());
        var truncated = AppProcess.Run(dir.Path, Args("train", "--dataset", "cifar10", "--data", dir["data"], "--epochs", "1", "--out", "run"));
        Assert.Equal(1, truncated.ExitCode);
        AssertOneLineError(truncated.Err);
        Assert.Contains("data_batch_3.bin", truncated.Err);
    }

    internal static void AssertOneLineError(string err)
    {
        string trimmed = err.Trim();
        Assert.StartsWith("error: ", trimmed);
        Assert.DoesNotContain('\n', trimmed);
        Assert.DoesNotContain("   at ", trimmed);
    }

    internal static int StepRows(string run)
    {
        string metrics = Path.Combine(run, "metrics.csv");
        if (!File.Exists(metrics)) return 0;
        using var stream = new FileStream(metrics, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        int n = 0;
        while (reader.ReadLine() is { } line) if (line.StartsWith("step,", StringComparison.Ordinal)) n++;
        return n;
    }

    /// <summary>Exports both runs' final weights to safetensors (deterministic serialization) and compares the bytes.</summary>
    internal static void AssertSameWeights(TempDir dir, string runA, string runB)
    {
        foreach (string run in new[] { runA, runB })
        {
            var export = AppProcess.Run(dir.Path, "export", "--checkpoint", run, "--to", run + ".safetensors");
            Assert.True(export.ExitCode == 0, export.Out + export.Err);
        }
        byte[] a = File.ReadAllBytes(dir[runA + ".safetensors"]);
        byte[] b = File.ReadAllBytes(dir[runB + ".safetensors"]);
        Assert.True(a.AsSpan().SequenceEqual(b), $"final weights differ ({a.Length} vs {b.Length} bytes)");
    }
}
