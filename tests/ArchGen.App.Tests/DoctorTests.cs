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

    [Fact]
    public void DoctorRefusesABadBatchSizeWithOneLine()
    {
        using var dir = new TempDir();
        var result = AppProcess.Run(dir.Path, "doctor", "--batch-sizes", "2,x");
        Assert.Equal(2, result.ExitCode);
        EndToEndTests.AssertOneLineError(result.Err);
        Assert.Contains("--batch-sizes", result.Err);
    }

    /// <summary>
    /// With every channels-last check made to disagree (as on a CPU whose kernels are wrong), the run's evaluation runs
    /// every layer plain, the run finishes, and its config.json says so and why; without the fault the same run records
    /// its verdicts too (training: plain by design; evaluation: checked).
    /// </summary>
    [Fact]
    public void ARunRecordsWhichLayoutEachLayerRanInAndWhy()
    {
        using var dir = new TempDir();
        string[] Train(string run) => EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "32", "--seed", "3", "--out", run); // Args adds batch 16

        var faulty = AppProcess.Run(dir.Path, new Dictionary<string, string> { ["ARCHGEN_FAULT"] = "disagree@layout-check" }, 600, Train("faulty"));
        Assert.True(faulty.ExitCode == 0, faulty.Out + faulty.Err);
        var checks = Checks(dir["faulty/config.json"]);
        Assert.Equal(new[] { "train+grad", "eval" }, checks.Select(c => c.GetProperty("mode").GetString()!).ToArray());
        foreach (var check in checks)
        {
            Assert.Equal("16x3x32x32", check.GetProperty("input").GetString());
            Assert.Equal(0, check.GetProperty("channelsLast").GetInt32());
            var layers = check.GetProperty("layers").EnumerateArray().ToList();
            Assert.True(layers.Count >= 10);
            Assert.All(layers, l => Assert.Equal("plain", l.GetProperty("layout").GetString()));
        }
        Assert.All(checks[1].GetProperty("layers").EnumerateArray(), l => Assert.Contains("fault injection", l.GetProperty("why").GetString()));

        var healthy = AppProcess.Run(dir.Path, Train("healthy"));
        Assert.True(healthy.ExitCode == 0, healthy.Out + healthy.Err);
        var healthyChecks = Checks(dir["healthy/config.json"]);
        foreach (var check in healthyChecks)
        {
            var layers = check.GetProperty("layers").EnumerateArray().ToList();
            Assert.Equal(layers.Count, check.GetProperty("channelsLast").GetInt32() + check.GetProperty("plain").GetInt32());
            Assert.All(layers, l => Assert.DoesNotContain("fault injection", l.GetProperty("why").GetString()));
        }
        // Training runs plain by design; the evaluation's layers were checked.
        Assert.All(healthyChecks[0].GetProperty("layers").EnumerateArray(), l => Assert.StartsWith("plain: gradients are recorded", l.GetProperty("why").GetString()));
        Assert.All(healthyChecks[1].GetProperty("layers").EnumerateArray(),
            l => Assert.Matches("^(channels-last: its output at .* agrees|plain: its channels-last output at .* differs)", l.GetProperty("why").GetString()));
    }

    static List<JsonElement> Checks(string configPath)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(configPath));
        var layout = config.RootElement.GetProperty("memoryLayout");
        Assert.Equal("verified", layout.GetProperty("policy").GetString());
        return layout.GetProperty("checks").EnumerateArray().Select(c => c.Clone()).ToList();
    }
}
