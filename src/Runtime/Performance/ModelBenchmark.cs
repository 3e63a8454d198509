using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Performance;

/// <summary>Figures of one benchmark run; images per second are medians over the timed steps.</summary>
public sealed record ModelBenchmarkResult(
    string Model, int BatchSize, int Steps, int Warmup, int Threads,
    double TrainImagesPerSecond, double InferImagesPerSecond, double FusedInferImagesPerSecond,
    double PeakRssMiB, double RssAfterWarmupMiB, double RssAtLastStepMiB)
{
    /// <summary>Resident memory at the last training step against right after warm-up, in percent.</summary>
    public double RssGrowthPercent => 100.0 * (RssAtLastStepMiB - RssAfterWarmupMiB) / RssAfterWarmupMiB;
}

/// <summary>
/// Times a catalog model the way <c>bench/pytorch_reference.py</c> times PyTorch: Adam training steps, eager inference
/// and fused inference on a random batch, after warm-up, every step's tensors in a dispose scope.
/// </summary>
public static class ModelBenchmark
{
    public static ModelBenchmarkResult Run(CatalogEntry entry, int batchSize, int steps, int warmup, int threads, Action<string>? log = null)
    {
        if (steps < 1) throw new ArgumentException($"--steps must be at least 1 (got {steps}).");
        if (warmup < 0) throw new ArgumentException($"--warmup must be 0 or more (got {warmup}).");
        if (batchSize < 1) throw new ArgumentException($"--batch-size must be at least 1 (got {batchSize}).");
        int usedThreads = Training.Devices.SetThreads(threads);
        var f = entry.Facts;

        torch.manual_seed(0);
        using var model = entry.Create();
        using var input = torch.randn(batchSize, f.InputChannels, f.InputSize, f.InputSize);
        using var labels = torch.randint(0, f.Classes, batchSize, dtype: torch.int64);
        using var optimizer = optim.Adam(model.parameters(), 1e-3);

        model.train();
        double rssAfterWarmup = 0, rssLast = 0;
        var train = Time(steps, warmup, () =>
        {
            using (torch.NewDisposeScope())
            {
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.forward(input), labels);
                loss.backward();
                optimizer.step();
                loss.item<float>();
            }
            StepGarbage.Release(); // as the trainer does after every step
        }, afterWarmup: () => rssAfterWarmup = ResourceUsage.ResidentMiB(), afterLast: () => rssLast = ResourceUsage.ResidentMiB());
        log?.Invoke($"train: {batchSize / train:F1} img/s");

        model.eval();
        double infer, fused;
        using (torch.no_grad())
        {
            infer = Time(steps, warmup, () =>
            {
                using var scope = torch.NewDisposeScope();
                model.forward(input).sum().item<float>();
            });
            log?.Invoke($"infer: {batchSize / infer:F1} img/s");

            using var fusedModel = entry.Fuse(model);
            fusedModel.eval();
            fused = Time(steps, warmup, () =>
            {
                using var scope = torch.NewDisposeScope();
                fusedModel.forward(input).sum().item<float>();
            });
            log?.Invoke($"fused infer: {batchSize / fused:F1} img/s");
        }

        return new ModelBenchmarkResult(f.Name, batchSize, steps, warmup, usedThreads,
            batchSize / train, batchSize / infer, batchSize / fused, ResourceUsage.PeakResidentMiB(), rssAfterWarmup, rssLast);
    }

    /// <summary>Median seconds per step over <paramref name="steps"/> timed steps after <paramref name="warmup"/> untimed ones.</summary>
    static double Time(int steps, int warmup, Action step, Action? afterWarmup = null, Action? afterLast = null)
    {
        for (int i = 0; i < warmup; i++) step();
        afterWarmup?.Invoke();
        var seconds = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            long start = Stopwatch.GetTimestamp();
            step();
            seconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        afterLast?.Invoke();
        Array.Sort(seconds);
        return steps % 2 == 1 ? seconds[steps / 2] : (seconds[steps / 2 - 1] + seconds[steps / 2]) / 2;
    }
}
