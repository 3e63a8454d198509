using System.Runtime.InteropServices;

namespace ArchGen.Performance;

/// <summary>
/// LibTorch's own log (c10's <c>LOG(WARNING)</c>): on CPUs NNPACK does not support it prints "Could not initialize
/// NNPACK! Reason: Unsupported hardware." for every convolution it considers NNPACK for, thousands of lines per
/// training run, burying ArchGen's own messages. ArchGen sets it to errors only, the way PyTorch documents
/// (<c>TORCH_CPP_LOG_LEVEL</c>, which c10 reads in <c>c10::initLogging()</c>; a LibTorch host must call it, as
/// PyTorch's Python module does). <c>ARCHGEN_DEBUG=1</c> keeps LibTorch's default (warnings); a
/// <c>TORCH_CPP_LOG_LEVEL</c> the user set is kept as it is.
/// </summary>
public static class LibTorchLog
{
    /// <summary>The variable c10 reads.</summary>
    public const string Variable = "TORCH_CPP_LOG_LEVEL";

    /// <summary>Sets the level (loading LibTorch); call it once, at start, before any model runs.</summary>
    public static void Apply()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            if (Environment.GetEnvironmentVariable(Variable) is null && Environment.GetEnvironmentVariable("ARCHGEN_DEBUG") != "1")
            {
                // Environment.SetEnvironmentVariable changes only .NET's copy; c10 reads the C library's.
                setenv(Variable, "ERROR", 1);
            }
            TorchSharp.torch.InitializeDeviceType(TorchSharp.DeviceType.CPU); // loads LibTorch
            InitLogging();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            // Another LibTorch build: its warnings stay on.
        }
    }

    /// <summary>
    /// The level c10's log runs at, read from LibTorch (<c>FLAGS_caffe2_log_level</c>: INFO, WARNING, ERROR or FATAL),
    /// or null where it cannot be read.
    /// </summary>
    public static string? Level
    {
        get
        {
            if (!OperatingSystem.IsLinux()) return null;
            try
            {
                TorchSharp.torch.InitializeDeviceType(TorchSharp.DeviceType.CPU);
                var c10 = NativeLibrary.Load("libc10.so", typeof(LibTorchLog).Assembly, DllImportSearchPath.AssemblyDirectory);
                int level = Marshal.ReadInt32(NativeLibrary.GetExport(c10, "FLAGS_caffe2_log_level"));
                return level switch { <= 0 => "INFO", 1 => "WARNING", 2 => "ERROR", _ => "FATAL" };
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
            {
                return null;
            }
        }
    }

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int setenv(string name, string value, int overwrite);

    [DllImport("libc10.so", EntryPoint = "_ZN3c1011initLoggingEv")]
    static extern void InitLogging();
}
