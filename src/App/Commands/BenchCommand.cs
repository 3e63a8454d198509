using System.CommandLine;
using System.Text.Json;
using ArchGen.App.Cli;
using ArchGen.Data;
using ArchGen.Performance;
using TorchSharp;

namespace ArchGen.App.Commands;

/// <summary><c>archgen bench</c>: training, inference, fused inference and augmentation throughput and memory; the last line is JSON.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var batchSize = CommonOptions.BatchSize();
        var steps = new Option<int>("--steps") { Description = "Timed steps per measurement (medians are reported).", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed steps before each measurement (training memory settles over the first ~40; rss_growth_pct is measured after them).", DefaultValueFactory = _ => 40 };
        var threads = CommonOptions.Threads();
        var command = new Command("bench", "Measure a model's training and inference speed and the data layer's augmentation throughput; prints JSON last.")
        {
            model, batchSize, steps, warmup, threads,
        };
        command.SetAction(parse => CommandAction.Run(() =>
        {
            var entry = ModelCatalog.Get(parse.GetValue(model)!);
            int batch = parse.GetValue(batchSize);
            var result = ModelBenchmark.Run(entry, batch, parse.GetValue(steps), parse.GetValue(warmup), parse.GetValue(threads), Console.WriteLine, Interruption.Token);
            double augmentation = AugmentationBenchmark.Run(batchSize: batch, device: torch.CPU);
            Console.WriteLine($"augmentation + batching: {augmentation:F0} img/s");
            Console.WriteLine($"peak RSS {result.PeakRssMiB:F0} MiB, RSS growth {result.RssGrowthPercent:F2}% (allocator policy: {AllocatorPolicy.Status})");
            var json = new Dictionary<string, object>
            {
                ["framework"] = "archgen",
                ["model"] = result.Model,
                ["batch_size"] = result.BatchSize,
                ["threads"] = result.Threads,
                ["steps"] = result.Steps,
                ["warmup"] = result.Warmup,
                ["allocator_policy"] = AllocatorPolicy.Status,
                ["train_img_s"] = Round(result.TrainImagesPerSecond),
                ["infer_img_s"] = Round(result.InferImagesPerSecond),
                ["fused_infer_img_s"] = Round(result.FusedInferImagesPerSecond),
                ["aug_img_s"] = Round(augmentation),
                ["peak_rss_mb"] = Round(result.PeakRssMiB),
                ["rss_growth_pct"] = Round(result.RssGrowthPercent),
            };
            Console.WriteLine(JsonSerializer.Serialize(json));
            return ExitCodes.Success;
        }));
        return command;
    }

    static double Round(double v) => Math.Round(v, 2, MidpointRounding.AwayFromZero);
}
