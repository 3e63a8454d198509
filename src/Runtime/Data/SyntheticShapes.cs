namespace ArchGen.Data;

/// <summary>
/// A procedurally drawn 10-class 32x32 RGB dataset: each image shows one pattern at a random position, size and
/// colour over a random background, with per-pixel noise. Integer arithmetic only, one generator per image seeded
/// from (seed, split, index): bit-identical for a seed on any machine, and generated in parallel.
/// </summary>
public static class SyntheticShapes
{
    /// <summary>The dataset's name (<c>--dataset synthetic</c>).</summary>
    public const string Name = "synthetic";

    /// <summary>Image side.</summary>
    public const int Size = 32;

    /// <summary>The ten classes.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["circle", "square", "triangle", "h-stripes", "v-stripes", "checker", "cross", "ring", "diagonal", "blob"];

    /// <summary>The dataset with <see cref="DataOptions.SyntheticTrain"/> / <see cref="DataOptions.SyntheticTest"/> images from <see cref="DataOptions.Seed"/>; statistics computed on its train split.</summary>
    public static IDataset Open(DataOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new InMemoryDataset(Name,
            () => Generate(options.SyntheticTrain, options.Seed, split: 0),
            () => Generate(options.SyntheticTest, options.Seed, split: 1));
    }

    /// <summary>Generates <paramref name="count"/> images (labels cycle 0..9, so classes are balanced) for the given seed and split.</summary>
    public static ImageSet Generate(int count, int seed, int split = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        const int imageBytes = 3 * Size * Size;
        var pixels = new byte[(long)count * imageBytes];
        var labels = new byte[count];
        Parallel.For(0, count, () => new int[Size * Size], (i, _, mask) =>
        {
            int label = i % 10;
            labels[i] = (byte)label;
            var rng = SeededRandom.For(0x5EED_5A4E5, seed, split, i);
            Draw(pixels.AsSpan(i * imageBytes, imageBytes), label, rng, mask);
            return mask;
        }, _ => { });
        return new ImageSet(pixels, labels, 3, Size, Size, ClassNames);
    }

    private static void Draw(Span<byte> image, int label, SeededRandom rng, int[] mask)
    {
        Span<int> bg = stackalloc int[3];
        Span<int> fg = stackalloc int[3];
        for (int c = 0; c < 3; c++) bg[c] = rng.Next(256);
        // Foreground far enough from the background to be visible through the noise.
        do
        {
            for (int c = 0; c < 3; c++) fg[c] = rng.Next(256);
        }
        while (Math.Abs(fg[0] - bg[0]) + Math.Abs(fg[1] - bg[1]) + Math.Abs(fg[2] - bg[2]) < 180);

        int cx = rng.Next(10, 23), cy = rng.Next(10, 23);
        Array.Clear(mask);
        switch (label)
        {
            case 0: // filled circle
            {
                int r = rng.Next(5, 10);
                Fill(mask, (x, y) => Sq(x - cx) + Sq(y - cy) <= r * r);
                break;
            }
            case 1: // filled square
            {
                int r = rng.Next(4, 9);
                Fill(mask, (x, y) => Math.Abs(x - cx) <= r && Math.Abs(y - cy) <= r);
                break;
            }
            case 2: // filled upward triangle
            {
                int h = rng.Next(10, 19), top = cy - h / 2;
                Fill(mask, (x, y) => y >= top && y <= top + h && 2 * Math.Abs(x - cx) <= y - top + 1);
                break;
            }
            case 3: // horizontal stripes
            {
                int p = rng.Next(2, 5), phase = rng.Next(16);
                Fill(mask, (x, y) => (y + phase) / p % 2 == 0);
                break;
            }
            case 4: // vertical stripes
            {
                int p = rng.Next(2, 5), phase = rng.Next(16);
                Fill(mask, (x, y) => (x + phase) / p % 2 == 0);
                break;
            }
            case 5: // checkerboard
            {
                int p = rng.Next(3, 7), px = rng.Next(16), py = rng.Next(16);
                Fill(mask, (x, y) => ((x + px) / p + (y + py) / p) % 2 == 0);
                break;
            }
            case 6: // plus-shaped cross
            {
                int r = rng.Next(6, 11), t = rng.Next(1, 3);
                Fill(mask, (x, y) => (Math.Abs(x - cx) <= t && Math.Abs(y - cy) <= r) || (Math.Abs(y - cy) <= t && Math.Abs(x - cx) <= r));
                break;
            }
            case 7: // ring
            {
                int r = rng.Next(7, 11), t = rng.Next(2, 4);
                Fill(mask, (x, y) =>
                {
                    int d = Sq(x - cx) + Sq(y - cy);
                    return d <= r * r && d >= (r - t) * (r - t);
                });
                break;
            }
            case 8: // diagonal stripes, either direction
            {
                int p = rng.Next(2, 5), phase = rng.Next(32);
                bool down = rng.NextBool();
                Fill(mask, (x, y) => ((down ? x + y : x - y + 64) + phase) / p % 2 == 0);
                break;
            }
            default: // blob: a few overlapping discs of random size around the centre
            {
                int n = rng.Next(3, 6);
                Span<int> discs = stackalloc int[3 * 5];
                for (int k = 0; k < n; k++)
                {
                    discs[3 * k] = cx + rng.Next(-5, 6);
                    discs[3 * k + 1] = cy + rng.Next(-5, 6);
                    discs[3 * k + 2] = rng.Next(2, 6);
                }
                for (int y = 0; y < Size; y++)
                for (int x = 0; x < Size; x++)
                {
                    for (int k = 0; k < n; k++)
                    {
                        if (Sq(x - discs[3 * k]) + Sq(y - discs[3 * k + 1]) <= Sq(discs[3 * k + 2]))
                        {
                            mask[y * Size + x] = 1;
                            break;
                        }
                    }
                }
                break;
            }
        }

        int noise = rng.Next(10, 31);
        for (int c = 0; c < 3; c++)
        {
            var plane = image.Slice(c * Size * Size, Size * Size);
            for (int p = 0; p < Size * Size; p++)
            {
                int v = (mask[p] != 0 ? fg[c] : bg[c]) + rng.Next(2 * noise + 1) - noise;
                plane[p] = (byte)Math.Clamp(v, 0, 255);
            }
        }
    }

    private static int Sq(int v) => v * v;

    private static void Fill(int[] mask, Func<int, int, bool> inside)
    {
        for (int y = 0; y < Size; y++)
        for (int x = 0; x < Size; x++)
            mask[y * Size + x] = inside(x, y) ? 1 : 0;
    }
}
