using ArchGen.Data;
using Xunit.Abstractions;

namespace ArchGen.Runtime.Tests.Data;

public class FashionMnistTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsIdxFilesAndPadsTo32(bool gzip)
    {
        using var dir = new TempDir();
        var (images, labels) = TestFiles.WriteFashionSplit(dir.Path, "train", 5, gzip, seed: 3);
        TestFiles.WriteFashionSplit(dir.Path, "t10k", 2, gzip, seed: 4);

        var set = FashionMnist.Read(dir.Path, "train");

        Assert.Equal(5, set.Count);
        Assert.Equal((1, 32, 32), (set.Channels, set.Height, set.Width));
        Assert.Equal(labels, set.Labels);
        Assert.Equal("Ankle boot", set.ClassNames[9]);
        for (int i = 0; i < 5; i++)
        {
            var img = set.Image(i);
            for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++)
            {
                bool inside = y is >= 2 and < 30 && x is >= 2 and < 30;
                byte expected = inside ? images[i * 784 + (y - 2) * 28 + (x - 2)] : (byte)0;
                Assert.Equal(expected, img[y * 32 + x]);
            }
        }
    }

    [Fact]
    public void ReadsThePublished28x28ImagesUnpaddedWhenAsked()
    {
        using var dir = new TempDir();
        var (images, labels) = TestFiles.WriteFashionSplit(dir.Path, "train", 3, gzip: true, seed: 5);
        var set = FashionMnist.Read(dir.Path, "train", size: 28);
        Assert.Equal((1, 28, 28), (set.Channels, set.Height, set.Width));
        Assert.Equal(labels, set.Labels);
        Assert.Equal(images, set.Pixels);
        Assert.Throws<ArgumentOutOfRangeException>(() => FashionMnist.Read(dir.Path, "train", size: 30));
    }

    [Theory]
    [InlineData(28, 28)]
    [InlineData(32, 32)]
    [InlineData(224, 32)]
    [InlineData(null, 32)]
    public void OpenServesTheModelsInputSizeWhenItCan(int? modelSize, int served)
    {
        using var dir = new TempDir();
        TestFiles.WriteFashionSplit(dir.Path, "train", 2, false, 1);
        TestFiles.WriteFashionSplit(dir.Path, "t10k", 2, false, 2);
        var ds = Datasets.Open("fashion-mnist", new DataOptions(DataDir: dir.Path, ImageSize: modelSize));
        Assert.Equal(served, ((ImageSet)ds.Train).Height);
        Assert.Equal(served, ((ImageSet)ds.Test).Width);
        Assert.Same(served == 28 ? FashionMnist.NativeNormalization : FashionMnist.PaddedNormalization, ds.Normalization);
    }

    [Fact]
    public void OpenUsesDataDirAndThePaddedStatistics()
    {
        using var dir = new TempDir();
        TestFiles.WriteFashionSplit(dir.Sub("fashion-mnist"), "train", 4, true, 1);
        TestFiles.WriteFashionSplit(dir.Sub("fashion-mnist"), "t10k", 3, false, 2);
        var ds = Datasets.Open("fashion-mnist", new DataOptions(DataDir: dir.Path));
        Assert.Equal("fashion-mnist", ds.Name);
        Assert.Equal(3, ds.Test.Count);
        Assert.Same(FashionMnist.PaddedNormalization, ds.Normalization);
        Assert.Single(ds.Normalization.Mean);
    }

    [Fact]
    public void WrongMagicIsReported()
    {
        using var dir = new TempDir();
        TestFiles.WriteFashionSplit(dir.Path, "train", 2, false, 1);
        var path = Path.Combine(dir.Path, "train-images-idx3-ubyte");
        var bytes = File.ReadAllBytes(path);
        bytes[3] = 0x01;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataException>(() => FashionMnist.Read(dir.Path, "train"));
        Assert.Equal(path, e.FilePath);
        Assert.Equal(0, e.Offset);
        Assert.Contains("0x00000801", e.Message);
        Assert.Contains("expected 0x00000803", e.Message);
    }

    [Fact]
    public void WrongImageDimensionsAreReported()
    {
        using var dir = new TempDir();
        TestFiles.WriteFashionSplit(dir.Path, "train", 2, false, 1);
        var path = Path.Combine(dir.Path, "train-images-idx3-ubyte");
        File.WriteAllBytes(path, TestFiles.Idx(0x803, [2, 27, 28], new byte[2 * 27 * 28]));
        var e = Assert.Throws<DataException>(() => FashionMnist.Read(dir.Path, "train"));
        Assert.Equal(8, e.Offset);
        Assert.Contains("27x28", e.Message);
        Assert.Contains("expected 28x28", e.Message);
    }

    [Fact]
    public void LabelAndImageCountsMustMatch()
    {
        using var dir = new TempDir();
        TestFiles.WriteFashionSplit(dir.Path, "train", 3, false, 1);
        var path = Path.Combine(dir.Path, "train-labels-idx1-ubyte");
        File.WriteAllBytes(path, TestFiles.Idx(0x801, [2], [1, 2]));
        var e = Assert.Throws<DataException>(() => FashionMnist.Read(dir.Path, "train"));
        Assert.Equal(path, e.FilePath);
        Assert.Contains("2 labels", e.Message);
        Assert.Contains("3 images", e.Message);
    }

    [Fact]
    public void TruncatedFileIsReportedWithItsOffset()
    {
        using var dir = new TempDir();
        TestFiles.WriteFashionSplit(dir.Path, "train", 3, false, 1);
        var path = Path.Combine(dir.Path, "train-images-idx3-ubyte");
        using (var f = File.OpenWrite(path)) f.SetLength(16 + 2 * 784 + 5);
        var e = Assert.Throws<DataException>(() => FashionMnist.Read(dir.Path, "train"));
        Assert.Equal(16 + 2 * 784 + 5, e.Offset);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("expected 2368", e.Message);

        File.WriteAllBytes(path, [0, 0, 8]);
        var header = Assert.Throws<DataException>(() => FashionMnist.Read(dir.Path, "train"));
        Assert.Contains("header", header.Message);
    }

    [Fact]
    public void TruncatedGzipIsReported()
    {
        using var dir = new TempDir();
        TestFiles.WriteFashionSplit(dir.Path, "train", 20, true, 1);
        var path = Path.Combine(dir.Path, "train-images-idx3-ubyte.gz");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<DataException>(() => FashionMnist.Read(dir.Path, "train"));
        Assert.Equal(path, e.FilePath);
        Assert.NotNull(e.Offset);
    }

    [Fact]
    public void CorruptGzipIsReported()
    {
        using var dir = new TempDir();
        TestFiles.WriteFashionSplit(dir.Path, "train", 2, false, 1);
        var path = Path.Combine(dir.Path, "train-labels-idx1-ubyte");
        File.Delete(path);
        path += ".gz";
        File.WriteAllBytes(path, [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x12, 0x34]);
        var e = Assert.Throws<DataException>(() => FashionMnist.Read(dir.Path, "train"));
        Assert.Equal(path, e.FilePath);
        Assert.Contains("corrupt gzip", e.Message);
    }

    [Fact]
    public void LabelOutOfRangeIsReportedWithItsOffset()
    {
        using var dir = new TempDir();
        TestFiles.WriteFashionSplit(dir.Path, "train", 3, false, 1);
        var path = Path.Combine(dir.Path, "train-labels-idx1-ubyte");
        File.WriteAllBytes(path, TestFiles.Idx(0x801, [3], [1, 12, 2]));
        var e = Assert.Throws<DataException>(() => FashionMnist.Read(dir.Path, "train"));
        Assert.Equal(9, e.Offset);
        Assert.Contains("label 12", e.Message);
    }

    [Fact]
    public void MissingFileAndFolderAreReported()
    {
        using var dir = new TempDir();
        TestFiles.WriteFashionSplit(dir.Path, "train", 2, false, 1);
        var e = Assert.Throws<DataException>(() => Datasets.Open("fashion-mnist", new DataOptions(DataDir: dir.Path)));
        Assert.Contains("t10k-images-idx3-ubyte", e.Message);
        Assert.Contains("missing file", e.Message);

        var missing = dir.Sub("nope");
        var folder = Assert.Throws<DataException>(() => Datasets.Open("fashion-mnist", new DataOptions(DataDir: missing)));
        Assert.Contains(missing, folder.Message);

        var empty = dir.Sub("empty");
        Directory.CreateDirectory(empty);
        var none = Assert.Throws<DataException>(() => Datasets.Open("fashion-mnist", new DataOptions(DataDir: empty)));
        Assert.Contains("Fashion-MNIST not found", none.Message);
    }

    [Fact]
    public void ReadsTheInstalledDataset()
    {
        if (!File.Exists(Path.Combine(FashionMnist.SystemFolder, "train-images-idx3-ubyte.gz"))
            && !File.Exists(Path.Combine(FashionMnist.SystemFolder, "train-images-idx3-ubyte")))
        {
            output.WriteLine($"Fashion-MNIST is not installed in {FashionMnist.SystemFolder} (apt install dataset-fashion-mnist); nothing to check.");
            return;
        }
        var ds = FashionMnist.Open(FashionMnist.SystemFolder);
        var (train, test) = (Assert.IsType<ImageSet>(ds.Train), Assert.IsType<ImageSet>(ds.Test));
        Assert.Equal(60000, train.Count);
        Assert.Equal(10000, test.Count);
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(6000, train.Labels.Count(l => l == c)));
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(1000, test.Labels.Count(l => l == c)));
        var n = Normalization.Compute(train);
        output.WriteLine($"padded 32x32 train statistics: mean {n.Mean[0]:F4}, std {n.Std[0]:F4}");
        // The published 28x28 mean 0.2860 spread over 32x32 pixels (the padding is zeros).
        Assert.Equal(0.2860 * 784 / 1024, n.Mean[0], 3);
        Assert.Equal(FashionMnist.PaddedNormalization.Mean[0], n.Mean[0], 4);
        Assert.Equal(FashionMnist.PaddedNormalization.Std[0], n.Std[0], 4);

        var native = Normalization.Compute(FashionMnist.Read(FashionMnist.SystemFolder, "train", size: 28));
        output.WriteLine($"28x28 train statistics: mean {native.Mean[0]:F4}, std {native.Std[0]:F4}");
        Assert.Equal(FashionMnist.NativeNormalization.Mean[0], native.Mean[0], 4);
        Assert.Equal(FashionMnist.NativeNormalization.Std[0], native.Std[0], 4);
    }
}
