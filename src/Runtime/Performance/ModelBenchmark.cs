using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Performance;

/// <summary>Figures of one benchmark run; images per second are medians over the timed steps.</summary>
public sealed record ModelBenchmarkResult(
    string Model, int BatchSize, int Steps, int Warmup, int Threads,
    double TrainImagesPerSecond, double InferImagesPerSecond, double FusedInferImagesPerSecond, double FusedLatencyMs,
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
    /// <param name="cancel">Stops the benchmark between two steps (an <see cref="OperationCanceledException"/>).</param>
    public static ModelBenchmarkResult Run(CatalogEntry entry, int batchSize, int steps, int warmup, int threads, Action<string>? log = null, CancellationToken cancel = default)
    {
        if (steps < 1) throw new ArgumentException($"--steps must be at least 1 (got {steps}).");
        if (warmup < 0) throw new ArgumentException($"--warmup must be 0 or more (got {warmup}).");
        Training.OptionRules.Require(Training.OptionRules.BatchSize(batchSize));
        int usedThreads = Training.Devices.SetThreads(threads);
        var f = entry.Facts;

        torch.manual_seed(0);
        using var model = entry.Create();
        using var input = torch.randn(batchSize, f.InputChannels, f.InputSize, f.InputSize);
        using var labels = torch.randint(0, f.Classes, batchSize, dtype: torch.int64);
        using var optimizer = optim.Adam(model.parameters(), 1e-3);

        model.train();
        double rssAfterWarmup = 0, rssLast = 0;
        var train = Time(steps, warmup, cancel, () =>
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
        double infer, fused, latency;
        using (torch.no_grad())
        {
            infer = Time(steps, warmup, cancel, () =>
            {
                using var scope = torch.NewDisposeScope();
                model.forward(input).sum().item<float>();
            });
            log?.Invoke($"infer: {batchSize / infer:F1} img/s");

            using var fusedModel = entry.Fuse(model);
            fusedModel.eval();
            fused = Time(steps, warmup, cancel, () =>
            {
                using var scope = torch.NewDisposeScope();
                fusedModel.forward(input).sum().item<float>();
            });
            log?.Invoke($"fused infer: {batchSize / fused:F1} img/s");

            using var single = input.narrow(0, 0, 1).clone();
            latency = Time(steps, warmup, cancel, () =>
            {
                using var scope = torch.NewDisposeScope();
                fusedModel.forward(single).sum().item<float>();
            });
            log?.Invoke($"fused latency (batch 1): {1000 * latency:F2} ms");
        }

        return new ModelBenchmarkResult(f.Name, batchSize, steps, warmup, usedThreads,
            batchSize / train, batchSize / infer, batchSize / fused, 1000 * latency, ResourceUsage.PeakResidentMiB(), rssAfterWarmup, rssLast);
    }

    /// <summary>Median seconds per step over <paramref name="steps"/> timed steps after <paramref name="warmup"/> untimed ones.</summary>
    public static double Time(int steps, int warmup, CancellationToken cancel, Action step, Action? afterWarmup = null, Action? afterLast = null)
    {
        for (int i = 0; i < warmup; i++)
        {
            cancel.ThrowIfCancellationRequested();
            step();
        }
        afterWarmup?.Invoke();
        var seconds = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            cancel.ThrowIfCancellationRequested();
            long start = Stopwatch.GetTimestamp();
            step();
            seconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        afterLast?.Invoke();
        Array.Sort(seconds);
        return steps % 2 == 1 ? seconds[steps / 2] : (seconds[steps / 2 - 1] + seconds[steps / 2]) / 2;
    }
}
