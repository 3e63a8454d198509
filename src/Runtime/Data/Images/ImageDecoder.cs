using System.Runtime.InteropServices;
using SkiaSharp;

namespace ArchGen.Data.Images;

/// <summary>What an image's header says, before any pixel is decoded.</summary>
/// <param name="Format">The encoded format (by content, not by file name).</param>
/// <param name="StoredWidth">Width as stored.</param>
/// <param name="StoredHeight">Height as stored.</param>
/// <param name="Origin">The EXIF orientation (TopLeft when there is none).</param>
public readonly record struct ImageHeader(SKEncodedImageFormat Format, int StoredWidth, int StoredHeight, SKEncodedOrigin Origin)
{
    /// <summary>Whether the orientation swaps width and height (EXIF orientations 5-8).</summary>
    public bool Transposed => Origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    /// <summary>Width as displayed, after the orientation.</summary>
    public int Width => Transposed ? StoredHeight : StoredWidth;

    /// <summary>Height as displayed, after the orientation.</summary>
    public int Height => Transposed ? StoredWidth : StoredHeight;
}

/// <summary>
/// An upright decoded image: <see cref="Width"/> x <see cref="Height"/> RGBA pixels (8 bits, alpha not premultiplied,
/// as PIL's <c>convert("RGB")</c> sees the colour) in native memory, freed on dispose. <see cref="FullWidth"/> x
/// <see cref="FullHeight"/> is the image's displayed size before the codec's scaled decoding.
/// </summary>
public sealed unsafe class DecodedImage : IDisposable
{
    byte* pixels;
    readonly DecodeMemoryGate.Lease? lease;

    internal DecodedImage(byte* pixels, int width, int height, int fullWidth, int fullHeight, SKEncodedImageFormat format, DecodeMemoryGate.Lease? lease)
    {
        this.pixels = pixels;
        this.lease = lease;
        Width = width;
        Height = height;
        FullWidth = fullWidth;
        FullHeight = fullHeight;
        Format = format;
    }

    /// <summary>Decoded width (upright).</summary>
    public int Width { get; }

    /// <summary>Decoded height (upright).</summary>
    public int Height { get; }

    /// <summary>Displayed width at full resolution.</summary>
    public int FullWidth { get; }

    /// <summary>Displayed height at full resolution.</summary>
    public int FullHeight { get; }

    /// <summary>The encoded format.</summary>
    public SKEncodedImageFormat Format { get; }

    /// <summary>Bytes per row: <c>4 * Width</c>.</summary>
    public int RowBytes => 4 * Width;

    /// <summary>The pixels, row-major RGBA.</summary>
    public ReadOnlySpan<byte> Rgba
    {
        get
        {
            ObjectDisposedException.ThrowIf(pixels is null, this);
            return new ReadOnlySpan<byte>(pixels, RowBytes * Height);
        }
    }

    /// <summary>Interleaved RGB (alpha dropped), a copy.</summary>
    public byte[] ToRgb()
    {
        var src = Rgba;
        var rgb = new byte[Width * Height * 3];
        for (int p = 0, n = Width * Height; p < n; p++)
        {
            rgb[3 * p] = src[4 * p];
            rgb[3 * p + 1] = src[4 * p + 1];
            rgb[3 * p + 2] = src[4 * p + 2];
        }
        return rgb;
    }

    /// <summary>Frees the pixels.</summary>
    public void Dispose()
    {
        if (pixels is not null)
        {
            NativeMemory.Free(pixels);
            pixels = null;
        }
        lease?.Dispose();
    }
}

/// <summary>
/// Decodes JPEG (baseline, progressive, grayscale, CMYK), PNG (every bit depth and colour type, interlaced, alpha),
/// WebP, BMP and GIF (first frame) with SkiaSharp. Every image is checked against <see cref="ImageLimits"/> from its
/// header before memory is committed, turned upright by its EXIF orientation (as phones and browsers show it; PIL
/// and torchvision do not), and, for JPEG and WebP, decoded at the smallest of the codec's scales (1/8, 1/4, 1/2)
/// that still gives the caller twice the resolution it asks for (<see cref="ScaledDecodeMargin"/>). Every failure, whatever the bytes, is a
/// <see cref="DataException"/> naming the file.
/// </summary>
public sealed class ImageDecoder
{
    /// <summary>File name endings read as images.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".bmp", ".dib", ".gif"];

