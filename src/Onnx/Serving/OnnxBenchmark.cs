using ArchGen.Onnx.Export;
using ArchGen.Performance;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Onnx.Serving;

/// <summary>ONNX Runtime's figures for a catalog model: throughput at a batch size and batch-1 latency, medians over timed runs.</summary>
public sealed record OnnxBenchmarkResult(string Model, int BatchSize, OnnxSessionSettings Settings, double ImagesPerSecond, double LatencyMs);

/// <summary>Exports a freshly initialized catalog model to ONNX and times it in ONNX Runtime, as <c>archgen bench</c> times TorchSharp.</summary>
public static class OnnxBenchmark
{
    public static OnnxBenchmarkResult Run(CatalogEntry entry, int batchSize, int steps, int warmup, OnnxSessionSettings settings, Action<string>? log = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var f = entry.Facts;
        string path = Path.Combine(Path.GetTempPath(), $"archgen-bench-{Environment.ProcessId}-{f.Name}.onnx");
        try
        {
            torch.manual_seed(0);
            using (var model = entry.Create())
            {
                model.eval();
                var metadata = new OnnxMetadata(f.Name, Enumerable.Range(0, f.Classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
                    Enumerable.Repeat(0f, f.InputChannels).ToArray(), Enumerable.Repeat(1f, f.InputChannels).ToArray(), f.InputSize, f.InputChannels);
                OnnxExporter.Save(entry, model, metadata, path);
            }

            using var onnx = OnnxClassifier.Load(path, settings);
            var random = new Random(0);
            float[] Images(int n)
            {
                var data = new float[n * f.InputChannels * f.InputSize * f.InputSize];
                for (int i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
                return data;
            }

            float[] batch = Images(batchSize), single = Images(1);
            double throughput = ModelBenchmark.Time(steps, warmup, cancel, () => onnx.Run(batch, batchSize));
            log?.Invoke($"onnx runtime infer: {batchSize / throughput:F1} img/s");
            double latency = ModelBenchmark.Time(steps, warmup, cancel, () => onnx.Run(single, 1));
            log?.Invoke($"onnx runtime latency (batch 1): {1000 * latency:F2} ms");
            return new OnnxBenchmarkResult(f.Name, batchSize, settings, batchSize / throughput, 1000 * latency);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
