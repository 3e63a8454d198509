using System.Globalization;

namespace ArchGen.Training;

/// <summary>
/// The allowed range of every setting that several commands share, in one place: the command line validates each
/// option with these rules (so <c>train</c>, <c>test</c> and <c>bench</c> refuse the same values the same way), and
/// <see cref="TrainConfig.Validate"/> applies them to configurations built in code. Each rule returns null when the
/// value is fine, otherwise one sentence naming the option.
/// </summary>
public static class OptionRules
{
    /// <summary>Intra-op threads above this many per core only add contention (and, far above, exhaust the machine's process slots).</summary>
    public const int ThreadsPerCoreLimit = 4;

    /// <summary>The most intra-op threads accepted on this machine: <see cref="ThreadsPerCoreLimit"/> per core.</summary>
    public static int MaxThreads => ThreadsPerCoreLimit * Environment.ProcessorCount;

    public static string? Threads(int threads) =>
        threads < 0 ? $"--threads must be 0 (one per core) or more (got {N(threads)})."
        : threads > MaxThreads ? $"--threads {N(threads)} is more than {ThreadsPerCoreLimit} per core on this machine's {N(Environment.ProcessorCount)} cores (at most {N(MaxThreads)}; 0 means one per core)."
        : null;

    public static string? BatchSize(int batchSize) =>
        batchSize < 1 ? $"--batch-size must be at least 1 (got {N(batchSize)})." : null;

    public static string? TestLimit(int testLimit) =>
        testLimit < 0 ? $"--test-limit must be 0 (all) or more (got {N(testLimit)})." : null;

    public static string? Limit(int limit) =>
        limit < 0 ? $"--limit must be 0 (all) or more (got {N(limit)})." : null;

    /// <summary>A fraction ends the last epoch early; at most a million epochs.</summary>
    public static string? Epochs(double epochs) =>
        !(epochs > 0 && epochs <= 1e6) ? $"--epochs must be a number above 0 and at most 1000000 (got {epochs.ToString(CultureInfo.InvariantCulture)})." : null;

    public static string? CheckpointEvery(int steps) =>
        steps < 0 ? $"--checkpoint-every must be 0 or more (got {N(steps)})." : null;

    /// <summary>Throws <see cref="ArgumentException"/> with the rule's sentence when it failed.</summary>
    public static void Require(string? error)
    {
        if (error is not null) throw new ArgumentException(error);
    }

    static string N(int value) => value.ToString(CultureInfo.InvariantCulture);
}
