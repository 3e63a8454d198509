using System.CommandLine;
using System.Globalization;
using ArchGen.App.Cli;
using ArchGen.Blocks;
using ArchGen.Performance;
using ArchGen.Training;
using Spectre.Console;
using static TorchSharp.torch;

namespace ArchGen.App.Commands;

/// <summary>
/// <c>archgen doctor</c>: what this machine computes with, which layers keep the channels-last fast path here (see
/// <see cref="VerifiedLayout"/>), and whether every catalog model's logits and gradients are exact as it runs them.
/// Exit code 0 only when every check was exact.
/// </summary>
public static class DoctorCommand
{
    /// <summary>The largest batch size the checks take (each batch runs forward and backward in float32 twice and in float64 once).</summary>
    public const int MaxBatch = 32;

    public static Command Create()
    {
        var models = new Option<string[]>("--model", "-m")
        {
            Description = "Models to check (repeatable; default: every catalog model, at its declared input size).",
            AllowMultipleArgumentsPerToken = true,
        };
        var batches = new Option<string>("--batch-sizes")
        {
            Description = $"Comma-separated batch sizes to check, each 1-{MaxBatch} (at most 8 of them).",
            DefaultValueFactory = _ => "1,2,5",
        };
        var threads = CommonOptions.Threads();
        var command = new Command("doctor",
            "Check this machine: CPU, LibTorch and oneDNN, threads and allocator, which layers run channels-last here, and whether " +
            "every model's logits and gradients match float64 (exit code 0 only when all are exact).")
        { models, batches, threads };
        command.SetAction(parse => CommandAction.Run(() =>
        {
            var sizes = ParseBatchSizes(parse.GetValue(batches)!);
            var entries = (parse.GetValue(models) is { Length: > 0 } names ? names.Select(ModelCatalog.Get) : ModelCatalog.All).Distinct().ToList();
            int threadCount = Devices.SetThreads(parse.GetValue(threads));
            return Run(entries, sizes, threadCount);
        }));
        return command;
    }

    static int[] ParseBatchSizes(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is 0 or > 8) throw new ArgumentException($"--batch-sizes takes 1 to 8 comma-separated sizes (got '{text}').");
        return parts.Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= MaxBatch
            ? n
            : throw new ArgumentException($"--batch-sizes: '{p}' is not a batch size from 1 to {MaxBatch}.")).Distinct().ToArray();
    }

    static int Run(IReadOnlyList<CatalogEntry> entries, int[] batchSizes, int threads)
    {
        string Or(string? value) => value ?? "unknown";
        var system = new Grid().AddColumn().AddColumn();
        system.AddRow("CPU", Markup.Escape(MachineInfo.CpuModel));
        system.AddRow("vector extensions", Markup.Escape(string.Join(" ", MachineInfo.VectorExtensions) is { Length: > 0 } isa ? isa : "none of AVX2/AVX-512/AMX"));
        system.AddRow("kernel caps", Markup.Escape(MachineInfo.KernelCaps.Count > 0 ? string.Join(" ", MachineInfo.KernelCaps) : "none"));
        system.AddRow("LibTorch", Markup.Escape($"{MachineInfo.LibTorchVersion} (ATen CPU capability {Or(MachineInfo.AtenCapability)})"));
        system.AddRow("oneDNN", Markup.Escape(Or(MachineInfo.OneDnnVersion)));
        system.AddRow("threads", threads.ToString(CultureInfo.InvariantCulture));
        system.AddRow("allocator policy", Markup.Escape(AllocatorPolicy.Status));
        system.AddRow("LibTorch log", Markup.Escape(LibTorchLog.Level is { } level
            ? $"{level}{(Environment.GetEnvironmentVariable(LibTorchLog.Variable) is { } set ? $" ({LibTorchLog.Variable}={set})" : Environment.GetEnvironmentVariable("ARCHGEN_DEBUG") == "1" ? " (ARCHGEN_DEBUG=1)" : " (its warnings silenced; ARCHGEN_DEBUG=1 shows them)")}"
            : "unknown"));
        system.AddRow("memory layout", Markup.Escape(VerifiedLayout.Policy switch
        {
            LayoutPolicy.Plain => $"plain everywhere ({VerifiedLayout.Variable}=plain)",
            LayoutPolicy.ChannelsLast => $"channels-last everywhere, unchecked ({VerifiedLayout.Variable}=channels-last)",
            _ => "verified: inference runs channels-last where each layer's output agrees with the plain layout's on this machine; training runs plain",
        }));
        AnsiConsole.Write(system);
        AnsiConsole.WriteLine();

        var table = new Table()
            .AddColumns("Model", "Input")
            .AddColumn(new TableColumn("Channels-last layers (training / inference)").RightAligned())
            .AddColumn(new TableColumn("Max |Δlogit| (allowed)").RightAligned())
            .AddColumn(new TableColumn($"Worst gradient error (allowed {Sci(Exactness.GradientBound)})").RightAligned())
            .AddColumn(new TableColumn($"Repeat (allowed {Sci(Exactness.RepeatBound)})").RightAligned())
            .AddColumn("Result");
        int failed = 0, checks = 0;
        var plainLayers = new List<string>();
        foreach (var entry in entries)
        {
            using var built = entry.Create();
            if (built is not GeneratedModel model) continue;
            // Seeded: the same check every time.
            using (var random = new Generator(7)) Exactness.RandomizeBatchNorm(model, random);
            var f = entry.Facts;
            foreach (int batch in batchSizes)
            {
                Interruption.Token.ThrowIfCancellationRequested();
                long[] shape = [batch, f.InputChannels, f.InputSize, f.InputSize];
                model.train();
                var train = VerifiedLayout.Verify(model, shape, withGradients: true);
                model.eval();
                var eval = VerifiedLayout.Verify(model, shape, withGradients: false);
                var result = Exactness.Measure(model, shape, seed: (ulong)batch);
                checks++;
                if (!result.Exact) failed++;
                foreach (var e in eval.Layers.Where(e => !e.Verdict.ChannelsLast)) // training runs plain by design
                    plainLayers.Add($"{f.Name} {e.Layer} ({e.Mode}): {e.Verdict.Why}");
                table.AddRow(
                    Markup.Escape(f.Name),
                    string.Join("x", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))),
                    $"{Count(train)} / {Count(eval)}",
                    $"{Sci(result.LogitError)} ({Sci(result.LogitBound)})",
                    $"{Sci(result.GradientError)} ({Markup.Escape(result.WorstParameter)})",
                    Sci(result.RepeatDifference),
                    result.Exact ? "[green]exact[/]" : "[red]NOT EXACT[/]");
            }
        }
        AnsiConsole.Write(table);
        foreach (var line in plainLayers) Console.WriteLine("plain: " + line);
        Console.WriteLine(failed == 0
            ? $"All {checks} checks exact: logits within max(1e-4, 20x float32's own error) of float64, every parameter's gradient within {Sci(Exactness.GradientBound)} relative L2, the same when computed twice."
            : $"{failed} of {checks} checks NOT exact: this machine computes wrong results even on the verified path.");
        return failed == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    static string Count(LayoutCheck check) =>
        $"{check.ChannelsLast.ToString(CultureInfo.InvariantCulture)}/{check.Layers.Count.ToString(CultureInfo.InvariantCulture)}";

    static string Sci(double value) => value.ToString("0.0E+0", CultureInfo.InvariantCulture);
}
