using System.CommandLine;
using System.Text.Json;
using ArchGen.App.Cli;
using ArchGen.Data;
using ArchGen.Data.Images;
using ArchGen.Onnx.Serving;
using ArchGen.Performance;
using Microsoft.ML.OnnxRuntime;
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
        var onnxOptimization = new Option<string>("--onnx-optimization")
        {
            Description = "ONNX Runtime graph optimization level: basic, extended or all.",
            DefaultValueFactory = _ => "all",
        }.AcceptOnlyFromAmong("basic", "extended", "all");
        var onnxArena = new Option<bool>("--onnx-arena") { Description = "Keep ONNX Runtime's CPU memory arena.", DefaultValueFactory = _ => true };
        var onnxSpinning = new Option<bool>("--onnx-spinning") { Description = "Let ONNX Runtime's threads spin between runs (archgen serve does not).", DefaultValueFactory = _ => true };
        var data = new Option<string?>("--data")
        {
            Description = "Instead, time the photo pipeline on this folder of class subfolders (or dataset root: its train/): decode, random resized crop, flip, normalize and batch at the model's input size.",
        };
        var workers = new Option<int>("--workers") { Description = "With --data: parallel decoders (0 = one per core).", DefaultValueFactory = _ => 0 };
        var epochs = new Option<int>("--epochs") { Description = "With --data: passes over the folder.", DefaultValueFactory = _ => 1 };
        var command = new Command("bench", "Measure a model's training, inference (TorchSharp and ONNX Runtime) and the data layer's augmentation throughput, or (--data) the photo pipeline's; prints JSON last.")
        {
            model, batchSize, steps, warmup, threads, onnxOptimization, onnxArena, onnxSpinning, data, workers, epochs,
        };
        command.SetAction(parse => CommandAction.Run(() =>
        {
            var entry = ModelCatalog.Get(parse.GetValue(model)!);
            int batch = parse.GetValue(batchSize);
            if (parse.GetValue(data) is { } folder) return Folder(folder, entry, batch, parse.GetValue(workers), parse.GetValue(epochs));
            var result = ModelBenchmark.Run(entry, batch, parse.GetValue(steps), parse.GetValue(warmup), parse.GetValue(threads), Console.WriteLine, Interruption.Token);
            var onnxSettings = new OnnxSessionSettings(result.Threads, parse.GetValue(onnxOptimization) switch
            {
                "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                "extended" => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
            }, parse.GetValue(onnxArena), parse.GetValue(onnxSpinning));
            var onnx = OnnxBenchmark.Run(entry, batch, parse.GetValue(steps), parse.GetValue(warmup), onnxSettings, Console.WriteLine, Interruption.Token);
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
                ["fused_latency_ms"] = Round(result.FusedLatencyMs),
                ["onnx_infer_img_s"] = Round(onnx.ImagesPerSecond),
                ["onnx_latency_ms"] = Round(onnx.LatencyMs),
                ["onnx_optimization"] = onnxSettings.Optimization.ToString(),
                ["onnx_arena"] = onnxSettings.MemoryArena,
                ["onnx_spinning"] = onnxSettings.Spinning,
                ["aug_img_s"] = Round(augmentation),
                ["peak_rss_mb"] = Round(result.PeakRssMiB),
                ["rss_growth_pct"] = Round(result.RssGrowthPercent),
            };
            Console.WriteLine(JsonSerializer.Serialize(json));
            return ExitCodes.Success;
        }));
        return command;
    }

    static int Folder(string folder, CatalogEntry entry, int batch, int workers, int epochs)
    {
        if (batch < 1) throw new ArgumentException($"--batch-size must be at least 1 (got {batch}).");
        if (workers < 0) throw new ArgumentException($"--workers must be 0 (one per core) or more (got {workers}).");
        if (epochs < 1) throw new ArgumentException($"--epochs must be at least 1 (got {epochs}).");
        var result = FolderBenchmark.Run(folder, entry.Facts.InputSize, batch, workers, epochs, Interruption.Token);
        Console.WriteLine($"{result.ImagesTimed} images ({result.Images} in the folder) at {result.Size}x{result.Size} in {result.Seconds:F2} s with {result.Workers} workers: {result.ImagesPerSecond:F1} img/s");
        Console.WriteLine($"peak RSS {result.PeakRssMiB:F0} MiB (allocator policy: {AllocatorPolicy.Status})");
        var json = new Dictionary<string, object>
        {
            ["framework"] = "archgen",
            ["pipeline"] = "folder",
            ["model"] = entry.Facts.Name,
            ["size"] = result.Size,
            ["batch_size"] = result.BatchSize,
            ["workers"] = result.Workers,
            ["images"] = result.Images,
            ["images_timed"] = result.ImagesTimed,
            ["load_img_s"] = Round(result.ImagesPerSecond),
            ["peak_rss_mb"] = Round(result.PeakRssMiB),
        };
        Console.WriteLine(JsonSerializer.Serialize(json));
        return ExitCodes.Success;
    }

    static double Round(double v) => Math.Round(v, 2, MidpointRounding.AwayFromZero);
}
