using System.Buffers.Binary;
using SkiaSharp;

namespace ArchGen.Data.Images;

/// <summary>
/// Estimates, from the encoded bytes' headers alone, the working memory a codec takes besides the output pixels: the
/// whole-image buffers of interlaced PNG, progressive JPEG (DCT coefficients), lossless WebP and GIF frames. Used to
/// meter decodes through <see cref="DecodeMemoryGate"/>; a generous over-estimate only costs parallelism.
/// </summary>
internal static class HeaderFacts
{
    public static long WorkingBytes(ImageHeader header, ReadOnlySpan<byte> data)
    {
        long stored = (long)header.StoredWidth * header.StoredHeight;
        return header.Format switch
        {
            SKEncodedImageFormat.Png => PngInterlaceBytes(data, stored),
            SKEncodedImageFormat.Jpeg => JpegProgressiveComponents(data) * 2L * stored,
            SKEncodedImageFormat.Webp or SKEncodedImageFormat.Gif => 4 * stored,
            _ => 0,
        };
    }

    /// <summary>libpng's default limit on either side of a PNG (PNG_USER_WIDTH_MAX / PNG_USER_HEIGHT_MAX).</summary>
    public const int PngMaxSide = 1_000_000;

    /// <summary>
    /// Checks a PNG's size from its IHDR before the codec sees it: libpng refuses sides over 1,000,000 pixels in a way
    /// that looks like a truncated file, and the pixel budget is applied before anything is allocated.
    /// </summary>
    public static void CheckPng(ReadOnlySpan<byte> data, string name, ImageLimits limits)
    {
        if (data.Length < 24 || !data[..8].SequenceEqual((ReadOnlySpan<byte>)[137, 80, 78, 71, 13, 10, 26, 10]) || !data[12..16].SequenceEqual("IHDR"u8)) return;
        uint width = BinaryPrimitives.ReadUInt32BigEndian(data[16..]), height = BinaryPrimitives.ReadUInt32BigEndian(data[20..]);
        if (width == 0 || height == 0) throw new DataException($"the PNG header gives an empty size {width}x{height}", name, 16);
        if (width > PngMaxSide || height > PngMaxSide)
            throw new DataException($"the PNG is {width}x{height}; sides over {PngMaxSide:N0} pixels are refused", name, 16);
        long pixels = (long)width * height;
        if (pixels > limits.MaxPixels)
            throw new DataException($"the image is {width}x{height} ({pixels:N0} pixels); images over {limits.MaxPixels:N0} pixels are refused before decoding", name, 16);
    }

    /// <summary>Bytes of the full-image buffer an Adam7-interlaced PNG is decoded through (0 when not interlaced).</summary>
    static long PngInterlaceBytes(ReadOnlySpan<byte> data, long pixels)
    {
        // Signature (8), IHDR length and type (8), width, height, depth, colour type, compression, filter, interlace.
        if (data.Length < 29 || data[28] == 0) return 0;
        int depth = data[24];
        int channels = data[25] switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 4 };
        return pixels * Math.Max(1, channels * depth / 8);
    }

    /// <summary>The number of components of a progressive JPEG (0 for baseline or when no frame header is found).</summary>
    static int JpegProgressiveComponents(ReadOnlySpan<byte> data)
    {
        int pos = 2;
        while (pos + 4 <= data.Length)
        {
            if (data[pos] != 0xFF) return 0;
            byte marker = data[pos + 1];
            if (marker == 0xFF) { pos++; continue; } // fill byte
            if (marker is 0x01 or >= 0xD0 and <= 0xD8) { pos += 2; continue; } // no length
            if (marker is 0xD9 or 0xDA) return 0; // end of image or start of scan: no progressive frame header before it
            int length = BinaryPrimitives.ReadUInt16BigEndian(data[(pos + 2)..]);
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                bool progressive = marker is 0xC2 or 0xC6 or 0xCA or 0xCE;
                int components = pos + 9 < data.Length ? data[pos + 9] : 3;
                return progressive ? Math.Max(1, (int)components) : 0;
            }
            if (length < 2) return 0;
            pos += 2 + length;
        }
        return 0;
    }
}
