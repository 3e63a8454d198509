using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace ArchGen.Checkpoints;

/// <summary>
/// A test hook that makes the program fail at a named point, so tests can check that a run folder survives a
/// crash, a full disk or a signal at exactly that moment. Set <c>ARCHGEN_FAULT=action@point[#n]</c>: at the
/// <c>n</c>-th time (default 1) the program reaches <c>point</c>, it does <c>action</c>:
/// <list type="bullet">
/// <item><c>kill</c>: the process kills itself with SIGKILL (no cleanup of any kind runs).</item>
/// <item><c>fail</c>: an <see cref="IOException"/> as if the disk were full.</item>
/// <item><c>stall</c>: blocks for good, as a read from a FIFO would (only a second signal ends the program).</item>
/// <item><c>pause</c>: waits until the program is asked to stop (the first SIGINT/SIGTERM), as long work that checks for it would.</item>
/// <item><c>disagree</c>: every check at the point fails (<see cref="Disagrees"/>; <c>#n</c> is ignored): <c>layout-check</c>
/// makes every fast path (channels-last, GEMM) fail the checks of <see cref="Performance.VerifiedLayout"/>, so every
/// convolution runs plain.</item>
/// </list>
/// Points: <c>FILE:before-temp</c>, <c>FILE:after-write</c>, <c>FILE:after-fsync</c>, <c>FILE:before-rename</c>,
/// <c>FILE:after-rename</c> for every atomic write of a file named FILE (e.g. <c>last.ckpt:after-fsync</c>), and
/// <c>FILE:after-write</c> for each file of the static site <c>export --web</c> writes;
/// <c>load-data</c> before a dataset is read; <c>evaluate</c> in each evaluation batch; <c>predict</c> before each
/// batch <c>archgen predict</c> classifies; <c>export</c> after export has read the model, before it writes. The program announces the
/// point on stderr (<c>ARCHGEN_FAULT: stall at …</c>) before it stalls, pauses or kills itself.
/// </summary>
public static class FaultInjection
{
    /// <summary>The environment variable read at the first point reached.</summary>
    public const string Variable = "ARCHGEN_FAULT";

    static readonly Lazy<(string Action, string Point, int Occurrence)?> Plan = new(Parse);
    static readonly ConcurrentDictionary<string, int> Reached = new(StringComparer.Ordinal);

    /// <summary>Marks <paramref name="point"/> as reached; acts when <see cref="Variable"/> names it (a no-op otherwise).</summary>
    /// <param name="point">The point's name.</param>
    /// <param name="stop">Cancelled when the program is asked to stop; ends a <c>pause</c>.</param>
    public static void Reach(string point, CancellationToken stop = default)
    {
        if (Plan.Value is not { } plan || !string.Equals(plan.Point, point, StringComparison.Ordinal)) return;
        if (Reached.AddOrUpdate(point, 1, (_, n) => n + 1) != plan.Occurrence) return;
        string where = $"{plan.Action} at {point} (#{plan.Occurrence.ToString(CultureInfo.InvariantCulture)})";
        switch (plan.Action)
        {
            case "fail":
                throw new IOException($"No space left on device ({Variable}: {where})");
            case "kill":
                Console.Error.WriteLine($"{Variable}: {where}");
                Process.GetCurrentProcess().Kill(); // SIGKILL on Unix: nothing else runs
                Thread.Sleep(Timeout.Infinite);
                break;
            case "stall":
                Console.Error.WriteLine($"{Variable}: {where}");
                Thread.Sleep(Timeout.Infinite);
                break;
            case "pause":
                Console.Error.WriteLine($"{Variable}: {where}");
                stop.WaitHandle.WaitOne();
                break;
        }
    }

    /// <summary>Reads <see cref="Variable"/> now: an unknown action or point is an <see cref="ArgumentException"/> (a hook that can never fire would be ignored silently).</summary>
    public static void Check() => _ = Plan.Value;

    /// <summary>The points with a name of their own (a file's atomic write adds <c>FILE:</c> + one of <see cref="WritePoints"/>).</summary>
    static readonly string[] NamedPoints = ["load-data", "evaluate", "predict", "export", "import"];

    static readonly string[] WritePoints = ["before-temp", "after-write", "after-fsync", "before-rename", "after-rename"];

    /// <summary>The point <c>disagree</c> acts at.</summary>
    const string DisagreePoint = "layout-check";

    /// <summary>Whether <see cref="Variable"/> asks every check at <paramref name="point"/> to fail (<c>disagree@point</c>).</summary>
    public static bool Disagrees(string point) =>
        Plan.Value is { Action: "disagree" } plan && string.Equals(plan.Point, point, StringComparison.Ordinal);

    static (string, string, int)? Parse()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } value) return null;
        int at = value.IndexOf('@', StringComparison.Ordinal);
        if (at < 0) throw new ArgumentException($"{Variable} must look like action@point[#n] (got '{value}').");
        string action = value[..at], point = value[(at + 1)..];
        int occurrence = 1;
        int hash = point.LastIndexOf('#');
        if (hash >= 0)
        {
            if (!int.TryParse(point[(hash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out occurrence) || occurrence < 1)
                throw new ArgumentException($"{Variable}: #n must be a whole number of at least 1 (got '{value}').");
            point = point[..hash];
        }
        if (action is not ("kill" or "fail" or "stall" or "pause" or "disagree"))
            throw new ArgumentException($"{Variable}: unknown action '{action}' (kill, fail, stall, pause or disagree).");
        if (action == "disagree" && point != DisagreePoint)
            throw new ArgumentException($"{Variable}: disagree acts at {DisagreePoint} only (got '{point}').");
        int colon = point.LastIndexOf(':');
        if (action != "disagree" && !NamedPoints.Contains(point) && !(colon > 0 && WritePoints.Contains(point[(colon + 1)..])))
            throw new ArgumentException($"{Variable}: unknown point '{point}' ({string.Join(", ", NamedPoints)}, or FILE:{string.Join("|", WritePoints)} for a file's write).");
        return (action, point, occurrence);
    }
}