    /// <summary>Whether <paramref name="path"/>'s ending is one of <see cref="Extensions"/> (any case).</summary>
    public static bool HasImageExtension(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    const string Supported = "JPEG, PNG, WebP, BMP or GIF";

    /// <summary>Creates a decoder with the given bounds (defaults: <see cref="ImageLimits.Default"/>) sharing <paramref name="gate"/> with other decoders, if given.</summary>
    public ImageDecoder(ImageLimits? limits = null, DecodeMemoryGate? gate = null)
    {
        Limits = limits ?? ImageLimits.Default;
        Limits.Validate();
        Gate = gate ?? new DecodeMemoryGate(Limits.DecodeMemoryBytes);
    }

    /// <summary>The bounds.</summary>
    public ImageLimits Limits { get; }

    /// <summary>The decode-memory gate shared by this decoder's callers.</summary>
    public DecodeMemoryGate Gate { get; }

    /// <summary>Reads only what the header needs (the file is opened as a stream, not read whole).</summary>
    public ImageHeader ReadHeader(string path)
    {
        ImageFile.RegularFileSize(path);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 4096);
            using var managed = new SKManagedStream(stream);
            using var codec = Open(managed, path);
            return Header(codec, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException($"cannot read the file: {e.Message}", path, innerException: e);
        }
    }

    /// <summary>
    /// Reads and decodes <paramref name="path"/>. <paramref name="neededScale"/>, given the displayed full-resolution
    /// width and height, returns the fraction of that resolution the caller needs (1 = all of it, the default);
    /// the decoded image is never smaller than that.
    /// </summary>
    public DecodedImage Decode(string path, Func<int, int, double>? neededScale = null)
    {
        using var data = ImageFile.Read(path, Limits);
        return Decode(data, path, neededScale);
    }

