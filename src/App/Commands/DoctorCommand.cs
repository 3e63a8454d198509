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
/// <c>archgen doctor</c>: what this machine computes with, which path each convolution takes here (see
/// <see cref="VerifiedLayout"/>), and whether every catalog model's logits and gradients are exact as it runs them.
/// Exit code 0 only when every check was exact.
/// </summary>
public static class DoctorCommand
{
    /// <summary>The most repetitions --repeat takes.</summary>
    public const int MaxRepeat = 50;

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
        var layers = new Option<bool>("--layers")
        {
            Description = "Print every convolution's path (channels-last, GEMM or plain) and why, for training and for inference; by default only those not on their fastest path.",
        };
        var repeat = new Option<int>("--repeat")
        {
            Description = $"Check every convolution's paths this many more times, afresh, and say whether any verdict or error changed (0-{MaxRepeat}): a fault that comes and goes shows here.",
            DefaultValueFactory = _ => 0,
        };
        repeat.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or > MaxRepeat) r.AddError($"--repeat takes 0 to {MaxRepeat}.");
        });
        var threads = CommonOptions.Threads();
        var command = new Command("doctor",
            "Check this machine: CPU, LibTorch and oneDNN, threads and allocator, which path each convolution takes here (channels-last, " +
            $"GEMM or plain, each verified against float64; {VerifiedLayout.Variable}=plain turns the fast paths off), and whether " +
            "every model's logits and gradients match float64 (exit code 0 only when all are exact).")
        { models, batches, layers, repeat, threads };
        command.SetAction(parse => CommandAction.Run(() =>
        {
            var sizes = ParseBatchSizes(parse.GetValue(batches)!);
            var entries = (parse.GetValue(models) is { Length: > 0 } names ? names.Select(ModelCatalog.Get) : ModelCatalog.All).Distinct().ToList();
            int threadCount = Devices.SetThreads(parse.GetValue(threads));
            VerifiedLayout.UseStoredVerdicts = false; // the doctor checks every convolution afresh (and stores what it finds)
            int code = Run(entries, sizes, threadCount, parse.GetValue(layers));
            int times = parse.GetValue(repeat);
            return times > 0 && !Repeat(entries, sizes, times) ? ExitCodes.Failure : code;
        }));
        return command;
    }

    static int[] ParseBatchSizes(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length > 8) throw new ArgumentException($"--batch-sizes takes 1 to 8 comma-separated sizes (got '{text}').");
        var sizes = new List<int>();
        foreach (string p in parts)
        {
            if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n is < 1 or > MaxBatch)
                throw new ArgumentException($"--batch-sizes '{text}': '{p}' is not a batch size from 1 to {MaxBatch} (give 1 to 8 sizes separated by commas, e.g. 1,2,8).");
            if (sizes.Contains(n)) throw new ArgumentException($"--batch-sizes '{text}' names {n.ToString(CultureInfo.InvariantCulture)} twice.");
            sizes.Add(n);
        }
        return sizes.ToArray();
    }

    static int Run(IReadOnlyList<CatalogEntry> entries, int[] batchSizes, int threads, bool everyLayer)
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
        system.AddRow("memory layout", Markup.Escape(VerifiedLayout.Policy == LayoutPolicy.Plain
            ? $"plain everywhere ({VerifiedLayout.Variable}=plain)"
            : $"verified: each convolution takes the fastest path whose output and gradients are within {Sci(VerifiedLayout.Tolerance)} of float64 " +
              "on this machine for its shape (channels-last oneDNN; a matrix product for 1x1; else plain)"));
        AnsiConsole.Write(system);
        AnsiConsole.WriteLine();

        var table = new Table()
            .AddColumns("Model", "Input")
            .AddColumn(new TableColumn("Convolutions CL/GEMM/plain, training").RightAligned())
            .AddColumn(new TableColumn("inference").RightAligned())
            .AddColumn(new TableColumn("Max |Δlogit| (allowed)").RightAligned())
            .AddColumn(new TableColumn($"Worst gradient error (allowed {Sci(Exactness.GradientBound)})").RightAligned())
            .AddColumn(new TableColumn($"Repeat (allowed {Sci(Exactness.RepeatBound)})").RightAligned())
            .AddColumn("Result");
        int failed = 0, checks = 0;
        var paths = new List<string>();
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
                // Measure runs the model as inference and as training do: its convolutions take (and record) their paths.
                var result = Exactness.Measure(model, shape, seed: (ulong)batch);
                var verdicts = VerifiedLayout.Report(model).Where(e => e.Input.StartsWith($"{batch}x", StringComparison.Ordinal)).ToList();
                checks++;
                if (!result.Exact) failed++;
                foreach (var e in verdicts.Where(e => everyLayer || e.Verdict.Rejected.Count > 0 || e.Verdict.Path == ConvPath.Plain))
                    paths.Add($"{f.Name} {e.Layer} {e.Input} {e.Mode}: {e.Verdict.Why}");
                table.AddRow(
                    Markup.Escape(f.Name),
                    string.Join("x", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))),
                    Count(verdicts.Where(e => e.Training)),
                    Count(verdicts.Where(e => !e.Training)),
                    $"{Sci(result.LogitError)} ({Sci(result.LogitBound)})",
                    $"{Sci(result.GradientError)} ({Markup.Escape(result.WorstParameter)})",
                    Sci(result.RepeatDifference),
                    result.Exact ? "[green]exact[/]" : "[red]NOT EXACT[/]");
            }
        }
        AnsiConsole.Write(table);
        if (paths.Count > 0)
            Console.WriteLine(everyLayer ? "Every convolution's path:" : "Convolutions not on their fastest path (--layers lists all):");
        foreach (var line in paths) Console.WriteLine("  " + line);
        Console.WriteLine(failed == 0
            ? $"All {checks} checks exact: logits within max(1e-4, 20x float32's own error) of float64, every parameter's gradient within {Sci(Exactness.GradientBound)} relative L2, the same when computed twice."
            : $"{failed} of {checks} checks NOT exact: this machine computes wrong results even on the verified path.");
        return failed == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    /// <summary>
    /// Decides every convolution's path <paramref name="times"/> more times for each model and batch, in training and in
    /// inference, each time afresh (the process's verdicts forgotten, a new model); prints whether any verdict changed
    /// (which paths are exact: a fault that comes and goes) and the range of every error. True when nothing changed.
    /// </summary>
    static bool Repeat(IReadOnlyList<CatalogEntry> entries, int[] batchSizes, int times)
    {
        var outcomes = new Dictionary<string, HashSet<string>>();
        var errors = new Dictionary<string, (double Min, double Max)>();
        void Note(string key, double error) =>
            errors[key] = errors.TryGetValue(key, out var e) ? (Math.Min(e.Min, error), Math.Max(e.Max, error)) : (error, error);
        for (int r = 0; r < times; r++)
        {
            foreach (var entry in entries)
            foreach (int batch in batchSizes)
            {
                Interruption.Token.ThrowIfCancellationRequested();
                VerifiedLayout.ForgetVerdicts();
                using var model = entry.Create();
                var f = entry.Facts;
                foreach (bool training in new[] { true, false })
                foreach (var e in VerifiedLayout.Prepare(model, [batch, f.InputChannels, f.InputSize, f.InputSize], training))
                {
                    string key = $"{f.Name} {e.Layer} {e.Input} {e.Mode}";
                    // A change in which paths are exact is a fault that comes and goes.
                    string inexact = e.Verdict.Rejected.Count == 0 ? "none inexact" : string.Join(", ", e.Verdict.Rejected.Select(p => VerifiedLayout.Name(p.Path))) + " inexact";
                    (outcomes.TryGetValue(key, out var set) ? set : outcomes[key] = []).Add(inexact);
                    Note($"{key} {VerifiedLayout.Name(e.Verdict.Path)}", e.Verdict.Error);
                    foreach (var (path, error) in e.Verdict.Rejected) Note($"{key} {VerifiedLayout.Name(path)}", error);
                }
            }
        }
        var changed = outcomes.Where(c => c.Value.Count > 1).Select(c => c.Key).ToList();
        var passing = errors.Where(e => e.Value.Max <= VerifiedLayout.Tolerance).ToList();
        var failing = errors.Where(e => e.Value.Max > VerifiedLayout.Tolerance).ToList();
        Console.WriteLine($"Repeated {times} times: {outcomes.Count} verdicts, {changed.Count} changed; " +
                          $"passing paths within {Sci(passing.Select(e => e.Value.Max).DefaultIfEmpty(0).Max())} of float64, " +
                          (failing.Count == 0 ? "no path failed." : $"{failing.Count} failing paths, {failing.Count(e => e.Value.Min != e.Value.Max)} of them with an error that varied:"));
        foreach (var (key, (min, max)) in failing) Console.WriteLine($"  {key}: {Sci(min)}{(min == max ? " every time" : $" to {Sci(max)}")}");
        foreach (var key in changed) Console.WriteLine($"  CHANGED {key}: {string.Join(" / ", outcomes[key])}");
        return changed.Count == 0;
    }

    static string Count(IEnumerable<LayoutEntry> entries)
    {
        var list = entries.ToList();
        return string.Join("/", Enum.GetValues<ConvPath>().Select(p => list.Count(e => e.Verdict.Path == p).ToString(CultureInfo.InvariantCulture)));
    }

    static string Sci(double value) => value.ToString("0.0E+0", CultureInfo.InvariantCulture);
}
