using System.Text.Json;

namespace ArchGen.App.Tests;

/// <summary><c>archgen doctor</c> and the run's record of its memory layouts (config.json).</summary>
public class DoctorTests
{
    /// <summary>
    /// LibTorch's own warnings (c10's log, e.g. "Could not initialize NNPACK! Reason: Unsupported hardware." once per
    /// convolution on CPUs NNPACK does not support: thousands of lines per training run) are silenced by default
    /// (issue 24, item 12). The level is read back from LibTorch itself (c10's FLAGS_caffe2_log_level, which its log
    /// consults), so this fails when the setting stops reaching it.
    /// </summary>
    [Theory]
    [InlineData(null, null, "ERROR")]
    [InlineData("ARCHGEN_DEBUG", "1", "WARNING")]
    [InlineData("TORCH_CPP_LOG_LEVEL", "INFO", "INFO")]
    public void LibTorchsOwnWarningsAreSilencedUnlessAsked(string? variable, string? value, string level)
    {
        using var dir = new TempDir();
        var env = variable is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [variable] = value! };
        var result = AppProcess.Run(dir.Path, env, 300, "doctor", "--model", "CifarMobileNetV2", "--batch-sizes", "1");
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.Out}\n{result.Err}");
        Assert.Matches($@"LibTorch log\s+{level}\b", result.Out);
    }

    [Fact]
    public void DoctorReportsTheMachineAndPassesOnlyWhenEveryCheckIsExact()
    {
        using var dir = new TempDir();
        var result = AppProcess.Run(dir.Path, "doctor", "--model", "CifarMobileNetV2", "--batch-sizes", "1,2");
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.Out}\n{result.Err}");
        foreach (string row in new[] { "CPU", "vector extensions", "LibTorch", "oneDNN", "threads", "allocator policy", "memory layout" })
            Assert.Contains(row, result.Out);
        Assert.Matches(@"oneDNN\s+v\d+\.\d+", result.Out); // read from LibTorch's own build description
        Assert.Contains("1x3x32x32", result.Out);
        Assert.Contains("2x3x32x32", result.Out);
        Assert.Contains("All 2 checks exact", result.Out);
    }

    /// <summary>The one override of the verified paths is named in --help; a value it does not know (the removed "channels-last" among them) is one line and exit code 2, before anything runs.</summary>
    [Fact]
    public void TheHelpNamesTheLayoutOverrideAndABadValueIsRefusedWithOneLine()
    {
        using var dir = new TempDir();
        foreach (var args in new[] { new[] { "--help" }, new[] { "doctor", "--help" } })
        {
            var help = AppProcess.Run(dir.Path, args);
            Assert.True(help.ExitCode == 0, help.Err);
            Assert.Contains("ARCHGEN_MEMORY_LAYOUT=plain", help.Out.ReplaceLineEndings(" "));
        }
        var bad = AppProcess.Run(dir.Path, new Dictionary<string, string> { ["ARCHGEN_MEMORY_LAYOUT"] = "channels-last" }, 120,
            EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "16", "--out", "run"));
        Assert.Equal(2, bad.ExitCode);
        EndToEndTests.AssertOneLineError(bad.Err);
        Assert.Contains("ARCHGEN_MEMORY_LAYOUT must be verified or plain (got 'channels-last')", bad.Err);
        Assert.False(Directory.Exists(dir["run"]), "nothing may be created for a refused setting");
    }

    /// <summary>--repeat checks every convolution again, afresh, and says whether any verdict changed (a fault that comes and goes would).</summary>
    [Fact]
    public void DoctorRepeatsTheChecksAfreshAndSaysWhetherAnyVerdictChanged()
    {
        using var dir = new TempDir();
        var result = AppProcess.Run(dir.Path, "doctor", "--model", "MobileNetV3Small", "--batch-sizes", "3", "--repeat", "2");
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.Out}\n{result.Err}");
        Assert.Matches(@"Repeated 2 times: [1-9]\d* verdicts, 0 changed; passing paths within \d\.\dE-\d of float64", result.Out);

        var bad = AppProcess.Run(dir.Path, "doctor", "--repeat", "51");
        Assert.Equal(2, bad.ExitCode);
        EndToEndTests.AssertOneLineError(bad.Err);
        Assert.Contains("--repeat", bad.Err);
    }

    [Theory]
    [InlineData("2,x")]
    [InlineData(",1,,1,")] // empty entries (were skipped) and a repeated size (was checked once): refused, as manifold's --dims
    [InlineData("2,2")]
    public void DoctorRefusesABadBatchSizeWithOneLine(string sizes)
    {
        using var dir = new TempDir();
        var result = AppProcess.Run(dir.Path, "doctor", "--batch-sizes", sizes);
        Assert.Equal(2, result.ExitCode);
        EndToEndTests.AssertOneLineError(result.Err);
        Assert.Contains("--batch-sizes", result.Err);
    }

    /// <summary>
    /// With every fast path made wrong in its check (as on a CPU whose kernels are wrong), every convolution runs plain
    /// and the run finishes; its config.json says so and why, for training and for evaluation, from the start. Without
    /// the fault the same run records each convolution's verified path.
    /// </summary>
    [Fact]
    public void ARunRecordsWhichPathEachConvolutionTookAndWhy()
    {
        using var dir = new TempDir();
        string[] Train(string run) => EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "40", "--seed", "3", "--out", run); // Args adds batch 16

        var faulty = AppProcess.Run(dir.Path, new Dictionary<string, string> { ["ARCHGEN_FAULT"] = "disagree@layout-check" }, 600, Train("faulty"));
        Assert.True(faulty.ExitCode == 0, faulty.Out + faulty.Err);
        var layers = Layers(dir["faulty/config.json"], out var counts);
        // 40 images in batches of 16: 16 and a last batch of 8 in training; the test set's batches in evaluation.
        Assert.Equal(["16x3x32x32", "8x3x32x32"], layers.Where(l => l.Mode == "training" && l.Layer == "conv1").Select(l => l.Input).ToArray());
        Assert.Contains(layers, l => l.Mode == "inference");
        Assert.All(layers, l => Assert.Equal("plain", l.Path));
        Assert.All(layers, l => Assert.Contains("fault injection", l.Why));
        Assert.Equal(0, counts["training"]["channels-last"] + counts["training"]["GEMM"]);

        var healthy = AppProcess.Run(dir.Path, Train("healthy"));
        Assert.True(healthy.ExitCode == 0, healthy.Out + healthy.Err);
        var verified = Layers(dir["healthy/config.json"], out var healthyCounts);
        Assert.Equal(layers.Select(l => (l.Layer, l.Input, l.Mode)), verified.Select(l => (l.Layer, l.Input, l.Mode)));
        Assert.All(verified, l => Assert.Matches(@"^(channels-last|GEMM|plain)(: within|, though)", l.Why));
        Assert.All(verified, l => Assert.StartsWith(l.Path, l.Why));
        Assert.Equal(verified.Count(l => l.Mode == "training"), healthyCounts["training"].Values.Sum());
    }

    /// <summary>
    /// The verdicts one process checked are stored for the next on the same machine (XDG_CACHE_HOME/archgen), which then
    /// runs the same paths without checking; the doctor checks afresh all the same.
    /// </summary>
    [Fact]
    public void ASecondRunTakesTheVerdictsTheFirstStoredAndTheDoctorChecksAfresh()
    {
        using var dir = new TempDir();
        var env = new Dictionary<string, string> { ["XDG_CACHE_HOME"] = dir["cache"] };
        string[] Train(string run) => EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "24", "--seed", "4", "--out", run);
        var first = AppProcess.Run(dir.Path, env, 600, Train("first"));
        Assert.True(first.ExitCode == 0, first.Out + first.Err);
        Assert.True(File.Exists(Path.Combine(dir["cache"], "archgen", "verdicts.json")));
        var second = AppProcess.Run(dir.Path, env, 600, Train("second"));
        Assert.True(second.ExitCode == 0, second.Out + second.Err);

        var checkedFirst = Layers(dir["first/config.json"], out _);
        var stored = Layers(dir["second/config.json"], out _);
        Assert.All(checkedFirst, l => Assert.DoesNotContain("(stored)", l.Why));
        Assert.All(stored, l => Assert.EndsWith("(stored)", l.Why));
        Assert.Equal(checkedFirst.Select(l => (l.Layer, l.Input, l.Mode, l.Path)), stored.Select(l => (l.Layer, l.Input, l.Mode, l.Path)));

        var doctor = AppProcess.Run(dir.Path, env, 600, "doctor", "--model", "CifarMobileNetV2", "--batch-sizes", "16", "--layers");
        Assert.True(doctor.ExitCode == 0, doctor.Out + doctor.Err);
        Assert.Contains("CifarMobileNetV2 conv1 16x3x32x32", doctor.Out);
        Assert.DoesNotContain("(stored)", doctor.Out);
    }

    sealed record Verdict(string Layer, string Input, string Mode, string Path, string Why);

    static List<Verdict> Layers(string configPath, out Dictionary<string, Dictionary<string, int>> counts)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(configPath));
        var layout = config.RootElement.GetProperty("memoryLayout");
        Assert.Equal("verified", layout.GetProperty("policy").GetString());
        var model = layout.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("role").GetString() == "model");
        counts = new[] { "training", "inference" }.ToDictionary(mode => mode,
            mode => model.GetProperty(mode).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32()));
        return model.GetProperty("layers").EnumerateArray().Select(l => new Verdict(
            l.GetProperty("layer").GetString()!, l.GetProperty("input").GetString()!, l.GetProperty("mode").GetString()!,
            l.GetProperty("path").GetString()!, l.GetProperty("why").GetString()!)).ToList();
    }
}