    /// <summary>Decodes the encoded bytes in <paramref name="data"/>; <paramref name="name"/> names them in errors.</summary>
    public DecodedImage Decode(SKData data, string name, Func<int, int, double>? neededScale = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        try
        {
            HeaderFacts.CheckPng(data.Span, name, Limits);
            using var stream = new SKMemoryStream(data);
            using var codec = Open(stream, name);
            var header = Header(codec, name);
            double scale = neededScale is null ? 1 : neededScale(header.Width, header.Height);
            var size = DecodeSize(codec, header, double.IsFinite(scale) ? Math.Clamp(scale, 1e-6, 1) : 1);
            long estimate = (long)size.Width * size.Height * 4 + HeaderFacts.WorkingBytes(header, data.Span);
            var lease = Gate.Take(estimate);
            try
            {
                return DecodePixels(codec, header, size, name, lease);
            }
            catch
            {
                lease.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is not DataException and not OutOfMemoryException)
        {
            throw new DataException($"cannot decode the image: {e.Message}", name, innerException: e);
        }
    }

    static SKCodec Open(SKStream stream, string name)
    {
        var codec = SKCodec.Create(stream, out var result);
        if (codec is null)
        {
            throw result == SKCodecResult.IncompleteInput
                ? new DataException("the file is truncated: its image header is incomplete", name)
                : new DataException($"not a {Supported} image (unrecognized content)", name, 0);
        }
        if (codec.EncodedFormat is not (SKEncodedImageFormat.Jpeg or SKEncodedImageFormat.Png or SKEncodedImageFormat.Webp or SKEncodedImageFormat.Bmp or SKEncodedImageFormat.Gif))
        {
            var format = codec.EncodedFormat;
            codec.Dispose();
            throw new DataException($"{format} images are not supported; expected {Supported}", name, 0);
        }
        return codec;
    }

    ImageHeader Header(SKCodec codec, string name)
    {
        var info = codec.Info;
        var origin = codec.EncodedOrigin;
        if (origin is < SKEncodedOrigin.TopLeft or > SKEncodedOrigin.LeftBottom) origin = SKEncodedOrigin.TopLeft;
        var header = new ImageHeader(codec.EncodedFormat, info.Width, info.Height, origin);
        if (info.Width <= 0 || info.Height <= 0) throw new DataException($"the header gives an empty size {info.Width}x{info.Height}", name);
        long pixels = (long)info.Width * info.Height;
        if (pixels > Limits.MaxPixels)
            throw new DataException($"the image is {info.Width}x{info.Height} ({pixels:N0} pixels); images over {Limits.MaxPixels:N0} pixels are refused before decoding", name);
        return header;
    }

    /// <summary>
    /// How much more resolution than asked for a scaled decode keeps. The codecs' own downscaling (JPEG's reduced
    /// IDCT, WebP's box rescaler) is not PIL's antialiasing filter; with twice the resolution left for the final
    /// resampling, that filter dominates and the result stays within a level or so of a full decode.
    /// </summary>
    public const double ScaledDecodeMargin = 2.0;

    /// <summary>The smallest codec scale (1/8, 1/4, 1/2) whose output keeps <see cref="ScaledDecodeMargin"/> times <paramref name="scale"/> of the resolution (JPEG, WebP); full size otherwise.</summary>
    static SKSizeI DecodeSize(SKCodec codec, ImageHeader header, double scale)
    {
        var full = new SKSizeI(header.StoredWidth, header.StoredHeight);
        scale *= ScaledDecodeMargin;
        if (scale >= 1 || header.Format is not (SKEncodedImageFormat.Jpeg or SKEncodedImageFormat.Webp)) return full;
        double needW = Math.Ceiling(scale * header.StoredWidth - 1e-9), needH = Math.Ceiling(scale * header.StoredHeight - 1e-9);
        foreach (int k in (ReadOnlySpan<int>)[1, 2, 4])
        {
            var size = codec.GetScaledDimensions(k / 8f);
            if (size.Width >= needW && size.Height >= needH && size.Width > 0 && size.Height > 0 && size.Width <= full.Width && size.Height <= full.Height) return size;
        }
        return full;
    }

    static unsafe DecodedImage DecodePixels(SKCodec codec, ImageHeader header, SKSizeI size, string name, DecodeMemoryGate.Lease lease)
    {
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        nuint bytes = (nuint)info.RowBytes * (nuint)info.Height;
        byte* pixels = (byte*)NativeMemory.Alloc(bytes);
        try
        {
            var result = codec.GetPixels(info, (IntPtr)pixels, info.RowBytes, new SKCodecOptions(0));
            if (result == SKCodecResult.InvalidScale && (size.Width != header.StoredWidth || size.Height != header.StoredHeight))
                throw new DataException("the codec refused its own scaled size", name);
            switch (result)
            {
                case SKCodecResult.Success:
                    break;
                case SKCodecResult.IncompleteInput:
                    throw new DataException("the image data is truncated", name);
                case SKCodecResult.ErrorInInput:
                case SKCodecResult.InvalidInput:
                    throw new DataException("the image data is corrupt", name);
                default:
                    throw new DataException($"the image cannot be decoded ({result})", name);
            }
            if (header.Origin != SKEncodedOrigin.TopLeft)
            {
                byte* upright = Orient(pixels, size.Width, size.Height, header);
                NativeMemory.Free(pixels);
                pixels = upright;
            }
            var image = header.Transposed
                ? new DecodedImage(pixels, size.Height, size.Width, header.Width, header.Height, header.Format, lease)
                : new DecodedImage(pixels, size.Width, size.Height, header.Width, header.Height, header.Format, lease);
            pixels = null;
            return image;
        }
        finally
        {
            if (pixels is not null) NativeMemory.Free(pixels);
        }
    }

    /// <summary>A new buffer holding the stored <paramref name="w"/> x <paramref name="h"/> pixels turned upright (EXIF semantics).</summary>
    static unsafe byte* Orient(byte* stored, int w, int h, ImageHeader header)
    {
        int uw = header.Transposed ? h : w, uh = header.Transposed ? w : h;
        uint* src = (uint*)stored;
        uint* dst = (uint*)NativeMemory.Alloc((nuint)uw * (nuint)uh * 4);
        for (int y = 0; y < uh; y++)
        {
            uint* row = dst + (long)y * uw;
            for (int x = 0; x < uw; x++)
            {
                // Upright (x, y) reads stored (sx, sy).
                (int sx, int sy) = header.Origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),
                    SKEncodedOrigin.LeftBottom => (w - 1 - y, x),
                    _ => (x, y),
                };
                row[x] = src[(long)sy * w + sx];
            }
        }
        return (byte*)dst;
    }
}
