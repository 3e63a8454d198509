using System.Runtime.InteropServices;

namespace ArchGen.Performance;

/// <summary>
/// The native allocator policy that makes TorchSharp fast on Linux.
/// <para>
/// A MobileNetV2 step allocates large activation tensors. glibc serves blocks above its mmap threshold with fresh
/// <c>mmap</c>s and gives them back on free, so every step page-faults all of its memory in again (system time ≈ user
/// time). Telling glibc never to use mmap for large blocks and never to trim the heap keeps freed memory for the next
/// step: the same effect as <c>GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=…</c>, applied
/// in-process with <c>mallopt</c> because glibc reads its tunables only at process start and .NET's
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach the native environment.
/// </para>
/// <para>Set <c>ARCHGEN_ALLOCATOR=default</c> to leave glibc's defaults alone.</para>
/// </summary>
public static class AllocatorPolicy
{
    /// <summary>The environment variable that turns the policy off when set to <c>default</c>.</summary>
    public const string EnvironmentSwitch = "ARCHGEN_ALLOCATOR";

    const int M_TRIM_THRESHOLD = -1;
    const int M_MMAP_MAX = -4;

    static int applied;

    /// <summary>What <see cref="Apply"/> did, for logs and benchmark output.</summary>
    public static string Status { get; private set; } = "not applied";

    /// <summary>
    /// Applies the policy once per process, before libtorch's first large allocation. Does nothing on other
    /// operating systems, or when <c>ARCHGEN_ALLOCATOR=default</c>. Returns true when the policy is in force.
    /// </summary>
    public static bool Apply()
    {
        if (Interlocked.Exchange(ref applied, 1) == 1) return Status == "applied";
        if (!OperatingSystem.IsLinux())
        {
            Status = "not applied (not Linux)";
            return false;
        }
        if (string.Equals(Environment.GetEnvironmentVariable(EnvironmentSwitch), "default", StringComparison.OrdinalIgnoreCase))
        {
            Status = $"off ({EnvironmentSwitch}=default)";
            return false;
        }
        try
        {
            // mallopt returns 1 on success. Trim threshold: the largest int glibc accepts, i.e. never trim.
            bool ok = mallopt(M_MMAP_MAX, 0) == 1 & mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
            Status = ok ? "applied" : "mallopt refused";
            return ok;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Status = "not applied (no glibc mallopt: " + e.GetType().Name + ")";
            return false;
        }
    }

    /// <summary>
    /// Gives the heap's free pages back to the system (glibc's <c>malloc_trim(0)</c>: the free top of the heap and
    /// every whole free page inside it), which the policy otherwise keeps resident for the next step's blocks. Called
    /// between phases that allocate differently (after an epoch's evaluation and checkpoint): their blocks, once freed,
    /// would otherwise stay resident beside the training step's, and resident memory would grow epoch after epoch.
    /// Costs the next step a few page faults. Returns true when memory was released; false elsewhere than glibc.
    /// </summary>
    public static bool ReleaseFreeMemory()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return malloc_trim(0) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int mallopt(int param, int value);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int malloc_trim(nuint pad);
}
