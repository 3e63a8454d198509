using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ArchGen.Checkpoints;

namespace ArchGen.Performance;

/// <summary>
/// The verdicts of <see cref="VerifiedLayout"/> kept on disk, so that the processes of one machine check a convolution
/// shape once: <c>$XDG_CACHE_HOME/archgen/verdicts.json</c> (else <c>~/.cache/archgen/verdicts.json</c>). The file holds
/// the machine it was written on (the CPU's model, family, stepping, cache size and flags, LibTorch's build, the kernel
/// caps in the environment and the check's version); on any other machine, or when it cannot be read, it is ignored and
/// replaced. Writes are atomic and merge what other processes wrote meanwhile; a file that cannot be written leaves the
/// verdicts in the process only. Verdicts of a fault-injected check are never stored.
/// </summary>
internal static class VerdictStore
{
    /// <summary>Changes whenever the check, its candidates or its tolerance change, so that older verdicts are not reused.</summary>
    const string CheckVersion = "archgen-verdicts-2"; // 2: no verdict stored while the fallback order of 1x1 convolutions changed is reused

    static readonly object Gate = new();
    static Dictionary<string, JsonObject>? entries;

    /// <summary>The file; null keeps verdicts in the process only. Tests point it elsewhere.</summary>
    public static string? FilePath { get; set; } = DefaultPath();

    /// <summary>Whether stored verdicts are used (<c>archgen doctor</c> checks afresh, and stores what it finds).</summary>
    public static bool Read { get; set; } = true;

    static readonly AsyncLocal<bool> ignoring = new();

    /// <summary>Ignores stored verdicts on this flow of execution until the result is disposed (tests that need a check to run).</summary>
    internal static IDisposable Ignore()
    {
        bool previous = ignoring.Value;
        ignoring.Value = true;
        return new Restore(() => ignoring.Value = previous);
    }

    sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    static string? DefaultPath()
    {
        string? root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(root))
        {
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (string.IsNullOrEmpty(home)) return null;
            root = Path.Combine(home, ".cache");
        }
        return Path.Combine(root, "archgen", "verdicts.json");
    }

    /// <summary>What this machine computes with, as far as the kernels' choice and correctness can depend on it.</summary>
    internal static string Machine => machine.Value;

    static readonly Lazy<string> machine = new(() =>
    {
        var text = new StringBuilder(CheckVersion).Append('\n');
        foreach (string field in new[] { "vendor_id", "model name", "cpu family", "model", "stepping", "cache size", "flags" })
            text.Append(field).Append('=').Append(MachineInfo.CpuInfoField(field)).Append('\n');
        text.Append(MachineInfo.LibTorchVersion).Append('\n').Append(MachineInfo.TorchConfig).Append('\n');
        foreach (string variable in new[] { "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "ONEDNN_DEFAULT_FPMATH_MODE", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR", "MKL_DEBUG_CPU_TYPE" })
            text.Append(variable).Append('=').Append(Environment.GetEnvironmentVariable(variable)).Append('\n');
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    });

    /// <summary>Forgets what this process read from the file (tests: as another process would start).</summary>
    internal static void Forget()
    {
        lock (Gate) entries = null;
    }

    /// <summary>The verdict stored under <paramref name="key"/> for this machine, if any.</summary>
    public static ConvVerdict? Get(string key)
    {
        if (!Read || ignoring.Value || FilePath is null) return null;
        lock (Gate)
        {
            entries ??= Load(FilePath);
            if (!entries.TryGetValue(key, out var entry)) return null;
            try
            {
                var path = Enum.Parse<ConvPath>(entry["path"]!.GetValue<string>());
                double error = entry["error"]?.GetValue<double>() ?? double.NaN;
                return new ConvVerdict(path, error, entry["why"]!.GetValue<string>() + " (stored)");
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or NullReferenceException or FormatException)
            {
                return null; // an entry of another shape: checked afresh, and replaced
            }
        }
    }

    /// <summary>Stores <paramref name="verdict"/> under <paramref name="key"/>, with what other processes stored meanwhile.</summary>
    public static void Add(string key, ConvVerdict verdict)
    {
        if (FilePath is not { } file) return;
        lock (Gate)
        {
            var merged = Load(file);
            merged[key] = new JsonObject
            {
                ["path"] = verdict.Path.ToString(),
                ["error"] = double.IsFinite(verdict.Error) ? verdict.Error : null,
                ["why"] = verdict.Why,
            };
            entries = merged;
            var verdicts = new JsonObject();
            foreach (var (k, v) in merged) verdicts[k] = v.DeepClone();
            var root = new JsonObject { ["machine"] = Machine, ["verdicts"] = verdicts };
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                AtomicFile.WriteAllText(file, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not writable (read-only home, full disk): the verdicts stay in this process.
            }
        }
    }

    /// <summary>The entries of <paramref name="file"/> written on this machine; none when it is missing, unreadable, or from another machine.</summary>
    static Dictionary<string, JsonObject> Load(string file)
    {
        var loaded = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        try
        {
            if (JsonNode.Parse(File.ReadAllText(file)) is not JsonObject root || root["machine"]?.GetValue<string>() != Machine) return loaded;
            if (root["verdicts"] is not JsonObject verdicts) return loaded;
            foreach (var (key, value) in verdicts)
                if (value is JsonObject entry) loaded[key] = (JsonObject)entry.DeepClone();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or FormatException)
        {
        }
        return loaded;
    }

    /// <summary>The store's key of a check: structure, input, gradients, threads (CPU only).</summary>
    public static string Key(VerifiedLayout.CheckKey key)
    {
        var c = key.Conv;
        return string.Create(CultureInfo.InvariantCulture,
            $"{c.In},{c.Out},k{c.Kernel},s{c.Stride},p{c.Padding},g{c.Groups},{(c.Bias ? "bias" : "nobias")} {key.N}x{key.H}x{key.W} {(key.InputGrad ? "dx" : "")}{(key.WeightGrad ? "dw" : "")}{(key.Training ? "" : "forward")} t{key.Threads}");
    }
}
