using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace ArchGen.Performance;

/// <summary>What this machine computes with: the CPU and its vector extensions, and LibTorch's build (oneDNN, the CPU capability ATen uses).</summary>
public static partial class MachineInfo
{
    /// <summary>The CPU's model name (from /proc/cpuinfo; the OS description elsewhere).</summary>
    public static string CpuModel => CpuInfoField("model name") ?? RuntimeInformation.OSArchitecture.ToString();

    /// <summary>The vector extensions that decide which kernels oneDNN and ATen pick (AVX2, AVX-512 and its VNNI/BF16/FP16 parts, AMX), as /proc/cpuinfo names them.</summary>
    public static IReadOnlyList<string> VectorExtensions
    {
        get
        {
            var flags = (CpuInfoField("flags") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
            return flags.Where(f => f is "avx2" or "fma" || f.StartsWith("avx512", StringComparison.Ordinal) || f.StartsWith("amx", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>The environment variables that cap the kernels (ONEDNN_MAX_CPU_ISA, ATEN_CPU_CAPABILITY) as set for this process.</summary>
    public static IReadOnlyList<string> KernelCaps =>
        new[] { "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY" }
            .Where(v => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(v)))
            .Select(v => $"{v}={Environment.GetEnvironmentVariable(v)}").ToList();

    /// <summary>The LibTorch version TorchSharp was built against.</summary>
    public static string LibTorchVersion => TorchSharp.torch.__version__;

    /// <summary>
    /// LibTorch's own build description (<c>at::show_config()</c>, as PyTorch's <c>torch.__config__.show()</c>), or null
    /// where it cannot be read (not Linux x64, or the symbol is missing).
    /// </summary>
    public static string? TorchConfig => config.Value;

    /// <summary>The oneDNN version LibTorch was built with (e.g. <c>v3.7.1</c>), from <see cref="TorchConfig"/>; null when unknown.</summary>
    public static string? OneDnnVersion => TorchConfig is { } c && OneDnnPattern().Match(c) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>The CPU capability ATen's own kernels use (e.g. <c>AVX512</c>), from <see cref="TorchConfig"/>; null when unknown.</summary>
    public static string? AtenCapability => TorchConfig is { } c && CapabilityPattern().Match(c) is { Success: true } m ? m.Groups[1].Value : null;

    static readonly Lazy<string?> config = new(ReadTorchConfig);

    /// <summary>A field of /proc/cpuinfo's first processor (e.g. <c>model name</c>, <c>flags</c>), or null.</summary>
    internal static string? CpuInfoField(string name)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line[..colon].Trim() == name) return line[(colon + 1)..].Trim();
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }

    // at::show_config() returns a std::string (libstdc++'s: data pointer, length, 16-byte buffer) through a hidden
    // result pointer, as the x86-64 System V ABI passes a non-trivial return value. The string (a few hundred bytes,
    // read once) is not freed.
    [DllImport("libtorch_cpu.so", EntryPoint = "_ZN2at11show_configB5cxx11Ev")]
    static extern unsafe void ShowConfig(void* result);

    static unsafe string? ReadTorchConfig()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return null;
        try
        {
            TorchSharp.torch.InitializeDeviceType(TorchSharp.DeviceType.CPU); // loads LibTorch
            var buffer = stackalloc byte[32];
            ShowConfig(buffer);
            var data = *(byte**)buffer;
            long length = *(long*)(buffer + 8);
            return length is > 0 and < 1 << 20 ? System.Text.Encoding.UTF8.GetString(data, (int)length) : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"(?:MKL-DNN|oneDNN)\s+(v[0-9][0-9.]*)")]
    private static partial Regex OneDnnPattern();

    [GeneratedRegex(@"CPU capability usage:\s*(\S+)")]
    private static partial Regex CapabilityPattern();
}
