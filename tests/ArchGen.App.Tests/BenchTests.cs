using System.Text.Json;

namespace ArchGen.App.Tests;

/// <summary>
/// <c>archgen bench</c> and <c>bench/pytorch_reference.py</c> print the figures <c>bench/compare.sh</c> reads: one JSON
/// object last, with the same keys. Tiny runs: this checks the contract, not the speed.
/// </summary>
public class BenchTests
{
    static readonly string[] Figures = ["train_img_s", "infer_img_s", "fused_infer_img_s", "aug_img_s", "peak_rss_mb", "rss_growth_pct"];

    static readonly string[] Tiny = ["--batch-size", "4", "--steps", "3", "--warmup", "1", "--threads", "1"];

    static JsonElement LastLineJson(string output)
    {
        string last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();
        return JsonDocument.Parse(last).RootElement.Clone();
    }

    static JsonElement Bench(IDictionary<string, string>? environment = null, params string[] options)
    {
        using var dir = new TempDir();
        var (code, output, err) = AppProcess.Run(dir.Path, environment, 600, ["bench", "--model", "CifarMobileNetV2", .. Tiny, .. options]);
        Assert.True(code == 0, output + err);
        return LastLineJson(output);
    }

    [Fact]
    public void BenchPrintsEveryFigureAsJsonLast()
    {
        var json = Bench();
        foreach (string key in Figures.Where(k => k != "rss_growth_pct"))
            Assert.True(json.GetProperty(key).GetDouble() > 0, $"{key} = {json.GetProperty(key)}");
        Assert.Equal(JsonValueKind.Number, json.GetProperty("rss_growth_pct").ValueKind);
        Assert.Equal(4, json.GetProperty("batch_size").GetInt32());
        Assert.Equal(3, json.GetProperty("steps").GetInt32());
        Assert.Equal("applied", json.GetProperty("allocator_policy").GetString());
        foreach (string key in new[] { "fused_latency_ms", "onnx_infer_img_s", "onnx_latency_ms" })
            Assert.True(json.GetProperty(key).GetDouble() > 0, $"{key} = {json.GetProperty(key)}");
        Assert.Equal("ORT_ENABLE_ALL", json.GetProperty("onnx_optimization").GetString());
        Assert.True(json.GetProperty("onnx_spinning").GetBoolean());
    }

    [Fact]
    public void TheAllocatorPolicyAndOnnxRuntimesSpinningCanBeTurnedOff()
    {
        var json = Bench(new Dictionary<string, string> { ["ARCHGEN_ALLOCATOR"] = "default" }, "--onnx-spinning", "false");
        Assert.StartsWith("off", json.GetProperty("allocator_policy").GetString());
        Assert.True(json.GetProperty("train_img_s").GetDouble() > 0);
        Assert.False(json.GetProperty("onnx_spinning").GetBoolean());
        Assert.True(json.GetProperty("onnx_infer_img_s").GetDouble() > 0);
    }

    [SkippableFact]
    public void PyTorchReferencePrintsTheSameFigures()
    {
        Toolchain.RequirePyTorch();
        var (code, output) = Toolchain.Run("/usr/bin/python3", AppProcess.RepositoryRoot, ["bench/pytorch_reference.py", .. Tiny]);
        Assert.True(code == 0, output);
        // Toolchain.Run appends stderr (PyTorch's warnings) to stdout: take stdout's last line, the last JSON line.
        var json = LastLineJson(string.Join('\n', output.Split('\n').Where(l => l.TrimStart().StartsWith('{'))));
        foreach (string key in Figures.Append("infer_latency_ms"))
            Assert.Equal(JsonValueKind.Number, json.GetProperty(key).ValueKind);
        Assert.True(json.GetProperty("train_img_s").GetDouble() > 0);
        Assert.True(json.GetProperty("infer_latency_ms").GetDouble() > 0);
    }
}
