using System.Runtime.CompilerServices;

namespace ArchGen.Data.Images;

/// <summary>
/// Interleaved 8-bit RGB pixels of a <c>size x size</c> image to the channel-planar normalized floats a model takes:
/// <c>(v / 255 - mean) / std</c> per channel, through a table; a gray (1-channel) model gets PIL's luma
/// (<c>L = (19595 R + 38470 G + 7471 B + 0x8000) &gt;&gt; 16</c>), normalized with the gray statistics, or, when it was
/// given RGB statistics, their luma-weighted combination. What the loaders and the server share, so an image becomes
/// the same floats wherever it is read.
/// </summary>
public sealed class PixelNormalizer
{
    readonly float[] table; // [output channels, 256]: byte value -> normalized float

    /// <summary>A normalizer for <paramref name="channels"/> (1 or 3) output channels of <paramref name="size"/> x <paramref name="size"/> images.</summary>
    /// <exception cref="DataException">The model takes neither 1 nor 3 channels.</exception>
    /// <exception cref="ArgumentException">The statistics are not 1 or 3 finite means with as many positive, finite stds.</exception>
    public PixelNormalizer(Normalization normalization, int channels, int size)
    {
        ArgumentNullException.ThrowIfNull(normalization);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        if (channels is not (1 or 3))
            throw new DataException($"the model takes {channels}-channel input; images are read as RGB (3 channels) or converted to gray (1 channel)");
        var norm = normalization;
        if (norm.Mean.Length != norm.Std.Length || norm.Mean.Length is not (1 or 3))
            throw new ArgumentException($"The normalization has {norm.Mean.Length} means and {norm.Std.Length} stds; expected 3 (RGB) or 1.", nameof(normalization));
        if (!norm.IsUsable)
            throw new ArgumentException($"The normalization must have finite means and positive, finite stds (mean [{string.Join(", ", norm.Mean)}], std [{string.Join(", ", norm.Std)}]).", nameof(normalization));
        Channels = channels;
        Size = size;
        table = new float[channels * 256];
        for (int ch = 0; ch < channels; ch++)
        {
            // A gray model fed with RGB statistics gets their luma-weighted combination.
            (float mean, float std) = norm.Mean.Length == channels || norm.Mean.Length == 1
                ? (norm.Mean[Math.Min(ch, norm.Mean.Length - 1)], norm.Std[Math.Min(ch, norm.Std.Length - 1)])
                : (0.299f * norm.Mean[0] + 0.587f * norm.Mean[1] + 0.114f * norm.Mean[2], 0.299f * norm.Std[0] + 0.587f * norm.Std[1] + 0.114f * norm.Std[2]);
            float scale = 1f / (255f * std), bias = -mean / std;
            for (int v = 0; v < 256; v++) table[ch * 256 + v] = v * scale + bias;
        }
    }

    /// <summary>Output channels.</summary>
    public int Channels { get; }

    /// <summary>Image side.</summary>
    public int Size { get; }

    /// <summary>Floats of one image: <c>Channels * Size * Size</c>.</summary>
    public int ImageFloats => Channels * Size * Size;

    /// <summary>Normalizes <paramref name="rgb"/> (<c>3 * Size * Size</c> bytes) into <paramref name="destination"/>, mirrored left-right when <paramref name="flip"/>.</summary>
    public unsafe void Fill(ReadOnlySpan<byte> rgb, Span<float> destination, bool flip = false)
    {
        if (rgb.Length < 3 * Size * Size) throw new ArgumentException($"Expected {3 * Size * Size} RGB bytes, got {rgb.Length}.", nameof(rgb));
        if (destination.Length < ImageFloats) throw new ArgumentException($"Expected room for {ImageFloats} floats, got {destination.Length}.", nameof(destination));
        fixed (byte* source = rgb)
        fixed (float* target = destination)
            Fill(source, flip, target);
    }

    /// <summary>Interleaved RGB to channel-planar normalized floats, mirrored left-right when <paramref name="flip"/>; a gray model gets PIL's luma.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal unsafe void Fill(byte* source, bool flip, float* destination)
    {
        int size = Size, plane = size * size;
        fixed (float* t = table)
        {
            for (int y = 0; y < size; y++)
            {
                byte* row = source + y * size * 3;
                if (Channels == 1)
                {
                    float* target = destination + y * size;
                    for (int x = 0; x < size; x++)
                    {
                        byte* p = row + (flip ? size - 1 - x : x) * 3;
                        target[x] = t[(p[0] * 19595 + p[1] * 38470 + p[2] * 7471 + 0x8000) >> 16];
                    }
                    continue;
                }
                float* r = destination + y * size, g = r + plane, b = g + plane;
                if (flip)
                {
                    for (int x = 0, sx = size - 1; x < size; x++, sx--)
                    {
                        byte* p = row + sx * 3;
                        r[x] = t[p[0]];
                        g[x] = t[256 + p[1]];
                        b[x] = t[512 + p[2]];
                    }
                }
                else
                {
                    for (int x = 0; x < size; x++)
                    {
                        byte* p = row + x * 3;
                        r[x] = t[p[0]];
                        g[x] = t[256 + p[1]];
                        b[x] = t[512 + p[2]];
                    }
                }
            }
        }
    }
}
