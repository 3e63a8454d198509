using ArchGen.Data;
using ArchGen.Data.Images;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Runtime.Tests.Data.Images;

/// <summary>The folder dataset: listing, scanning (checks, statistics, cache, bad files) and the streaming loader.</summary>
public class ImageFolderTests
{
    const int Size = 32;

    /// <summary>A photo-like JPEG/PNG/WebP: a smooth gradient with the class's tint, of the given size.</summary>
    static string Photo(string path, int width, int height, int tint, SKEncodedImageFormat format = SKEncodedImageFormat.Jpeg)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 255 / width), (byte)(y * 255 / height), (byte)tint));
        using var data = bitmap.Encode(format, 90);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    /// <summary>train/{ant,cat} and test/{ant,cat} with images of several formats and sizes.</summary>
    static void Folder(TempDir dir, int perClass = 3)
    {
        var formats = new[] { SKEncodedImageFormat.Jpeg, SKEncodedImageFormat.Png, SKEncodedImageFormat.Webp };
        foreach (var (split, n) in new[] { ("train", perClass), ("test", 2) })
            for (int c = 0; c < 2; c++)
                for (int i = 0; i < n; i++)
                {
                    var format = formats[i % 3];
                    string ext = format switch { SKEncodedImageFormat.Png => "png", SKEncodedImageFormat.Webp => "webp", _ => "jpg" };
                    Photo(dir.Sub($"{split}/{(c == 0 ? "ant" : "cat")}/{i}.{ext}"), 40 + 13 * i, 30 + 7 * i, c == 0 ? 30 : 220, format);
                }
    }

    static ImageFolderDataset Open(TempDir dir, ImageFolderOptions? options = null) => ImageFolder.Open(dir.Path, Size, options);

    static LoaderOptions Loader(bool train, int batch = 4, int seed = 1, int channels = 3) =>
        new(Normalization.ImageNet, batch, train, seed, CPU, channels, Size);

    static float[] Values(Tensor t) => t.contiguous().data<float>().ToArray();

    [Fact]
    public void AnEmptyTrainingClassFolderIsRefusedUnlessAllowed()
    {
        using var dir = new TempDir();
        Folder(dir);
        Directory.CreateDirectory(dir.Sub("train/zebra"));
        var e = Assert.Throws<DataException>(() => Open(dir));
        Assert.Contains(dir.Sub("train/zebra"), e.Message);
        Assert.Contains("no images", e.Message);

        // Hidden files do not count as images.
        File.WriteAllText(dir.Sub("train/zebra/.DS_Store"), "finder");
        Assert.Throws<DataException>(() => Open(dir));

        var allowed = Open(dir, new ImageFolderOptions(AllowEmptyClasses: true));
        Assert.Equal(["ant", "cat", "zebra"], allowed.Train.ClassNames);
    }

    [Theory]
    [InlineData(float.PositiveInfinity, 0.5f)]
    [InlineData(0.25f, float.NaN)]
    public void ANormalizationThatIsNotFiniteIsRefused(float std, float mean)
    {
        using var dir = new TempDir();
        Folder(dir);
        var split = Assert.IsType<ImageFileSplit>(Open(dir).Test);
        var options = new LoaderOptions(new Normalization([mean, mean, mean], [std, std, std]), 4, Train: false, Seed: 0, CPU, 3, Size);
        var e = Assert.Throws<ArgumentException>(() => new ImageFileLoader(split, scan: null, options));
        Assert.Contains("finite", e.Message);
    }

    [Fact]
    public void TheModelsInputSizeReachesTheFolderDataset()
    {
        using var dir = new TempDir();
        Folder(dir);
        // The size given once (as every command gives it: there is no second size field) is the size the folder is
        // read, checked and summed at; without it, the paper models' 224.
        var ds = Assert.IsType<ImageFolderDataset>(Datasets.Open("folder", new DataOptions(DataDir: dir.Path, Images: new ImageFolderOptions(CacheBytes: 0), ImageSize: 48)));
        Assert.Equal(48, ds.Size);
        Assert.Equal(ImageFolder.Open(dir.Path, 48).Normalization.Mean, ds.Normalization.Mean);
        Assert.Equal(ImageFolder.DefaultSize, Assert.IsType<ImageFolderDataset>(Datasets.Open("folder", new DataOptions(DataDir: dir.Path))).Size);
    }

    [Fact]
    public void ImagesAtAnyDepthAreListed()
    {
        using var dir = new TempDir();
        Folder(dir);
        string deep = dir.Sub("train/cat/" + string.Join("/", Enumerable.Range(0, 20).Select(i => "d" + i)) + "/deep.png");
        Photo(deep, 20, 20, 200, SKEncodedImageFormat.Png);
        var split = Assert.IsType<ImageFileSplit>(Open(dir).Train);
        Assert.Contains(deep, split.Files);
    }

    [Fact]
    public void ListsClassFoldersSubfoldersIncludedHiddenEntriesLeftOut()
    {
        using var dir = new TempDir();
        Folder(dir);
        Photo(dir.Sub("train/cat/more/deep.jpg"), 20, 20, 200);
        File.WriteAllText(dir.Sub("train/ant/.DS_Store"), "finder");
        Directory.CreateDirectory(dir.Sub("train/.cache"));

        var ds = Datasets.Open("folder", new DataOptions(DataDir: dir.Path, ImageSize: Size));
        Assert.Equal("folder", ds.Name);
        var train = Assert.IsType<ImageFileSplit>(ds.Train);
        Assert.Equal(["ant", "cat"], train.ClassNames);
        Assert.Equal(7, train.Count);
        Assert.Equal([0, 0, 0, 1, 1, 1, 1], train.Labels);
        Assert.EndsWith(Path.Combine("cat", "more", "deep.jpg"), train.Files[6]);
        Assert.Equal(4, ds.Test.Count);
        Assert.Equal(3, ds.Test.Channels);
    }

    [Fact]
    public void StatisticsAreThoseOfTheResizedTrainImages()
    {
        using var dir = new TempDir();
        foreach (var (cls, colour) in new[] { ("a", new SKColor(255, 0, 0)), ("b", new SKColor(0, 0, 255)) })
        {
            foreach (var split in new[] { "train", "test" })
            {
                Directory.CreateDirectory(dir.Sub($"{split}/{cls}"));
                ImageDecoderTests.WriteSolid(dir.Sub($"{split}/{cls}/x.png"), 50, 50, colour, SKEncodedImageFormat.Png);
            }
        }
        var n = Open(dir).Normalization;
        // Half the pixels pure red, half pure blue: means 0.5, 0, 0.5 and standard deviations 0.5, 0, 0.5.
        Assert.Equal(0.5f, n.Mean[0], 4);
        Assert.Equal(0f, n.Mean[1], 4);
        Assert.Equal(0.5f, n.Mean[2], 4);
        Assert.Equal(0.5f, n.Std[0], 4);
        Assert.Equal(0.5f, n.Std[2], 4);
    }

    [Fact]
    public void ATestClassUnknownToTrainIsAnError()
    {
        using var dir = new TempDir();
        Folder(dir);
        Photo(dir.Sub("test/dog/1.jpg"), 10, 10, 0);
        var e = Assert.Throws<DataException>(() => Open(dir));
        Assert.Contains("'dog'", e.Message);
        Assert.Equal(dir.Sub("test/dog"), e.FilePath);
    }

    [Fact]
    public void ABadFileStopsTheScanNamingTheFirst()
    {
        using var dir = new TempDir();
        Folder(dir);
        var good = File.ReadAllBytes(dir.Sub("train/ant/0.jpg"));
        File.WriteAllBytes(dir.Sub("train/ant/4.jpg"), good[..(good.Length / 2)]);
        File.WriteAllText(dir.Sub("train/cat/5.jpg"), "not a photo");
        var ds = Open(dir);
        var e = Assert.Throws<DataException>(() => ds.Train.CreateLoader(Loader(train: true)));
        Assert.Equal(dir.Sub("train/ant/4.jpg"), e.FilePath);
        Assert.Contains("truncated", e.Message);

        File.Delete(dir.Sub("train/ant/4.jpg"));
        File.Delete(dir.Sub("train/cat/5.jpg"));
        File.WriteAllText(dir.Sub("train/cat/notes.txt"), "a note");
        var other = Assert.Throws<DataException>(() => Open(dir).Normalization);
        Assert.Equal(dir.Sub("train/cat/notes.txt"), other.FilePath);
        Assert.Contains("not an image file name", other.Message);
    }

    [Fact]
    public void SkipBadImagesLeavesThemOutWithOneWarningLine()
    {
        using var dir = new TempDir();
        Folder(dir);
        var good = File.ReadAllBytes(dir.Sub("train/ant/0.jpg"));
        var bad = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            string path = dir.Sub($"train/{(i % 2 == 0 ? "ant" : "cat")}/bad{i}.jpg");
            File.WriteAllBytes(path, i == 0 ? good[..100] : "junk"u8.ToArray());
            bad.Add(path);
        }
        var warnings = new List<string>();
        var ds = Open(dir, new ImageFolderOptions(SkipBadImages: true, Warning: warnings.Add));
        Assert.Equal(11, ds.Train.Count);
        using (var batch = ds.Train.CreateLoader(Loader(train: true, batch: 6)).Epoch(0).First()) Assert.Equal(6, batch.Count);
        Assert.Equal(6, ds.Train.Count);
        var line = Assert.Single(warnings);
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("warning: skipped 5 of 11 train files", line);
        Assert.Contains("and 2 more", line);
        Assert.Equal(3, bad.Count(line.Contains));
        Assert.DoesNotContain(Path.Combine("ant", "0.jpg"), line);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(512L << 20)]
    public void TrainingBatchesAreSeededAndAResumedEpochContinuesExactly(long cacheBytes)
    {
        using var dir = new TempDir();
        Folder(dir, perClass: 5);
        var ds = Open(dir, new ImageFolderOptions(CacheBytes: cacheBytes));
        var loader = Assert.IsType<ImageFileLoader>(ds.Train.CreateLoader(Loader(train: true, batch: 4)));
        Assert.Equal(cacheBytes > 0, loader.Cached);
        Assert.Equal(3, loader.BatchesPerEpoch);

        var first = loader.Epoch(1).Select(b => { using (b) return (Values(b.Images), b.Indices.ToArray()); }).ToList();
        var again = loader.Epoch(1).Select(b => { using (b) return (Values(b.Images), b.Indices.ToArray()); }).ToList();
        var resumed = loader.Epoch(1, startBatch: 1).Select(b => { using (b) return (Values(b.Images), b.Indices.ToArray()); }).ToList();
        Assert.Equal(first.Select(f => f.Item1), again.Select(f => f.Item1));
        Assert.Equal(first.Skip(1).Select(f => f.Item1), resumed.Select(f => f.Item1));
        Assert.Equal(first.Skip(1).Select(f => f.Item2), resumed.Select(f => f.Item2));
        Assert.Equal(Enumerable.Range(0, 10), first.SelectMany(f => f.Item2).Order());

        var other = Assert.IsType<ImageFileLoader>(ds.Train.CreateLoader(Loader(train: true, batch: 4, seed: 2)));
        using var otherBatch = other.Epoch(1).First();
        Assert.NotEqual(first[0].Item1, Values(otherBatch.Images));

        using var shaped = loader.Epoch(2).First();
        Assert.Equal(new long[] { 4, 3, Size, Size }, shaped.Images.shape);
        Assert.Equal(new long[] { 4 }, shaped.Labels.shape);
    }

    [Fact]
    public void EvaluationBatchesAreTheEvaluationTransformNormalizedCachedOrNot()
    {
        using var dir = new TempDir();
        Folder(dir);
        var streamed = Open(dir, new ImageFolderOptions(CacheBytes: 0)).Test;
        var cached = Open(dir).Test;
        var a = streamed.CreateLoader(Loader(train: false, batch: 4));
        var b = cached.CreateLoader(Loader(train: false, batch: 4));
        Assert.True(((ImageFileLoader)b).Cached);
        using var fromFiles = a.Epoch(0).Single();
        using var fromMemory = b.Epoch(0).Single();
        Assert.Equal(Values(fromFiles.Images), Values(fromMemory.Images));
        Assert.Equal([0, 1, 2, 3], fromFiles.Indices);

        // Image 2 (a cat): resize + center crop, then (x / 255 - mean) / std per channel.
        var rgb = new byte[3 * Size * Size];
        new ImageRenderer(Size).Evaluation(streamed.Files[2], rgb);
        var values = Values(fromFiles.Images[2]);
        var n = Normalization.ImageNet;
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < Size * Size; p++)
                Assert.Equal((rgb[3 * p + c] / 255f - n.Mean[c]) / n.Std[c], values[c * Size * Size + p], 4);
        Assert.Equal([0L, 0, 1, 1], fromFiles.Labels.data<long>().ToArray());
    }

    [Fact]
    public void GrayModelsGetLumaAndFlipsMirror()
    {
        using var dir = new TempDir();
        Folder(dir);
        var test = Open(dir).Test;
        using var colour = test.CreateLoader(Loader(train: false, batch: 4)).Epoch(0).Single();
        using var gray = test.CreateLoader(Loader(train: false, batch: 4, channels: 1)).Epoch(0).Single();
        Assert.Equal(new long[] { 4, 1, Size, Size }, gray.Images.shape);
        var rgb = Values(colour.Images[0]);
        var luma = Values(gray.Images[0]);
        var n = Normalization.ImageNet;
        float Level(int c, int p) => (rgb[c * Size * Size + p] * n.Std[c] + n.Mean[c]) * 255f;
        float m = 0.299f * n.Mean[0] + 0.587f * n.Mean[1] + 0.114f * n.Mean[2], s = 0.299f * n.Std[0] + 0.587f * n.Std[1] + 0.114f * n.Std[2];
        for (int p = 0; p < Size * Size; p += 37)
        {
            float expected = MathF.Round(0.299f * Level(0, p) + 0.587f * Level(1, p) + 0.114f * Level(2, p));
            Assert.InRange(luma[p] * s * 255f + m * 255f, expected - 1.01f, expected + 1.01f);
        }
    }

    [Fact]
    public void ThePrefetchQueueIsBoundedAndStoppingEarlyIsClean()
    {
        using var dir = new TempDir();
        Folder(dir, perClass: 8);
        var split = Open(dir, new ImageFolderOptions(PrefetchBatches: 2, CacheBytes: 0)).Train;
        var loader = Assert.IsType<ImageFileLoader>(split.CreateLoader(Loader(train: true, batch: 1)));
        Assert.Equal(16, loader.BatchesPerEpoch);
        using (var enumerator = loader.Epoch(0).GetEnumerator())
        {
            Assert.True(enumerator.MoveNext());
            enumerator.Current.Dispose();
            Thread.Sleep(500); // the producer runs ahead as far as the queue lets it
            Assert.InRange(loader.BuiltBatches, 1, 1 + 2 + 1); // taken + queued + the one waiting to be queued
        }
        int before = loader.BuiltBatches;
        Assert.Equal(16, loader.Epoch(1).Count(b => { b.Dispose(); return true; }));
        Assert.InRange(loader.BuiltBatches - before, 16, 16);
    }

    [Fact]
    public void ASplitLargerThanTheCacheIsStreamed()
    {
        using var dir = new TempDir();
        Folder(dir);
        var ds = Open(dir, new ImageFolderOptions(CacheBytes: 10_000)); // one resized image is ~12 kB at 36 px
        Assert.False(ds.Train.Scan(Size).Cached);
        Assert.False(((ImageFileLoader)ds.Train.CreateLoader(Loader(train: true))).Cached);
    }
}
