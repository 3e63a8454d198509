namespace ArchGen.Data.Images;

/// <summary>A crop rectangle in pixels: rows <see cref="Top"/>.., columns <see cref="Left"/>...</summary>
public readonly record struct CropBox(int Top, int Left, int Height, int Width);

/// <summary>
/// The geometry of torchvision's ImageNet recipe (torchvision 0.14, PIL path), computed from an image's size alone.
/// Training: <c>RandomResizedCrop(size, scale=(0.08, 1), ratio=(3/4, 4/3))</c> then a horizontal flip with
/// probability 1/2. Evaluation: <c>Resize(size / 0.875)</c> (shorter side; 256 for 224) then <c>CenterCrop(size)</c>.
/// </summary>
public static class ImageNetTransforms
{
    /// <summary>The evaluation crop covers this fraction of the resized shorter side.</summary>
    public const double CropFraction = 0.875;

    /// <summary>Smallest and largest area fraction of a training crop.</summary>
    public const double MinScale = 0.08, MaxScale = 1.0;

    /// <summary>Smallest and largest aspect ratio (width / height) of a training crop.</summary>
    public const double MinRatio = 3.0 / 4.0, MaxRatio = 4.0 / 3.0;

    /// <summary>The shorter side images are resized to before the evaluation crop: floor(size / 0.875), 256 for 224.</summary>
    public static int ResizeSide(int size) => (int)Math.Floor(size / CropFraction + 1e-9);

    /// <summary>torchvision's <c>Resize(side)</c> output size: the shorter side becomes <paramref name="side"/>, the longer one keeps the aspect (truncated).</summary>
    public static (int Width, int Height) Resized(int width, int height, int side)
    {
        if (width <= height) return (side, (int)((long)side * height / width));
        return ((int)((long)side * width / height), side);
    }

    /// <summary>torchvision's <c>CenterCrop(size)</c> origin in a <paramref name="width"/> x <paramref name="height"/> image (Python's round-half-even).</summary>
    public static CropBox CenterCrop(int width, int height, int size) =>
        new((int)Math.Round((height - size) / 2.0, MidpointRounding.ToEven), (int)Math.Round((width - size) / 2.0, MidpointRounding.ToEven), size, size);

    /// <summary>
    /// <c>RandomResizedCrop.get_params</c>: up to ten draws of an area fraction in [0.08, 1] and a log-uniform aspect
    /// ratio in [3/4, 4/3], the first that fits placed uniformly; otherwise the central crop of the clamped aspect.
    /// </summary>
    internal static CropBox RandomResizedCrop(int width, int height, SeededRandom random)
    {
        double area = (double)width * height;
        double logMin = Math.Log(MinRatio), logMax = Math.Log(MaxRatio);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * (MinScale + (MaxScale - MinScale) * random.NextDouble());
            double ratio = Math.Exp(logMin + (logMax - logMin) * random.NextDouble());
            int w = (int)Math.Round(Math.Sqrt(target * ratio), MidpointRounding.ToEven);
            int h = (int)Math.Round(Math.Sqrt(target / ratio), MidpointRounding.ToEven);
            if (w > 0 && w <= width && h > 0 && h <= height)
                return new CropBox(random.Next(height - h + 1), random.Next(width - w + 1), h, w);
        }
        double inRatio = (double)width / height;
        int cw = width, ch = height;
        if (inRatio < MinRatio) ch = (int)Math.Round(cw / MinRatio, MidpointRounding.ToEven);
        else if (inRatio > MaxRatio) cw = (int)Math.Round(ch * MaxRatio, MidpointRounding.ToEven);
        return new CropBox((height - ch) / 2, (width - cw) / 2, ch, cw);
    }
}
