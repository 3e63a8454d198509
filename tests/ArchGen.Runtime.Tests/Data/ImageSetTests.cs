using ArchGen.Data;

namespace ArchGen.Runtime.Tests.Data;

public class ImageSetTests
{
    private static readonly string[] Names = ["a", "b", "c"];

    [Fact]
    public void TakeCopiesTheFirstImages()
    {
        var pixels = Enumerable.Range(0, 4 * 2 * 2 * 2).Select(i => (byte)i).ToArray();
        var set = new ImageSet(pixels, [0, 1, 2, 1], 2, 2, 2, Names);
        Assert.Equal((4, 8), (set.Count, set.ImageBytes));
        var first = set.Take(2);
        Assert.Equal(2, first.Count);
        Assert.Equal(pixels[..16], first.Pixels);
        Assert.Equal([0, 1], first.Labels);
        Assert.Same(set, set.Take(4));
        Assert.Same(set, set.Take(100));
        Assert.Equal(pixels[8..16], set.Image(1).ToArray());
    }

    [Fact]
    public void ConstructorChecksSizesAndLabels()
    {
        Assert.Throws<ArgumentException>(() => new ImageSet(new byte[7], [0], 2, 2, 2, Names));
        var e = Assert.Throws<ArgumentException>(() => new ImageSet(new byte[16], [0, 3], 2, 2, 2, Names));
        Assert.Contains("Label 3 of image 1", e.Message);
    }

    [Fact]
    public void NormalizationIsExactPopulationStatistics()
    {
        // Channel 0 holds 0 and 255 (mean 0.5, std 0.5); channel 1 is constant 51 (mean 0.2, std 0).
        var set = new ImageSet([0, 255, 51, 51, 255, 0, 51, 51], [0, 1], 2, 1, 2, Names);
        var n = Normalization.Compute(set);
        Assert.Equal(0.5f, n.Mean[0], 6);
        Assert.Equal(0.5f, n.Std[0], 6);
        Assert.Equal(0.2f, n.Mean[1], 6);
        Assert.True(n.Std[1] < 1e-5f && n.Std[1] > 0);
    }
}
