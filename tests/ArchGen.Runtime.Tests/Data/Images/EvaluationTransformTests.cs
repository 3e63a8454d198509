using ArchGen.Data.Images;
using Xunit.Abstractions;

namespace ArchGen.Runtime.Tests.Data.Images;

/// <summary>The evaluation transform against torchvision's (PIL: Resize(256) bilinear with antialias + CenterCrop(224)) on real photographs.</summary>
public class EvaluationTransformTests(ITestOutputHelper output)
{
    /// <summary>Every photo at 224 (decoded at full resolution) and at 64 (decoded at half resolution by the JPEG codec).</summary>
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var photo in ImageFixtures.Photos.Select(Path.GetFileNameWithoutExtension))
            foreach (int size in new[] { 224, 64 }) data.Add(photo!, size);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorchvisionWithinTwoLevelsPerPixel(string photo, int size)
    {
        var renderer = new ImageRenderer(size);
        var ours = new byte[renderer.OutputBytes];
        renderer.Evaluation(ImageFixtures.Photo(photo + ".jpg"), ours);

        using var expected = new ImageDecoder().Decode(ImageFixtures.Photo($"{photo}.eval{size}.png"));
        Assert.Equal((size, size), (expected.Width, expected.Height));
        var theirs = expected.ToRgb();

        double sum = 0;
        int max = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            int d = Math.Abs(ours[i] - theirs[i]);
            sum += d;
            max = Math.Max(max, d);
        }
        double mean = sum / ours.Length;
        output.WriteLine($"{photo} at {size}: mean |Δ| = {mean:F3} levels, max {max}");
        Assert.True(mean <= 2.0, $"{photo}: mean absolute difference {mean:F3}/255 > 2/255");
    }

    [Fact]
    public void AResizedImageCropsToTheSamePixelsAsTheFile()
    {
        var renderer = new ImageRenderer(224);
        string path = ImageFixtures.Photo("chelsea.jpg");
        var direct = new byte[renderer.OutputBytes];
        renderer.Evaluation(path, direct);
        var viaCache = new byte[renderer.OutputBytes];
        renderer.Evaluation(renderer.Resized(path), viaCache);
        Assert.Equal(direct, viaCache);
    }
}
