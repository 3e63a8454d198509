using System.Diagnostics;

namespace ArchGen.Runtime.Tests.Fuzzing;

/// <summary>
/// Seeded variants of a valid file for the readers' fuzz tests: truncations, flipped bits, overwritten bytes,
/// extreme integers (0, -1, 2^31-1, 2^40, ...) written over counts and sizes, inserted, deleted, zeroed and
/// repeated ranges. The same seed always gives the same files.
/// </summary>
public static class Mutations
{
    static readonly long[] Extremes = [0, 1, -1, 255, 256, 65535, int.MaxValue, int.MinValue, uint.MaxValue, 1L << 32, 1L << 40, 1L << 42, long.MaxValue, long.MinValue, 1_000_000_000_000];

    /// <summary>The kinds of mutation, in the order <see cref="Of"/> cycles through them.</summary>
    public static readonly string[] Kinds = ["truncate", "flip-bits", "overwrite-bytes", "extreme-int32-le", "extreme-int32-be", "extreme-int64-le", "insert", "delete", "zero-range", "repeat-range"];

    /// <summary><paramref name="count"/> mutants of <paramref name="original"/>, cycling through <see cref="Kinds"/>.</summary>
    /// <param name="focus">When given, where mutations land (e.g. a file's header); otherwise anywhere.</param>
    public static IEnumerable<(string Kind, byte[] Bytes)> Of(byte[] original, int count, int seed, (int Start, int Length)? focus = null)
    {
        var rng = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            string kind = Kinds[i % Kinds.Length];
            yield return (kind, Mutate(original, kind, rng, focus ?? (0, original.Length)));
        }
    }

    static byte[] Mutate(byte[] original, string kind, Random rng, (int Start, int Length) focus)
    {
        int At(int room = 1) => focus.Start + rng.Next(Math.Max(1, focus.Length - room + 1));
        var bytes = (byte[])original.Clone();
        switch (kind)
        {
            case "truncate":
                return bytes.AsSpan(0, rng.Next(original.Length)).ToArray();
            case "flip-bits":
                for (int n = rng.Next(1, 9); n > 0; n--)
                {
                    int at = At();
                    if (at < bytes.Length) bytes[at] ^= (byte)(1 << rng.Next(8));
                }
                return bytes;
            case "overwrite-bytes":
                for (int n = rng.Next(1, 5); n > 0; n--)
                {
                    int at = At();
                    if (at < bytes.Length) bytes[at] = (byte)(rng.Next(4) switch { 0 => 0, 1 => 0xFF, 2 => 0x80, _ => rng.Next(256) });
                }
                return bytes;
            case "extreme-int32-le" or "extreme-int32-be" or "extreme-int64-le":
            {
                int width = kind.Contains("64", StringComparison.Ordinal) ? 8 : 4;
                int at = At(width);
                if (at + width > bytes.Length) return bytes;
                long value = Extremes[rng.Next(Extremes.Length)];
                Span<byte> raw = stackalloc byte[8];
                BitConverter.TryWriteBytes(raw, value);
                if (kind.EndsWith("be", StringComparison.Ordinal)) raw[..4].Reverse();
                raw[..width].CopyTo(bytes.AsSpan(at));
                return bytes;
            }
            case "insert":
            {
                int at = At();
                var extra = new byte[rng.Next(1, 64)];
                rng.NextBytes(extra);
                return [.. bytes.AsSpan(0, Math.Min(at, bytes.Length)), .. extra, .. bytes.AsSpan(Math.Min(at, bytes.Length))];
            }
            case "delete":
            {
                int at = Math.Min(At(), bytes.Length);
                int n = Math.Min(rng.Next(1, 64), bytes.Length - at);
                return [.. bytes.AsSpan(0, at), .. bytes.AsSpan(at + n)];
            }
            case "zero-range":
            {
                int at = Math.Min(At(), bytes.Length);
                bytes.AsSpan(at, Math.Min(rng.Next(1, 256), bytes.Length - at)).Clear();
                return bytes;
            }
            default: // repeat-range
            {
                int at = Math.Min(At(), bytes.Length);
                int n = Math.Min(rng.Next(1, 128), bytes.Length - at);
                return [.. bytes.AsSpan(0, at + n), .. bytes.AsSpan(at, n), .. bytes.AsSpan(at + n)];
            }
        }
    }
}

/// <summary>
/// Runs a reader over many files and holds it to its promise: each file is read, or refused with the expected
/// exception type naming the file, and never any other exception; managed allocations stay under a bound per file
/// and resident memory does not grow past a bound over the run.
/// </summary>
public sealed class FuzzRun<TExpected>(string path, long allocationBoundPerFile, long residentGrowthBound) where TExpected : Exception
{
    public int Read { get; private set; }
    public int Refused { get; private set; }
    public Dictionary<string, int> RefusedByKind { get; } = [];

    readonly List<string> failures = [];
    readonly long residentBefore = ResidentBytes();

    /// <summary>Writes <paramref name="bytes"/> to the path and calls <paramref name="read"/> on it.</summary>
    public void Case(string kind, byte[] bytes, Action<string> read, Func<TExpected, bool>? namesTheFile = null)
    {
        File.WriteAllBytes(path, bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            read(path);
            Read++;
        }
        catch (TExpected e)
        {
            Refused++;
            RefusedByKind[kind] = RefusedByKind.GetValueOrDefault(kind) + 1;
            bool named = namesTheFile?.Invoke(e) ?? e.Message.Contains(path, StringComparison.Ordinal);
            if (!named) Fail(kind, bytes, $"the error does not name the file: {e.Message}");
            if (e.Message.Contains("\n   at ", StringComparison.Ordinal) || e.Message.Contains("Exception raised from", StringComparison.Ordinal))
                Fail(kind, bytes, $"the error carries a stack trace: {e.Message}");
        }
        catch (Exception e)
        {
            Fail(kind, bytes, $"{e.GetType().Name}: {e.Message}");
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > allocationBoundPerFile) Fail(kind, bytes, $"allocated {allocated:N0} bytes (bound {allocationBoundPerFile:N0}) for a {bytes.Length:N0}-byte file");
    }

    void Fail(string kind, byte[] bytes, string what)
    {
        if (failures.Count < 10) failures.Add($"[{kind}, {bytes.Length} bytes, sha {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes))[..12]}] {what}");
        else if (failures.Count == 10) failures.Add("...");
    }

    /// <summary>Fails the test with the first failures, if any, and checks resident memory growth.</summary>
    public void AssertHeld(int minimumRefused = 1)
    {
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        long growth = ResidentBytes() - residentBefore;
        Assert.True(growth < residentGrowthBound, $"resident memory grew by {growth:N0} bytes (bound {residentGrowthBound:N0})");
        Assert.True(Refused >= minimumRefused, $"only {Refused} of {Read + Refused} mutants were refused");
    }

    static long ResidentBytes()
    {
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64;
    }
}
