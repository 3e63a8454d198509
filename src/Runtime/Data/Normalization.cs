namespace ArchGen.Data;

/// <summary>Per-channel mean and standard deviation of pixel values scaled to [0, 1]: <c>x' = (x/255 - mean) / std</c>.</summary>
public sealed record Normalization(float[] Mean, float[] Std)
{
    /// <summary>The usual CIFAR-10 statistics (torchvision reference recipe).</summary>
    public static Normalization Cifar10 { get; } = new([0.4914f, 0.4822f, 0.4465f], [0.2023f, 0.1994f, 0.2010f]);

    /// <summary>ImageNet's statistics, which torchvision's pretrained weights expect.</summary>
    public static Normalization ImageNet { get; } = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>The smallest std accepted: a pixel's range divided by less would overflow float32's precision into nonsense (1e-45, a denormal, makes infinities).</summary>
    public const float MinStd = 1e-6f;

    /// <summary>Whether inputs can be normalized with it: every mean finite, every std finite and at least <see cref="MinStd"/>.</summary>
    public bool IsUsable => Mean.All(float.IsFinite) && Std.All(s => s >= MinStd && float.IsFinite(s));

    /// <summary>Number of channels described.</summary>
    public int Channels => Mean.Length;

    /// <summary>Exact per-channel mean and (population) standard deviation of <paramref name="set"/>'s pixels, over every pixel of every image as stored.</summary>
    public static Normalization Compute(ImageSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        int c = set.Channels, plane = set.Height * set.Width;
        var sums = new long[c];
        var squares = new long[c];
        var gate = new object();
        // Integer sums are exact, so the result does not depend on how the work is split.
        Parallel.For(0, set.Count, () => (new long[c], new long[c]), (i, _, acc) =>
        {
            var image = set.Image(i);
            for (int ch = 0; ch < c; ch++)
            {
                long s = 0, q = 0;
                foreach (byte v in image.Slice(ch * plane, plane)) { s += v; q += v * v; }
                acc.Item1[ch] += s;
                acc.Item2[ch] += q;
            }
            return acc;
        }, acc =>
        {
            lock (gate)
            {
                for (int ch = 0; ch < c; ch++) { sums[ch] += acc.Item1[ch]; squares[ch] += acc.Item2[ch]; }
            }
        });
        var mean = new float[c];
        var std = new float[c];
        double n = (double)set.Count * plane;
        for (int ch = 0; ch < c; ch++)
        {
            double m = sums[ch] / n / 255.0;
            double var = squares[ch] / n / (255.0 * 255.0) - m * m;
            mean[ch] = (float)m;
            std[ch] = (float)Math.Sqrt(Math.Max(var, 1e-12));
        }
        return new Normalization(mean, std);
    }
}
