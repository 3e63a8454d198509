using System.Collections.Concurrent;

namespace ArchGen.Serve;

/// <summary>
/// The web page's files, embedded from <c>src/Serve/Page</c>: <c>index.html</c> (markup and styles), <c>ui.js</c>
/// (the interface both variants share), <c>server.js</c> (the classifier that asks <c>archgen serve</c>) and
/// <c>local.js</c> (the one that runs the model in the browser, for the static site).
/// </summary>
public static class PageFiles
{
    static readonly ConcurrentDictionary<string, byte[]> Files = new(StringComparer.Ordinal);

    /// <summary>The bytes of one page file.</summary>
    public static byte[] Read(string name) => Files.GetOrAdd(name, static n =>
    {
        using var stream = typeof(PageFiles).Assembly.GetManifestResourceStream("ArchGen.Serve.Page." + n)
            ?? throw new InvalidOperationException($"The page file {n} is missing from ArchGen.Serve's resources.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });
}
