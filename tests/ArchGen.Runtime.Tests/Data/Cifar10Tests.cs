using ArchGen.Data;

namespace ArchGen.Runtime.Tests.Data;

public class Cifar10Tests
{
    [Fact]
    public void ReadsTheOfficialRecordLayout()
    {
        using var dir = new TempDir();
        var (labels, pixels) = TestFiles.WriteCifarFolder(dir.Path, records: 3);

        var set = Cifar10.Read(dir.Path, Cifar10.TrainFiles, Cifar10.ReadClassNames(dir.Path), recordsPerFile: 3);

        Assert.Equal(15, set.Count);
        Assert.Equal((3, 32, 32), (set.Channels, set.Height, set.Width));
        Assert.Equal(labels, set.Labels);
        Assert.Equal(pixels, set.Pixels);
        Assert.Equal(TestFiles.CifarNames, set.ClassNames);
        var test = Cifar10.Read(dir.Path, [Cifar10.TestFile], Cifar10.DefaultClassNames, recordsPerFile: null);
        Assert.Equal(3, test.Count);
    }

    [Fact]
    public void FindsTheFolderItselfOrItsSubfolder()
    {
        using var dir = new TempDir();
        Assert.Null(Cifar10.Find([dir.Path]));
        var sub = dir.Sub(Cifar10.FolderName);
        TestFiles.WriteCifarFolder(sub, 1);
        Assert.Equal(sub, Cifar10.Find([dir.Path]));
        Assert.Equal(sub, Cifar10.Find([sub]));
        Assert.Equal(sub, Cifar10.Find([dir.Sub("absent"), dir.Path]));
    }

    [Fact]
    public void SearchOrderIsDataDirElseEnvironmentThenDotData()
    {
        Assert.Equal(["/x/d"], Cifar10.SearchRoots("/x/d", "/env", "/cwd"));
        Assert.Equal(["/env", "/cwd/data"], Cifar10.SearchRoots(null, "/env", "/cwd"));
        Assert.Equal(["/cwd/data"], Cifar10.SearchRoots(null, null, "/cwd"));
    }

    [Fact]
    public void OpenFindsDataDirAndReadsLazily()
    {
        using var dir = new TempDir();
        var (labels, pixels) = TestFiles.WriteCifarFolder(dir.Sub(Cifar10.FolderName), 2);
        var ds = Datasets.Open("cifar10", new DataOptions(DataDir: dir.Path));
        Assert.Equal("cifar10", ds.Name);
        Assert.Equal(Normalization.Cifar10, ds.Normalization);
        var train = Assert.IsType<ImageSet>(ds.Train);
        Assert.Equal(labels, train.Labels);
        Assert.Equal(pixels, train.Pixels);
        Assert.Equal(2, ds.Test.Count);
    }

    [Fact]
    public void OfficialSizesCanBeRequired()
    {
        using var dir = new TempDir();
        TestFiles.WriteCifarFolder(dir.Path, 2);
        var e = Assert.Throws<DataException>(() => Cifar10.Read(dir.Path, Cifar10.TrainFiles, Cifar10.DefaultClassNames, Cifar10.OfficialRecordsPerFile));
        Assert.Contains("data_batch_1.bin", e.Message);
        Assert.Contains("expected 30730000 bytes", e.Message);
        Assert.Equal(2 * 3073, e.Offset);
    }

    [Fact]
    public void BatchFilesMustHoldEqualRecordCounts()
    {
        using var dir = new TempDir();
        TestFiles.WriteCifarFolder(dir.Path, 3);
        var odd = Path.Combine(dir.Path, "data_batch_4.bin");
        TestFiles.WriteCifarBatch(odd, 2, 5); // cut exactly at a record boundary
        var e = Assert.Throws<DataException>(() => Cifar10.Read(dir.Path, Cifar10.TrainFiles, Cifar10.DefaultClassNames));
        Assert.Equal(odd, e.FilePath);
        Assert.Contains("holds 2 records", e.Message);
        Assert.Contains("data_batch_1.bin holds 3", e.Message);
        Assert.Equal(2 * 3073, e.Offset);
    }

