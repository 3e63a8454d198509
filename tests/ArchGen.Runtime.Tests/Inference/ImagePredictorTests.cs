using ArchGen.Data;
using ArchGen.Inference;
using ArchGen.Runtime.Tests.Data;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Runtime.Tests.Inference;

/// <summary>Classifying files: flip test-time augmentation as <c>archgen test</c> evaluates it.</summary>
public class ImagePredictorTests
{
    /// <summary>Two logits: the sum of the left half of the image and of its right half. A mirror image swaps them.</summary>
    sealed class Halves() : nn.Module<Tensor, Tensor>(nameof(Halves))
    {
        public override Tensor forward(Tensor x)
        {
            long half = x.shape[3] / 2;
            var left = x[.., .., .., ..(int)half].sum([1, 2, 3]);
            var right = x[.., .., .., (int)half..].sum([1, 2, 3]);
            return torch.stack([left, right], 1);
        }
    }

    [Fact]
    public void WithFlipTtaTheMirrorImagesLogitsAreAveragedIn()
    {
        using var dir = new TempDir();
        // Bright on the left, dark on the right.
        string path = dir.Sub("left.png");
        using (var bitmap = new SKBitmap(new SKImageInfo(16, 16, SKColorType.Rgba8888, SKAlphaType.Unpremul)))
        {
            for (int y = 0; y < 16; y++)
                for (int x = 0; x < 16; x++)
                    bitmap.SetPixel(x, y, x < 8 ? new SKColor(230, 230, 230) : new SKColor(20, 20, 20));
            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(path, data.ToArray());
        }

        using var model = new Halves();
        var normalization = new Normalization([0f], [1f]);
        double Left(bool flip) =>
            new ImagePredictor(model, ["left", "right"], normalization, 1, 8, torch.CPU, flip).Predict([path], top: 2)
                .Single().Top.Single(s => s.Label == "left").Probability;

        Assert.True(Left(flip: false) > 0.99, $"without: {Left(false)}"); // the left half is brighter
        Assert.Equal(0.5, Left(flip: true), 6);                              // with its mirror averaged in, both halves weigh the same
    }

    /// <summary>Logits that are NaN for every image (a model with damaged weights).</summary>
    sealed class Broken() : nn.Module<Tensor, Tensor>(nameof(Broken))
    {
        public override Tensor forward(Tensor x) => torch.full(x.shape[0], 2, float.NaN);
    }

    [Fact]
    public void NonFiniteLogitsAreAnErrorNotAProbability()
    {
        using var dir = new TempDir();
        string path = dir.Sub("gray.png");
        using (var bitmap = new SKBitmap(new SKImageInfo(8, 8, SKColorType.Rgba8888, SKAlphaType.Unpremul)))
        {
            bitmap.Erase(new SKColor(128, 128, 128));
            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(path, data.ToArray());
        }

        using var model = new Broken();
        var predictor = new ImagePredictor(model, ["a", "b"], new Normalization([0f], [1f]), 1, 8, torch.CPU);
        var e = Assert.Throws<DataException>(() => predictor.Predict([path]).ToList());
        Assert.Contains(path, e.Message);
        Assert.Contains("not finite", e.Message);
    }

    [Fact]
    public void AnEvaluationCountsImagesWhoseLogitsAreNotFinite()
    {
        using var model = new Broken();
        var set = new ImageSet(new byte[6 * 8 * 8], [0, 1, 0, 1, 0, 1], 1, 8, 8, ["a", "b"]);
        var loader = set.CreateLoader(new LoaderOptions(new Normalization([0f], [1f]), 4, Train: false, Seed: 0, torch.CPU, 1, 8));
        var result = ArchGen.Training.Evaluator.Evaluate(model, loader, ["a", "b"]);
        Assert.Equal(6, result.NonFinite);
    }
}
