using System.Runtime.CompilerServices;
using System.Text;

namespace ArchGen.Generator.Tests.Infrastructure;

/// <summary>
/// A small snapshot helper with Verify.SourceGenerators' conventions, so moving to Verify later is trivial:
/// <c>Snapshots/{Class}.{Method}#{HintName}.verified.cs</c> for generated files, <c>Snapshots/{Class}.{Method}.verified.txt</c>
/// for text (diagnostics), a <c>.received</c> file written on mismatch, and <c>ARCHGEN_ACCEPT_SNAPSHOTS=1</c> to accept.
/// The test class is the caller's file name (one class per file).
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "ARCHGEN_ACCEPT_SNAPSHOTS";

    public static bool Accepting => Environment.GetEnvironmentVariable(AcceptVariable) == "1";

    /// <summary>The folder with the snapshots, in the test project's source folder (found via [CallerFilePath]).</summary>
    public static string Directory() => Path.Combine(SourceTree.ProjectDirectory, "Snapshots");

    /// <summary>Checks generated files; also fails when a verified file of this test has no generated counterpart.</summary>
    public static void VerifyFiles(IEnumerable<(string HintName, string Source)> files, [CallerFilePath] string file = "", [CallerMemberName] string method = "")
    {
        string prefix = Path.GetFileNameWithoutExtension(file) + "." + method;
        var produced = new List<string>();
        var failures = new StringBuilder();
        foreach (var (hintName, source) in files)
        {
            string name = prefix + "#" + Path.GetFileNameWithoutExtension(hintName);
            produced.Add(name + ".verified.cs");
            Check(name, ".cs", source, failures);
        }

        foreach (var stale in System.IO.Directory.EnumerateFiles(Directory(), prefix + "#*.verified.cs").Select(Path.GetFileName))
        {
            if (!produced.Contains(stale!))
            {
                if (Accepting)
                {
                    File.Delete(Path.Combine(Directory(), stale!));
                }
                else
                {
                    failures.Append("Stale snapshot ").Append(stale).Append(": the test no longer produces it.\n");
                }
            }
        }

        if (failures.Length > 0)
        {
            Assert.Fail(failures.ToString());
        }
    }

    /// <summary>Checks text, e.g. formatted diagnostics.</summary>
    public static void VerifyText(string text, [CallerFilePath] string file = "", [CallerMemberName] string method = "")
    {
        var failures = new StringBuilder();
        Check(Path.GetFileNameWithoutExtension(file) + "." + method, ".txt", text, failures);
        if (failures.Length > 0)
        {
            Assert.Fail(failures.ToString());
        }
    }

    /// <summary>Every verified file whose test method does not exist (or no longer snapshots) in this assembly.</summary>
    public static IReadOnlyList<string> StaleFiles()
    {
        var tests = typeof(Snapshot).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods().Where(m => m.GetCustomAttributes(typeof(FactAttribute), true).Length > 0).Select(m => t.Name + "." + m.Name))
            .ToHashSet(StringComparer.Ordinal);
        return System.IO.Directory.EnumerateFiles(Directory(), "*.verified.*")
            .Select(Path.GetFileName)
            .Where(f =>
            {
                string stem = f!.Substring(0, f.IndexOf(".verified.", StringComparison.Ordinal));
                int hash = stem.IndexOf('#');
                return !tests.Contains(hash >= 0 ? stem.Substring(0, hash) : stem);
            })
            .Select(f => f!)
            .ToList();
    }

    private static void Check(string name, string extension, string actual, StringBuilder failures)
    {
        actual = actual.Replace("\r\n", "\n");
        string dir = Directory();
        System.IO.Directory.CreateDirectory(dir);
        string verified = Path.Combine(dir, name + ".verified" + extension);
        string received = Path.Combine(dir, name + ".received" + extension);
        string? expected = File.Exists(verified) ? File.ReadAllText(verified).Replace("\r\n", "\n") : null;
        if (expected == actual)
        {
            if (File.Exists(received))
            {
                File.Delete(received);
            }

            return;
        }

        if (Accepting)
        {
            File.WriteAllText(verified, actual);
            if (File.Exists(received))
            {
                File.Delete(received);
            }

            return;
        }

        File.WriteAllText(received, actual);
        failures.Append(expected is null ? "New snapshot " : "Snapshot mismatch ").Append(name).Append(extension).Append('\n')
            .Append("  received: ").Append(received).Append('\n')
            .Append("  accept with ").Append(AcceptVariable).Append("=1 (or rename .received to .verified)\n");
        if (expected is not null)
        {
            failures.Append(LineDiff(expected, actual));
        }
    }

    /// <summary>A unified-style line diff (longest common subsequence), limited to the first 60 changed lines.</summary>
    public static string LineDiff(string expected, string actual)
    {
        string[] a = expected.Split('\n'), b = actual.Split('\n');
        int n = a.Length, m = b.Length;
        var lcs = new int[n + 1, m + 1];
        for (int i = n - 1; i >= 0; i--)
        {
            for (int j = m - 1; j >= 0; j--)
            {
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        var sb = new StringBuilder();
        int shown = 0, x = 0, y = 0;
        while ((x < n || y < m) && shown < 60)
        {
            if (x < n && y < m && a[x] == b[y])
            {
                x++;
                y++;
            }
            else if (x < n && (y == m || lcs[x + 1, y] >= lcs[x, y + 1]))
            {
                sb.Append($"  - {x + 1,5}: {a[x]}\n");
                x++;
                shown++;
            }
            else
            {
                sb.Append($"  + {y + 1,5}: {b[y]}\n");
                y++;
                shown++;
            }
        }

        if (shown == 60)
        {
            sb.Append("  ... (more differences)\n");
        }

        return sb.ToString();
    }
}
