using ArchGen.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Runtime.Tests.Data;

public class BatchLoaderTests
{
    private static readonly ImageSet Colour = SyntheticShapes.Generate(37, seed: 11);

    private static ImageSet Gray(int count)
    {
        var rng = new Random(5);
        var pixels = new byte[count * 32 * 32];
        rng.NextBytes(pixels);
        var labels = Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray();
        return new ImageSet(pixels, labels, 1, 32, 32, FashionMnist.ClassNames);
    }

    private static float[] Values(Tensor t) => t.contiguous().data<float>().ToArray();

    private static long[] Longs(Tensor t) => t.data<long>().ToArray();

    /// <summary>Same shape and bit-identical float values.</summary>
    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && Values(a).SequenceEqual(Values(b));

    /// <summary>The slow per-image reference: zero-pad by 4, crop 32 at the plan's origin, mirror, normalize.</summary>
    private static float[] Reference(ImageSet set, BatchPlan plan, Normalization norm, bool augment)
    {
        int c = set.Channels, h = set.Height, w = set.Width, p = BatchLoader.Padding;
        var result = new float[plan.Count * c * h * w];
        for (int n = 0; n < plan.Count; n++)
        {
            var img = set.Image(plan.Indices[n]);
            for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
            {
                int y = i, x = j;
                if (augment)
                {
                    int cj = plan.Flip[n] ? w - 1 - j : j;
                    y = plan.OffsetY[n] + i - p;
                    x = plan.OffsetX[n] + cj - p;
                }
                byte v = y >= 0 && y < h && x >= 0 && x < w ? img[(ch * h + y) * w + x] : (byte)0;
                result[((n * c + ch) * h + i) * w + j] = (v / 255f - norm.Mean[ch]) / norm.Std[ch];
            }
        }
        return result;
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (Math.Abs(expected[i] - actual[i]) > 1e-5f)
                Assert.Fail($"element {i}: expected {expected[i]}, got {actual[i]}");
        }
    }

    [Fact]
    public void TrainingBatchesMatchThePerImageReference()
    {
        var loader = new BatchLoader(Colour, Normalization.Cifar10, batchSize: 8, train: true, seed: 3, CPU, channels: 3);
        Assert.Equal(5, loader.BatchesPerEpoch);
        var seen = new List<int>();
        foreach (var batch in loader.Epoch(2))
        {
            using (batch)
            {
                var plan = loader.Plan(2, batch.Index);
                Assert.Equal(plan.Indices, batch.Indices);
                Assert.Equal(new long[] { plan.Count, 3, 32, 32 }, batch.Images.shape);
                Assert.Equal(ScalarType.Float32, batch.Images.dtype);
                Assert.Equal(ScalarType.Int64, batch.Labels.dtype);
                AssertClose(Reference(Colour, plan, Normalization.Cifar10, augment: true), Values(batch.Images));
                Assert.Equal(plan.Indices.Select(i => (long)Colour.Labels[i]), Longs(batch.Labels));
                seen.AddRange(batch.Indices);
            }
        }
        // The last batch keeps the remainder; every image appears exactly once.
        Assert.Equal(Enumerable.Range(0, 37), seen.Order());
    }

    [Fact]
    public void EveryCropOffsetAndFlipMatchesThePerImageReference()
    {
        // Random two-channel bytes, so a swapped axis, channel or edge shows.
        const int count = 3, c = 2, h = 16, w = 16;
        var pixels = new byte[count * c * h * w];
        new Random(7).NextBytes(pixels);
        var set = new ImageSet(pixels, new byte[count], c, h, w, ["a"]);
        var norm = new Normalization([0.3f, 0.6f], [0.2f, 0.4f]);
        var loader = new BatchLoader(set, norm, batchSize: count, train: true, seed: 0, CPU, channels: c, size: h);
        var indices = new List<int>();
        var oy = new List<int>();
        var ox = new List<int>();
        var flip = new List<bool>();
        for (int y = 0; y <= 2 * BatchLoader.Padding; y++)
        for (int x = 0; x <= 2 * BatchLoader.Padding; x++)
        foreach (bool f in new[] { false, true })
        {
            indices.Add(indices.Count % count);
            oy.Add(y);
            ox.Add(x);
            flip.Add(f);
        }
        var plan = new BatchPlan(0, 0, indices.ToArray(), oy.ToArray(), ox.ToArray(), flip.ToArray());
        using var batch = loader.Build(plan);
        Assert.Equal(new long[] { plan.Count, c, h, w }, batch.Images.shape);
        AssertClose(Reference(set, plan, norm, augment: true), Values(batch.Images));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void CropPaddingBoundsTheShiftAndZeroMeansFlipsOnly(int padding)
    {
        var loader = new BatchLoader(Colour, Normalization.Cifar10, 37, train: true, seed: 1, CPU, 3, cropPadding: padding);
        var plans = Enumerable.Range(0, 20).Select(e => loader.Plan(e, 0)).ToArray();
        Assert.Equal(Enumerable.Range(0, 2 * padding + 1), plans.SelectMany(p => p.OffsetY).Distinct().Order());
        Assert.Equal(Enumerable.Range(0, 2 * padding + 1), plans.SelectMany(p => p.OffsetX).Distinct().Order());
        Assert.Equal([false, true], plans.SelectMany(p => p.Flip).Distinct().Order());
        if (padding != 0) return;

        // Without a crop, a training image is the evaluation image or its mirror.
        var evaluation = new BatchLoader(Colour, Normalization.Cifar10, 37, train: false, seed: 1, CPU, 3);
        var plan = loader.Plan(3, 0);
        using var trained = loader.Build(plan);
        var centre = Enumerable.Repeat(BatchLoader.Padding, plan.Count).ToArray();
        using var plain = evaluation.Build(new BatchPlan(3, 0, plan.Indices, centre, centre, new bool[plan.Count]));
        for (int i = 0; i < plan.Count; i++)
        {
            using var expected = plan.Flip[i] ? plain.Images[i].flip(2) : plain.Images[i].alias();
            Assert.True(trained.Images[i].equal(expected).all().item<bool>(), $"image {i}");
        }
    }

    [Fact]
    public void PlansUseEveryCropOffsetAndBothFlips()
    {
        var loader = new BatchLoader(Colour, Normalization.Cifar10, 37, train: true, seed: 1, CPU, 3);
        var plans = Enumerable.Range(0, 20).Select(e => loader.Plan(e, 0)).ToArray();
        Assert.Equal(Enumerable.Range(0, 9), plans.SelectMany(p => p.OffsetY).Distinct().Order());
        Assert.Equal(Enumerable.Range(0, 9), plans.SelectMany(p => p.OffsetX).Distinct().Order());
        Assert.Equal([false, true], plans.SelectMany(p => p.Flip).Distinct().Order());
    }

    [Fact]
    public void TestBatchesAreInOrderAndOnlyNormalized()
    {
        var loader = new BatchLoader(Colour, Normalization.Cifar10, batchSize: 16, train: false, seed: 3, CPU, channels: 3);
        int start = 0;
        foreach (var batch in loader.Epoch(0))
        {
            using (batch)
            {
                var plan = loader.Plan(0, batch.Index);
                Assert.Equal(Enumerable.Range(start, batch.Count), plan.Indices);
                AssertClose(Reference(Colour, plan, Normalization.Cifar10, augment: false), Values(batch.Images));
                start += batch.Count;
            }
        }
        Assert.Equal(37, start);
        Assert.Equal(loader.Order(0), loader.Order(1));
    }

    [Fact]
    public void SameSeedGivesIdenticalBatchesAndEpochsDiffer()
    {
        var a = new BatchLoader(Colour, Normalization.Cifar10, 10, true, seed: 42, CPU, 3);
        var b = new BatchLoader(Colour, Normalization.Cifar10, 10, true, seed: 42, CPU, 3);
        var other = new BatchLoader(Colour, Normalization.Cifar10, 10, true, seed: 43, CPU, 3);
        foreach (var (x, y, z) in a.Epoch(1).Zip(b.Epoch(1), other.Epoch(1)))
        {
            using (x) using (y) using (z)
            {
                Assert.True(Same(x.Images, y.Images), $"batch {x.Index} differs");
                Assert.Equal(Longs(x.Labels), Longs(y.Labels));
                Assert.False(Same(x.Images, z.Images));
            }
        }
        Assert.NotEqual(a.Order(0), a.Order(1));
        Assert.Equal(Enumerable.Range(0, 37), a.Order(5).Order());
    }

    [Fact]
    public void ResumingMidEpochYieldsTheSameBatches()
    {
        var full = new BatchLoader(Colour, Normalization.Cifar10, 8, true, seed: 9, CPU, 3);
        var all = full.Epoch(3).Select(batch => { using (batch) return (batch.Index, Values(batch.Images), Longs(batch.Labels)); }).ToArray();

        // A fresh loader, as after a restart, touching nothing but epoch 3 from batch 2.
        var resumed = new BatchLoader(Colour, Normalization.Cifar10, 8, true, seed: 9, CPU, 3);
        var tail = resumed.Epoch(3, startBatch: 2).Select(batch => { using (batch) return (batch.Index, Values(batch.Images), Longs(batch.Labels)); }).ToArray();

        Assert.Equal(3, tail.Length);
        for (int k = 0; k < tail.Length; k++)
        {
            Assert.Equal(all[k + 2].Index, tail[k].Index);
            Assert.Equal(all[k + 2].Item2, tail[k].Item2);
            Assert.Equal(all[k + 2].Item3, tail[k].Item3);
        }
        Assert.Empty(resumed.Epoch(3, startBatch: 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => resumed.Epoch(3, startBatch: 6));
    }

    /// <summary>A batch size beyond the set (up to int.MaxValue) is one batch of the whole set: no overflow in the batch count (issue 15).</summary>
    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(int.MaxValue - 7)]
    [InlineData(1 << 30)]
    public void HugeBatchSizesGiveOneBatchOfTheWholeSet(int batchSize)
    {
        var loader = new BatchLoader(Colour, Normalization.Cifar10, batchSize, train: true, seed: 1, CPU, 3);
        Assert.Equal(1, loader.BatchesPerEpoch);
        var batches = loader.Epoch(0).ToList();
        Assert.Single(batches);
        Assert.Equal(Colour.Count, batches[0].Count);
        Assert.Equal(Colour.Count, batches[0].Images.shape[0]);
        Assert.Equal(Colour.Count, loader.Plan(0, 0).Count);
        foreach (var b in batches) b.Dispose();
    }

    [Fact]
    public void TorchRandomStateIsLeftAlone()
    {
        torch.manual_seed(123);
        using var expected = torch.rand(5);
        torch.manual_seed(123);
        var loader = new BatchLoader(Colour, Normalization.Cifar10, 8, true, seed: 1, CPU, 3);
        foreach (var batch in loader.Epoch(0)) batch.Dispose();
        using var actual = torch.rand(5);
        Assert.True(Same(expected, actual));
    }

    [Fact]
    public void GrayImagesAreRepeatedForThreeChannelModels()
    {
        var gray = Gray(10);
        var norm = new Normalization([0.2f], [0.3f]);
        var loader = new BatchLoader(gray, norm, 4, true, seed: 2, CPU, channels: 3);
        foreach (var batch in loader.Epoch(0))
        {
            using (batch)
            {
                Assert.Equal(new long[] { batch.Count, 3, 32, 32 }, batch.Images.shape);
                var plan = loader.Plan(0, batch.Index);
                var one = Reference(gray, plan, norm, augment: true);
                using var first = batch.Images[.., 0];
                AssertClose(one, Values(first));
                using var g = batch.Images[.., 1];
                using var b = batch.Images[.., 2];
                Assert.True(Same(first, g) && Same(first, b));
            }
        }
        var single = new BatchLoader(gray, norm, 4, false, 2, CPU, channels: 1);
        using (var batch = single.Epoch(0).First()) Assert.Equal(new long[] { 4, 1, 32, 32 }, batch.Images.shape);

        var e = Assert.Throws<DataException>(() => new BatchLoader(Colour, Normalization.Cifar10, 4, false, 0, CPU, channels: 1));
        Assert.Contains("3 channel", e.Message);
        Assert.Throws<ArgumentException>(() => new BatchLoader(gray, new Normalization([0.1f, 0.2f], [0.3f, 0.4f]), 4, false, 0, CPU, channels: 3));
    }

    [Fact]
    public void GrayImagesTakeOneStatisticPerModelChannel()
    {
        // ImageNet's statistics on a 1-channel set: each repeated plane is normalized with its own channel's.
        var gray = Gray(4);
        var single = new Normalization([0.2f], [0.3f]);
        var perChannel = new Normalization([0.2f, 0.5f, 0.7f], [0.3f, 0.25f, 0.1f]);
        var reference = new BatchLoader(gray, single, 4, false, 0, CPU, channels: 3);
        var loader = new BatchLoader(gray, perChannel, 4, false, 0, CPU, channels: 3);
        using var expected = reference.Epoch(0).First();
        using var batch = loader.Epoch(0).First();
        for (int c = 0; c < 3; c++)
        {
            using var plane = batch.Images[.., c];
            using var raw = expected.Images[.., 0] * 0.3f + 0.2f; // back to x / 255
            using var want = (raw - perChannel.Mean[c]) / perChannel.Std[c];
            AssertClose(Values(want), Values(plane));
        }
    }

    [Fact]
    public void OtherModelSizesAreResized()
    {
        var loader = new BatchLoader(Colour, Normalization.Cifar10, 8, true, 0, CPU, 3, size: 64);
        using var batch = loader.Epoch(0).First();
        Assert.Equal(new long[] { 8, 3, 64, 64 }, batch.Images.shape);
    }

    [Fact]
    public void BatchesOutliveTheConsumersDisposeScopeAndStoppingEarlyIsClean()
    {
        var loader = new BatchLoader(Colour, Normalization.Cifar10, 8, true, 0, CPU, 3);
        Batch kept;
        using (torch.NewDisposeScope())
        {
            kept = loader.Epoch(0).First(); // stops after one batch while the next is being prefetched
        }
        using (kept)
        {
            Assert.False(kept.Images.IsInvalid);
            Assert.Equal(8 * 3 * 32 * 32, Values(kept.Images).Length);
        }
        Assert.True(kept.Images.IsInvalid);
    }

    [Fact]
    public void BenchmarkRunsAndReportsAThroughput()
    {
        // A smoke test only; the app's bench command runs the real measurement.
        double imagesPerSecond = AugmentationBenchmark.Run(batchSize: 16, batches: 5, images: 200);
        Assert.True(imagesPerSecond > 0 && double.IsFinite(imagesPerSecond));
    }
}
