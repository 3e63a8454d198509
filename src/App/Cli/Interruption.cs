using System.Runtime.InteropServices;
using ArchGen.Checkpoints;

namespace ArchGen.App.Cli;

/// <summary>
/// Ctrl+C and SIGTERM for the whole program, wherever it is: the first one asks it to stop at the next safe point
/// (<see cref="Token"/> is cancelled: training finishes its step and writes a checkpoint; loading, evaluation and
/// writing stop at their next check), a second one exits at once with code 130, after removing any temporary file
/// being written (completed files are only ever replaced by a rename, so nothing half-written is left).
/// </summary>
public static class Interruption
{
    static readonly CancellationTokenSource Stop = new();
    static int signals;
    static PosixSignalRegistration? sigint, sigterm;

    /// <summary>Cancelled by the first SIGINT or SIGTERM.</summary>
    public static CancellationToken Token => Stop.Token;

    /// <summary>What the first signal prints: the command says what stopping means for it.</summary>
    public static string StoppingMessage { get; set; } = "Stopping at the next safe point; press Ctrl+C again (or send SIGTERM again) to exit at once.";

    /// <summary>What the command prints when it stops at a stop request: what it did and did not do.</summary>
    public static string StoppedMessage { get; set; } = "Interrupted; nothing was written.";

    /// <summary>Takes over SIGINT and SIGTERM for the rest of the process.</summary>
    public static void Install()
    {
        sigint ??= PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        sigterm ??= PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
    }

    /// <summary>What the first signal says in a command whose work ends in writing one file (import, export).</summary>
    public const string StoppingBeforeWriting = "Stopping before the file is written; press Ctrl+C again to exit at once.";

    /// <summary>What a stop request that comes after the command's work is done says.</summary>
    public const string TooLateMessage = "The stop request came after the work was done; it finished and its output is complete.";

    static int finished;

    /// <summary>
    /// Marks the command's work as done: a signal from now on says it came too late. Returns false when a stop
    /// request had already come (and was not acted on, as the work finished first).
    /// </summary>
    public static bool Finish()
    {
        Interlocked.Exchange(ref finished, 1);
        return !Stop.IsCancellationRequested;
    }

    static void Handle(PosixSignalContext context)
    {
        context.Cancel = true; // the program decides when to end
        if (Volatile.Read(ref finished) == 1)
        {
            Console.Error.WriteLine(TooLateMessage);
            return;
        }
        if (Interlocked.Increment(ref signals) == 1)
        {
            Console.Error.WriteLine(StoppingMessage);
            Stop.Cancel();
            return;
        }
        AtomicFile.RemoveInFlight();
        Console.Error.WriteLine("Interrupted again: exiting at once.");
        Console.Error.Flush();
        Console.Out.Flush();
        // Whatever the main thread is blocked in (a read, a native call), end now; no exit handlers run.
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                ExitNow(ExitCodes.Interrupted);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // No C library under that name: the runtime's own exit (runs exit handlers first).
            }
        }
        Environment.Exit(ExitCodes.Interrupted);
    }

    [DllImport("libc", EntryPoint = "_exit")]
    static extern void ExitNow(int status);
}
