namespace ArchGen.Performance;

/// <summary>Resident memory of this process, read from <c>/proc</c> on Linux (the OS's own figures).</summary>
public static class ResourceUsage
{
    /// <summary>Current resident set size in MiB (VmRSS), or the GC's view where <c>/proc</c> is missing.</summary>
    public static double ResidentMiB() => ReadStatusKiB("VmRSS:") is { } kib ? kib / 1024.0 : Environment.WorkingSet / (1024.0 * 1024.0);

    /// <summary>Peak resident set size in MiB (VmHWM), or the current working set where <c>/proc</c> is missing.</summary>
    public static double PeakResidentMiB() => ReadStatusKiB("VmHWM:") is { } kib ? kib / 1024.0 : ResidentMiB();

    static long? ReadStatusKiB(string key)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return null;
        foreach (string line in File.ReadLines(status))
        {
            if (!line.StartsWith(key, StringComparison.Ordinal)) continue;
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length >= 2 && long.TryParse(parts[1], out long kib) ? kib : null;
        }
        return null;
    }
}
