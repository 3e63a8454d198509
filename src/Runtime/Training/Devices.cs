using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Training;

/// <summary>Chooses the torch device and thread count for a run.</summary>
public static class Devices
{
    /// <summary><c>auto</c>: CUDA when available, else CPU. <c>cuda</c> without CUDA is an error.</summary>
    public static Device Resolve(string device) => device switch
    {
        "cpu" => torch.CPU,
        "cuda" => torch.cuda.is_available()
            ? torch.CUDA
            : throw new ArgumentException("--device cuda was asked for, but CUDA is not available (this build uses the TorchSharp-cpu backend; build with -p:TorchBackend=cuda-windows or cuda-linux)."),
        "auto" => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
        _ => throw new ArgumentException($"--device must be auto, cpu or cuda (got '{device}')."),
    };

    /// <summary>Sets torch's intra-op threads; 0 means one per core. More than <see cref="OptionRules.MaxThreads"/> is an <see cref="ArgumentException"/>.</summary>
    public static int SetThreads(int threads)
    {
        int n = Threads(threads);
        torch.set_num_threads(n);
        return n;
    }

    /// <summary>The intra-op threads <c>--threads</c> asks for: 0 means one per core. More than <see cref="OptionRules.MaxThreads"/> is an <see cref="ArgumentException"/>.</summary>
    public static int Threads(int threads)
    {
        OptionRules.Require(OptionRules.Threads(threads));
        return threads > 0 ? threads : Environment.ProcessorCount;
    }
}
