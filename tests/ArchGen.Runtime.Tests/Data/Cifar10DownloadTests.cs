using System.Net;
using ArchGen.Data;

namespace ArchGen.Runtime.Tests.Data;

public class Cifar10DownloadTests
{
    private static DataOptions Options(string root, HttpMessageHandler handler, string? md5, IProgress<DownloadProgress>? progress = null) =>
        new(DataDir: root, Download: true, HttpHandler: handler, ExpectedMd5: md5, Progress: progress);

    /// <summary>Nothing but the finished folder (if any) may remain: no partial download, no staging folder.</summary>
    private static void AssertNothingPartialLeft(string root, bool expectFolder)
    {
        var entries = Directory.EnumerateFileSystemEntries(root).Select(Path.GetFileName).ToArray();
        Assert.Equal(expectFolder ? [Cifar10.FolderName] : [], entries);
    }

    [Fact]
    public void DownloadsVerifiesExtractsAndReportsProgress()
    {
        using var dir = new TempDir();
        var archive = TestFiles.CifarArchive(records: 2);
        var handler = new FakeHandler(archive);
        var progress = new ListProgress<DownloadProgress>();

        var ds = Datasets.Open("cifar10", Options(dir.Path, handler, TestFiles.Md5(archive), progress));

        Assert.Equal(1, handler.Requests);
        AssertNothingPartialLeft(dir.Path, expectFolder: true);
        var folder = dir.Sub(Cifar10.FolderName);
        var set = Cifar10.Read(folder, Cifar10.TrainFiles, Cifar10.ReadClassNames(folder), recordsPerFile: 2);
        Assert.Equal(10, set.Count);
        Assert.Equal("cifar10", ds.Name);

        var stages = progress.Items.Select(p => p.Stage).Distinct().ToArray();
        Assert.Equal([DownloadStage.Downloading, DownloadStage.Verified, DownloadStage.Extracting, DownloadStage.Done], stages);
        var last = progress.Items.Last(p => p.Stage == DownloadStage.Downloading);
        Assert.Equal(archive.Length, last.Bytes);
        Assert.Equal(1.0, last.Fraction);

        // Present now: a second open does not download again.
        Datasets.Open("cifar10", Options(dir.Path, handler, TestFiles.Md5(archive)));
        Assert.Equal(1, handler.Requests);
    }

    [Fact]
    public void ChecksumMismatchLeavesNothingBehind()
    {
        using var dir = new TempDir();
        var archive = TestFiles.CifarArchive(records: 1);
        // The expected checksum is the official archive's, which this one is not.
        var e = Assert.Throws<DataException>(() => Datasets.Open("cifar10", Options(dir.Path, new FakeHandler(archive), md5: null)));
        Assert.Contains("checksum mismatch", e.Message);
        Assert.Contains(Cifar10.ArchiveMd5, e.Message);
        Assert.Contains(TestFiles.Md5(archive), e.Message);
        Assert.Contains("cifar-10-binary.tar.gz", e.Message);
        AssertNothingPartialLeft(dir.Path, expectFolder: false);
    }

    [Fact]
    public void TruncatedStreamLeavesNothingBehind()
    {
        using var dir = new TempDir();
        var archive = TestFiles.CifarArchive(records: 1);
        var half = archive[..(archive.Length / 2)];
        var e = Assert.Throws<DataException>(() =>
            Datasets.Open("cifar10", Options(dir.Path, new FakeHandler(half, claimedLength: archive.Length), TestFiles.Md5(archive))));
        Assert.Contains("truncated", e.Message);
        Assert.Equal(half.Length, e.Offset);
        AssertNothingPartialLeft(dir.Path, expectFolder: false);
    }

    [Fact]
    public void ConnectionDroppedMidwayLeavesNothingBehind()
    {
        using var dir = new TempDir();
        var archive = TestFiles.CifarArchive(records: 1);
        var e = Assert.Throws<DataException>(() =>
            Datasets.Open("cifar10", Options(dir.Path, new FakeHandler(archive, failAfter: 1000), TestFiles.Md5(archive))));
        Assert.Contains("interrupted", e.Message);
        AssertNothingPartialLeft(dir.Path, expectFolder: false);
    }

    [Fact]
    public void StalledDownloadTimesOutAndLeavesNothingBehind()
    {
        using var dir = new TempDir();
        var archive = TestFiles.CifarArchive(records: 1);
        var options = Options(dir.Path, new FakeHandler(archive, failAfter: 1000, stall: true), TestFiles.Md5(archive)) with { StallTimeout = TimeSpan.FromMilliseconds(200) };
        var e = Assert.Throws<DataException>(() => Datasets.Open("cifar10", options));
        Assert.Contains("stalled", e.Message);
        Assert.Equal(1000, e.Offset);
        AssertNothingPartialLeft(dir.Path, expectFolder: false);
    }

    [Fact]
    public void CancellingTheDownloadLeavesNothingBehind()
    {
        using var dir = new TempDir();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var archive = TestFiles.CifarArchive(records: 1);
        var options = Options(dir.Path, new FakeHandler(archive, failAfter: 1000, stall: true), TestFiles.Md5(archive)) with { CancellationToken = cancel.Token };
        Assert.ThrowsAny<OperationCanceledException>(() => Datasets.Open("cifar10", options));
        AssertNothingPartialLeft(dir.Path, expectFolder: false);
    }

    [Fact]
    public void EntryEscapingTheTargetIsRefused()
    {
        using var outer = new TempDir();
        var root = outer.Sub("root");
        Directory.CreateDirectory(root);
        var archive = TestFiles.CifarArchive(1, ("../evil.txt", "pwned"u8.ToArray()), ($"{Cifar10.FolderName}/../../../evil2.txt", [1]));
        var e = Assert.Throws<DataException>(() => Datasets.Open("cifar10", Options(root, new FakeHandler(archive), TestFiles.Md5(archive))));
        Assert.Contains("outside the target folder", e.Message);
        Assert.Contains("../evil.txt", e.Message);
        AssertNothingPartialLeft(root, expectFolder: false);
        Assert.Equal(["root"], Directory.EnumerateFileSystemEntries(outer.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void CorruptArchiveIsReported()
    {
        using var dir = new TempDir();
        var archive = TestFiles.CifarArchive(1);
        for (int i = 20; i < archive.Length - 20; i += 7) archive[i] ^= 0x5A;
        var e = Assert.Throws<DataException>(() => Datasets.Open("cifar10", Options(dir.Path, new FakeHandler(archive), TestFiles.Md5(archive))));
        Assert.Contains("corrupt", e.Message);
        AssertNothingPartialLeft(dir.Path, expectFolder: false);
    }

    [Fact]
    public void ArchiveWithoutTheExpectedFilesIsRefused()
    {
        using var dir = new TempDir();
        var archive = TestFiles.TarGz([("something/else.bin", new byte[10])]);
        var e = Assert.Throws<DataException>(() => Datasets.Open("cifar10", Options(dir.Path, new FakeHandler(archive), TestFiles.Md5(archive))));
        Assert.Contains("data_batch_1.bin", e.Message);
        AssertNothingPartialLeft(dir.Path, expectFolder: false);
    }

    [Fact]
    public void HttpErrorIsReported()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DataException>(() =>
            Datasets.Open("cifar10", Options(dir.Path, new FakeHandler([], status: HttpStatusCode.NotFound), null)));
        Assert.Contains("HTTP 404", e.Message);
        AssertNothingPartialLeft(dir.Path, expectFolder: false);
    }
}
