namespace ArchGen.Data.Images;

/// <summary>
/// PIL's bilinear resize with antialiasing (<c>Image.resize(size, BILINEAR, box)</c>, Pillow's Resample.c), which is
/// what torchvision's Resize, RandomResizedCrop and CenterCrop run on PIL images: a triangle filter widened by the
/// downscale factor, separable, horizontal pass first, 8-bit fixed-point weights (22 fractional bits) and 8-bit
/// rounding between the passes. The output is a sub-rectangle of the resized grid, so "resize then crop" costs only
/// the cropped pixels and equals PIL's full resize followed by a crop.
/// </summary>
internal static unsafe class Resampler
{
    const int PrecisionBits = 32 - 8 - 2;

    /// <summary>The taps of one axis for a run of output positions.</summary>
    sealed class Taps
    {
        public required int Size;     // taps per output position (fixed stride in Weights)
        public required int[] Start;  // first source index per output position
        public required int[] Count;  // taps used per output position
        public required int[] Weights;
    }

    /// <summary>
    /// Pillow's <c>precompute_coeffs</c> + <c>normalize_coeffs_8bpc</c> for output positions
    /// <paramref name="first"/>..<paramref name="first"/>+<paramref name="count"/>-1 of an <paramref name="outSize"/>-long
    /// axis mapping the source span [<paramref name="in0"/>, <paramref name="in1"/>) of an <paramref name="inSize"/>-long source.
    /// </summary>
    static Taps Compute(int inSize, double in0, double in1, int outSize, int first, int count)
    {
        double scale = (in1 - in0) / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = 1.0 * filterScale; // bilinear support 1
        int size = (int)Math.Ceiling(support) * 2 + 1;
        var start = new int[count];
        var taps = new int[count];
        var weights = new int[count * size];
        var k = new double[size];
        double ss = 1.0 / filterScale;
        for (int i = 0; i < count; i++)
        {
            int xx = first + i;
            double center = in0 + (xx + 0.5) * scale;
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            if (xmax > size) xmax = size;
            double ww = 0;
            for (int x = 0; x < xmax; x++)
            {
                double t = Math.Abs((x + xmin - center + 0.5) * ss);
                double w = t < 1.0 ? 1.0 - t : 0.0;
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++)
            {
                double w = ww != 0.0 ? k[x] / ww : k[x];
                weights[i * size + x] = w < 0 ? (int)(-0.5 + w * (1 << PrecisionBits)) : (int)(0.5 + w * (1 << PrecisionBits));
            }
            start[i] = xmin;
            taps[i] = Math.Max(xmax, 0);
        }
        return new Taps { Size = size, Start = start, Count = taps, Weights = weights };
    }

    static byte Clip8(int v)
    {
        if (v >= 1 << PrecisionBits << 8) return 255;
        if (v <= 0) return 0;
        return (byte)(v >> PrecisionBits);
    }

    /// <summary>
    /// Resizes the <paramref name="windowWidth"/> x <paramref name="windowHeight"/> source (interleaved pixels of
    /// <paramref name="pixelBytes"/> bytes, 3 or 4, whose first three are R, G, B; rows <paramref name="stride"/> bytes apart)
    /// so that the box (<paramref name="x0"/>, <paramref name="y0"/>)-(<paramref name="x1"/>, <paramref name="y1"/>)
    /// becomes <paramref name="outWidth"/> x <paramref name="outHeight"/>, and writes the output pixels
    /// [<paramref name="ox"/>, <paramref name="ox"/>+<paramref name="cropWidth"/>) x [<paramref name="oy"/>, <paramref name="oy"/>+<paramref name="cropHeight"/>)
    /// to <paramref name="rgb"/> as interleaved RGB.
    /// </summary>
    public static void Resize(byte* source, int stride, int pixelBytes, int windowWidth, int windowHeight,
        double x0, double y0, double x1, double y1, int outWidth, int outHeight,
        int ox, int oy, int cropWidth, int cropHeight, Span<byte> rgb)
    {
        if (rgb.Length < cropWidth * cropHeight * 3) throw new ArgumentException("output too small", nameof(rgb));
        var horizontal = Compute(windowWidth, x0, x1, outWidth, ox, cropWidth);
        var vertical = Compute(windowHeight, y0, y1, outHeight, oy, cropHeight);

        // Source rows the vertical pass reads, and the horizontal pass over just those rows.
        int rowFirst = vertical.Start[0], rowEnd = rowFirst;
        for (int i = 0; i < cropHeight; i++) rowEnd = Math.Max(rowEnd, vertical.Start[i] + vertical.Count[i]);
        int rows = rowEnd - rowFirst;
        int tempStride = cropWidth * 3;
        var temp = new byte[Math.Max(rows, 1) * tempStride];
        fixed (byte* t = temp)
        fixed (byte* o = rgb)
        fixed (int* hw = horizontal.Weights)
        fixed (int* vw = vertical.Weights)
        {
            for (int y = 0; y < rows; y++)
            {
                byte* row = source + (long)(rowFirst + y) * stride;
                byte* target = t + y * tempStride;
                for (int x = 0; x < cropWidth; x++)
                {
                    int s0 = 1 << (PrecisionBits - 1), s1 = s0, s2 = s0;
                    int* k = hw + x * horizontal.Size;
                    byte* p = row + horizontal.Start[x] * pixelBytes;
                    for (int j = 0, n = horizontal.Count[x]; j < n; j++, p += pixelBytes)
                    {
                        int w = k[j];
                        s0 += p[0] * w;
                        s1 += p[1] * w;
                        s2 += p[2] * w;
                    }
                    target[3 * x] = Clip8(s0);
                    target[3 * x + 1] = Clip8(s1);
                    target[3 * x + 2] = Clip8(s2);
                }
            }

            for (int y = 0; y < cropHeight; y++)
            {
                int* k = vw + y * vertical.Size;
                int first = vertical.Start[y] - rowFirst, n = vertical.Count[y];
                byte* target = o + y * tempStride;
                for (int x = 0; x < tempStride; x++)
                {
                    int s = 1 << (PrecisionBits - 1);
                    byte* p = t + first * tempStride + x;
                    for (int j = 0; j < n; j++, p += tempStride) s += *p * k[j];
                    target[x] = Clip8(s);
                }
            }
        }
    }
}
