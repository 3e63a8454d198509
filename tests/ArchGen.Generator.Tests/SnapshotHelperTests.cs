using ArchGen.Generator.Tests.Infrastructure;

namespace ArchGen.Generator.Tests;

/// <summary>The snapshot helper's own behaviour.</summary>
public class SnapshotHelperTests
{
    [Fact]
    public void LineDiffShowsRemovedAndAddedLinesWithNumbers()
    {
        string diff = Snapshot.LineDiff("a\nb\nc\nd\n", "a\nB\nc\nd\ne\n");
        Assert.Equal("  -     2: b\n  +     2: B\n  +     5: e\n", diff);
    }

    [Fact]
    public void SnapshotsLiveInTheSourceTree()
    {
        Assert.True(Directory.Exists(Snapshot.Directory()), Snapshot.Directory());
        Assert.EndsWith(Path.Combine("tests", "ArchGen.Generator.Tests", "Snapshots"), Snapshot.Directory());
        Assert.NotEmpty(Directory.GetFiles(Snapshot.Directory(), "*.verified.cs"));
    }
}
