using System.Text.RegularExpressions;

namespace ArchGen.App.Tests;

/// <summary>
/// The README is the front door and stays short; it, CONTRIBUTING.md and every page of docs/ link only to files and
/// anchors that exist; and every diagnostic's help link lands on its own row.
/// </summary>
public partial class DocumentationTests
{
    static readonly string Root = AppProcess.RepositoryRoot;

    /// <summary>Every Markdown page a reader is sent to: the README, CONTRIBUTING.md and docs/ (docs/upstream included).</summary>
    public static TheoryData<string> Pages()
    {
        var pages = new TheoryData<string>();
        pages.Add("README.md");
        pages.Add("CONTRIBUTING.md");
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            pages.Add(Path.GetRelativePath(Root, file).Replace('\\', '/'));
        return pages;
    }

    [Fact]
    public void TheReadmeIsAtMost300Lines()
    {
        int lines = File.ReadAllLines(Path.Combine(Root, "README.md")).Length;
        Assert.True(lines <= 300, $"README.md has {lines} lines; move detail to docs/.");
    }

    /// <summary>Each relative link (outside code) names a file that exists and, with a #fragment, a heading or an id="…" in it.</summary>
    [Theory]
    [MemberData(nameof(Pages))]
    public void EveryRelativeLinkResolves(string page)
    {
        string path = Path.Combine(Root, page);
        var broken = new List<string>();
        foreach (var (target, line) in Links(File.ReadAllText(path)))
        {
            if (Regex.IsMatch(target, "^[a-z]+:", RegexOptions.IgnoreCase)) continue; // http:, https:, mailto:
            int hash = target.IndexOf('#', StringComparison.Ordinal);
            string file = hash < 0 ? target : target[..hash], fragment = hash < 0 ? "" : target[(hash + 1)..];
            string resolved = file.Length == 0 ? path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, Uri.UnescapeDataString(file)));
            if (!File.Exists(resolved) && !Directory.Exists(resolved))
                broken.Add($"line {line}: {target} (no such file)");
            else if (fragment.Length > 0 && (!resolved.EndsWith(".md", StringComparison.Ordinal) || !Anchors(File.ReadAllText(resolved)).Contains(fragment)))
                broken.Add($"line {line}: {target} (no such anchor)");
        }
        Assert.True(broken.Count == 0, $"{page}: " + string.Join("; ", broken));
    }

    /// <summary>The analyzer's help links (<c>…/docs/api.md#arch0001</c>) each land on their diagnostic's row.</summary>
    [Fact]
    public void EveryDiagnosticsHelpLinkLandsOnItsRow()
    {
        string releases = File.ReadAllText(Path.Combine(Root, "src", "Generator", "AnalyzerReleases.Shipped.md")) +
                          File.ReadAllText(Path.Combine(Root, "src", "Generator", "AnalyzerReleases.Unshipped.md"));
        var ids = Regex.Matches(releases, @"^(ARCH\d{4})\b", RegexOptions.Multiline).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.NotEmpty(ids);
        var anchors = Anchors(File.ReadAllText(Path.Combine(Root, "docs", "api.md")));
        Assert.All(ids, id => Assert.Contains(id.ToLowerInvariant(), anchors));
        string diagnostics = File.ReadAllText(Path.Combine(Root, "src", "Generator", "Validation", "Diagnostics.cs"));
        Assert.Contains("blob/main/docs/api.md#\"", diagnostics);
    }

    /// <summary>Markdown link targets with their line numbers, skipping fenced code and inline code.</summary>
    static IEnumerable<(string Target, int Line)> Links(string text)
    {
        bool fence = false;
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal)) { fence = !fence; continue; }
            if (fence) continue;
            string prose = InlineCode().Replace(lines[i], "");
            foreach (Match m in LinkTarget().Matches(prose)) yield return (m.Groups[1].Value, i + 1);
        }
    }

    /// <summary>GitHub's anchors for a page: each heading's slug (lower case, punctuation dropped, spaces to hyphens, repeats numbered) and each id="…".</summary>
    static HashSet<string> Anchors(string text)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>();
        bool fence = false;
        foreach (var line in text.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) { fence = !fence; continue; }
            if (fence) continue;
            var heading = Regex.Match(line, @"^#{1,6} (.*?)\s*$");
            if (heading.Success)
            {
                string slug = Regex.Replace(heading.Groups[1].Value.Replace("`", "").ToLowerInvariant(), @"[^\p{L}\p{N}\- _]", "").Replace(' ', '-');
                int n = seen.GetValueOrDefault(slug);
                seen[slug] = n + 1;
                anchors.Add(n == 0 ? slug : $"{slug}-{n}");
            }
            foreach (Match id in Regex.Matches(line, "id=\"([^\"]+)\"")) anchors.Add(id.Groups[1].Value);
        }
        return anchors;
    }

    [GeneratedRegex(@"`[^`]*`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex LinkTarget();
}