    [Fact]
    public void MissingDataFolderIsReported()
    {
        using var dir = new TempDir();
        var missing = dir.Sub("nope");
        var e = Assert.Throws<DataException>(() => Datasets.Open("cifar10", new DataOptions(DataDir: missing)));
        Assert.Contains(missing, e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void AbsentDatasetSuggestsDownload()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DataException>(() => Datasets.Open("cifar10", new DataOptions(DataDir: dir.Path)));
        Assert.Contains("--download", e.Message);
        Assert.Contains(dir.Path, e.Message);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        using var dir = new TempDir();
        TestFiles.WriteCifarFolder(dir.Path, 1);
        File.Delete(Path.Combine(dir.Path, "data_batch_3.bin"));
        var e = Assert.Throws<DataException>(() => Cifar10.Read(dir.Path, Cifar10.TrainFiles, Cifar10.DefaultClassNames, null));
        Assert.Equal(Path.Combine(dir.Path, "data_batch_3.bin"), e.FilePath);
        Assert.Contains("missing file", e.Message);
    }

    [Fact]
    public void TruncatedRecordIsReportedWithItsOffset()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, Cifar10.TestFile);
        TestFiles.WriteCifarBatch(path, 3, 1);
        using (var f = File.OpenWrite(path)) f.SetLength(3 * 3073 - 100);
        var e = Assert.Throws<DataException>(() => Cifar10.Read(dir.Path, [Cifar10.TestFile], Cifar10.DefaultClassNames, null));
        Assert.Equal(path, e.FilePath);
        Assert.Equal(2 * 3073, e.Offset);
        Assert.Contains("truncated", e.Message);

        var strict = Assert.Throws<DataException>(() => Cifar10.Read(dir.Path, [Cifar10.TestFile], Cifar10.DefaultClassNames, 3));
        Assert.Equal(3 * 3073 - 100, strict.Offset);
        Assert.Contains("truncated", strict.Message);
    }

    [Fact]
    public void RecordCountNotMatchingFileSizeIsReported()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, Cifar10.TestFile);
        TestFiles.WriteCifarBatch(path, 4, 1);
        var e = Assert.Throws<DataException>(() => Cifar10.Read(dir.Path, [Cifar10.TestFile], Cifar10.DefaultClassNames, recordsPerFile: 3));
        Assert.Equal(3 * 3073, e.Offset);
        Assert.Contains("expected 9219", e.Message);

        File.WriteAllBytes(path, []);
        var empty = Assert.Throws<DataException>(() => Cifar10.Read(dir.Path, [Cifar10.TestFile], Cifar10.DefaultClassNames, null));
        Assert.Contains("empty", empty.Message);
    }

    [Fact]
    public void LabelOutOfRangeIsReportedWithItsOffset()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, Cifar10.TestFile);
        TestFiles.WriteCifarBatch(path, 3, 1);
        var bytes = File.ReadAllBytes(path);
        bytes[2 * 3073] = 10;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataException>(() => Cifar10.Read(dir.Path, [Cifar10.TestFile], Cifar10.DefaultClassNames, null));
        Assert.Equal(2 * 3073, e.Offset);
        Assert.Contains("label 10", e.Message);
        Assert.Contains("0..9", e.Message);
    }

    [Fact]
    public void BadClassNameFileIsReported()
    {
        using var dir = new TempDir();
        File.WriteAllText(Path.Combine(dir.Path, Cifar10.MetaFile), "cat\ndog\n");
        var e = Assert.Throws<DataException>(() => Cifar10.ReadClassNames(dir.Path));
        Assert.Contains(Cifar10.MetaFile, e.Message);
        Assert.Contains("expected 10 class names", e.Message);
        File.Delete(Path.Combine(dir.Path, Cifar10.MetaFile));
        Assert.Equal(Cifar10.DefaultClassNames, Cifar10.ReadClassNames(dir.Path));
    }

    [Fact]
    public void UnknownDatasetNameListsTheKnownOnes()
    {
        var e = Assert.Throws<DataException>(() => Datasets.Open("imagenet", new DataOptions()));
        Assert.Contains("cifar10, fashion-mnist, synthetic, folder", e.Message);
    }
}
