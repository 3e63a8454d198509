using System.Diagnostics;
using ArchGen.Data;

namespace ArchGen.Runtime.Tests.Data;

public class SyntheticShapesTests
{
    [Fact]
    public void SameSeedGivesIdenticalBytes()
    {
        var a = SyntheticShapes.Generate(500, seed: 7);
        var b = SyntheticShapes.Generate(500, seed: 7);
        Assert.Equal(a.Pixels, b.Pixels);
        Assert.Equal(a.Labels, b.Labels);
        Assert.NotEqual(a.Pixels, SyntheticShapes.Generate(500, seed: 8).Pixels);
        Assert.NotEqual(a.Pixels, SyntheticShapes.Generate(500, seed: 7, split: 1).Pixels);
        // A prefix of a larger set is the smaller set.
        Assert.Equal(a.Pixels, SyntheticShapes.Generate(1000, seed: 7).Take(500).Pixels);
    }

    [Fact]
    public void ClassesAreBalancedAndImagesVary()
    {
        var set = SyntheticShapes.Generate(1000, seed: 1);
        Assert.Equal((3, 32, 32), (set.Channels, set.Height, set.Width));
        Assert.Equal(10, set.ClassNames.Count);
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(100, set.Labels.Count(l => l == c)));
        var distinct = Enumerable.Range(0, set.Count).Select(i => Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(set.Image(i)))).Distinct().Count();
        Assert.Equal(1000, distinct);
    }

    [Fact]
    public void DefaultSizesAreGeneratedQuickly()
    {
        var clock = Stopwatch.StartNew();
        var ds = Datasets.Open("synthetic", new DataOptions(Seed: 3));
        Assert.Equal(5000, ds.Train.Count);
        Assert.Equal(1000, ds.Test.Count);
        Assert.Equal(3, ds.Normalization.Mean.Length);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    /// <summary>Classes differ in a way simple statistics already see: a nearest-centroid classifier on tiny features beats chance.</summary>
    [Fact]
    public void ClassesAreSeparable()
    {
        var train = SyntheticShapes.Generate(2000, seed: 5);
        var test = SyntheticShapes.Generate(500, seed: 5, split: 1);
        static double[] Features(ImageSet s, int i)
        {
            // Luminance-contrast histogram of horizontal and vertical gradients, plus centre/edge contrast.
            var img = s.Image(i).ToArray();
            var f = new double[6];
            double mean = 0;
            for (int p = 0; p < 1024; p++) mean += img[p] + img[1024 + p] + img[2048 + p];
            mean /= 1024;
            for (int y = 0; y < 31; y++)
            for (int x = 0; x < 31; x++)
            {
                int L(int yy, int xx) => img[yy * 32 + xx] + img[1024 + yy * 32 + xx] + img[2048 + yy * 32 + xx];
                double gx = Math.Abs(L(y, x + 1) - L(y, x)), gy = Math.Abs(L(y + 1, x) - L(y, x));
                f[0] += gx; f[1] += gy;
                f[2] += Math.Abs(L(y + 1, x + 1) - L(y, x));
                f[3] += Math.Abs(L(y + 1, x) - L(y, x + 1));
                f[4] += Math.Abs(L(y, x) - mean);
                bool centre = x is > 8 and < 23 && y is > 8 and < 23;
                f[5] += centre ? L(y, x) - mean : 0;
            }
            double norm = f[4] + 1;
            return f.Select(v => v / norm).ToArray();
        }
        var centroids = new double[10][];
        for (int c = 0; c < 10; c++) centroids[c] = new double[6];
        var counts = new int[10];
        for (int i = 0; i < train.Count; i++)
        {
            var f = Features(train, i);
            counts[train.Labels[i]]++;
            for (int k = 0; k < 6; k++) centroids[train.Labels[i]][k] += f[k];
        }
        for (int c = 0; c < 10; c++) for (int k = 0; k < 6; k++) centroids[c][k] /= counts[c];
        int right = 0;
        for (int i = 0; i < test.Count; i++)
        {
            var f = Features(test, i);
            int best = Enumerable.Range(0, 10).MinBy(c => centroids[c].Zip(f, (a, b) => (a - b) * (a - b)).Sum());
            if (best == test.Labels[i]) right++;
        }
        Assert.True(right > test.Count * 0.25, $"nearest-centroid accuracy {right}/{test.Count}");
    }
}
