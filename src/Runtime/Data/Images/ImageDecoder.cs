using System.Runtime.InteropServices;
using SkiaSharp;

namespace ArchGen.Data.Images;

/// <summary>What a caller needs of an image, decided from its displayed full-resolution size.</summary>
/// <param name="Scale">The fraction of the full resolution needed (1 = all of it).</param>
/// <param name="Region">Only these pixels (full-resolution, upright coordinates) are needed; null for all.</param>
public readonly record struct DecodeRequest(double Scale, CropBox? Region = null);

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
/// An upright decoded image, or a window of one: <see cref="Width"/> x <see cref="Height"/> RGBA pixels (8 bits, alpha
/// not premultiplied, as PIL's <c>convert("RGB")</c> sees the colour) in native memory, freed on dispose. The window
/// starts at (<see cref="Left"/>, <see cref="Top"/>) of the whole image as decoded (<see cref="ScaledWidth"/> x
/// <see cref="ScaledHeight"/>, after the codec's scaling); <see cref="FullWidth"/> x <see cref="FullHeight"/> is the
/// image's displayed size at full resolution.
/// </summary>
public sealed unsafe class DecodedImage : IDisposable
{
    byte* pixels;
    readonly DecodeMemoryGate.Lease? lease;

    internal DecodedImage(byte* pixels, int width, int height, int fullWidth, int fullHeight, SKEncodedImageFormat format, DecodeMemoryGate.Lease? lease,
        int left = 0, int top = 0, int scaledWidth = 0, int scaledHeight = 0)
    {
        this.pixels = pixels;
        this.lease = lease;
        Width = width;
        Height = height;
        FullWidth = fullWidth;
        FullHeight = fullHeight;
        Format = format;
        Left = left;
        Top = top;
        ScaledWidth = scaledWidth > 0 ? scaledWidth : width;
        ScaledHeight = scaledHeight > 0 ? scaledHeight : height;
    }

    /// <summary>Width of the decoded pixels (upright).</summary>
    public int Width { get; }

    /// <summary>Height of the decoded pixels (upright).</summary>
    public int Height { get; }

    /// <summary>Column of the window's first pixel in the whole decoded image (0 unless a region was asked for).</summary>
    public int Left { get; }

    /// <summary>Row of the window's first pixel in the whole decoded image.</summary>
    public int Top { get; }

    /// <summary>Width of the whole image at the decoded scale (upright).</summary>
    public int ScaledWidth { get; }

    /// <summary>Height of the whole image at the decoded scale (upright).</summary>
    public int ScaledHeight { get; }

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

    /// <summary>
    /// The one rule for which files are images, for training, testing and predict alike: a <see cref="DataException"/>
    /// unless the name ends in one of <see cref="Extensions"/> (a photo saved as <c>.heic</c> that holds a JPEG is
    /// refused everywhere, not read by one command and refused by another).
    /// </summary>
    public static void RequireImageExtension(string path)
    {
        if (ImageFile.NotUtf8(path)) throw ImageFile.NotUtf8Error(path);
        if (!HasImageExtension(path))
            throw new DataException($"not an image file name; expected {string.Join(", ", Extensions)}", path);
    }

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
    public DecodedImage Decode(SKData data, string name, Func<int, int, double>? neededScale = null) =>
        Decode(data, name, neededScale is null ? null : (w, h) => new DecodeRequest(neededScale(w, h)));

    /// <summary>
    /// Reads and decodes what <paramref name="request"/> (given the displayed full-resolution width and height) asks
    /// for: a JPEG region is decoded alone (columns narrowed in the codec, rows above skipped and below never read);
    /// other formats are decoded whole. The result may be larger than the region, never smaller.
    /// </summary>
    public DecodedImage Decode(string path, Func<int, int, DecodeRequest> request)
    {
        using var data = ImageFile.Read(path, Limits);
        return Decode(data, path, request);
    }

    /// <summary>Decodes what <paramref name="request"/> asks for of the encoded bytes in <paramref name="data"/>.</summary>
    public DecodedImage Decode(SKData data, string name, Func<int, int, DecodeRequest>? request)
    {
        ArgumentNullException.ThrowIfNull(data);
        try
        {
            HeaderFacts.CheckPng(data.Span, name, Limits);
            using var stream = new SKMemoryStream(data);
            using var codec = Open(stream, name);
            var header = Header(codec, name);
            var wanted = request?.Invoke(header.Width, header.Height) ?? new DecodeRequest(1);
            var size = DecodeSize(codec, header, double.IsFinite(wanted.Scale) ? Math.Clamp(wanted.Scale, 1e-6, 1) : 1);
            var window = wanted.Region is { } region && header.Format == SKEncodedImageFormat.Jpeg && codec.ScanlineOrder == SKCodecScanlineOrder.TopDown
                ? StoredWindow(header, size, region)
                : new SKRectI(0, 0, size.Width, size.Height);
            long estimate = (long)window.Width * window.Height * 4 + HeaderFacts.WorkingBytes(header, data.Span);
            var lease = Gate.Take(estimate);
            try
            {
                return window.Width == size.Width && window.Height == size.Height
                    ? DecodePixels(codec, header, size, name, lease)
                    : DecodeWindow(codec, header, size, window, name, lease);
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

    /// <summary>
    /// The stored-orientation rectangle, at the decoded scale (<paramref name="size"/>), that holds the upright
    /// full-resolution <paramref name="region"/>, rounded outwards.
    /// </summary>
    static SKRectI StoredWindow(ImageHeader header, SKSizeI size, CropBox region)
    {
        double ws = header.StoredWidth, hs = header.StoredHeight;
        (double, double) ToStored(double u, double v) => header.Origin switch
        {
            SKEncodedOrigin.TopRight => (ws - u, v),
            SKEncodedOrigin.BottomRight => (ws - u, hs - v),
            SKEncodedOrigin.BottomLeft => (u, hs - v),
            SKEncodedOrigin.LeftTop => (v, u),
            SKEncodedOrigin.RightTop => (v, hs - u),
            SKEncodedOrigin.RightBottom => (ws - v, hs - u),
            SKEncodedOrigin.LeftBottom => (ws - v, u),
            _ => (u, v),
        };
        var (ax, ay) = ToStored(region.Left, region.Top);
        var (bx, by) = ToStored(region.Left + region.Width, region.Top + region.Height);
        // A margin of one 16-pixel MCU: chroma upsampling at the window's edge sees the window's own edge, not its
        // neighbour, so the pixels the caller needs keep exactly the values of a whole-image decode.
        const int Margin = 16;
        double sx = size.Width / ws, sy = size.Height / hs;
        int x0 = Math.Clamp((int)Math.Floor(Math.Min(ax, bx) * sx) - Margin, 0, size.Width - 1), x1 = Math.Clamp((int)Math.Ceiling(Math.Max(ax, bx) * sx) + Margin, x0 + 1, size.Width);
        int y0 = Math.Clamp((int)Math.Floor(Math.Min(ay, by) * sy) - Margin, 0, size.Height - 1), y1 = Math.Clamp((int)Math.Ceiling(Math.Max(ay, by) * sy) + Margin, y0 + 1, size.Height);
        return new SKRectI(x0, y0, x1, y1);
    }

    /// <summary>Decodes only <paramref name="window"/> (stored orientation, decoded scale) with the scanline decoder, then turns it upright.</summary>
    static unsafe DecodedImage DecodeWindow(SKCodec codec, ImageHeader header, SKSizeI size, SKRectI window, string name, DecodeMemoryGate.Lease lease)
    {
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        int rowBytes = window.Width * 4;
        byte* pixels = (byte*)NativeMemory.Alloc((nuint)rowBytes * (nuint)window.Height);
        try
        {
            var result = codec.StartScanlineDecode(info, new SKCodecOptions(new SKRectI(window.Left, 0, window.Right, size.Height)));
            if (result != SKCodecResult.Success) throw new DataException($"the image cannot be decoded ({result})", name);
            if (window.Top > 0 && !codec.SkipScanlines(window.Top)) throw new DataException("the image data is truncated or corrupt", name);
            if (codec.GetScanlines((IntPtr)pixels, window.Height, rowBytes) != window.Height) throw new DataException("the image data is truncated or corrupt", name);
            if (header.Origin != SKEncodedOrigin.TopLeft)
            {
                byte* upright = Orient(pixels, window.Width, window.Height, header);
                NativeMemory.Free(pixels);
                pixels = upright;
            }
            // Where the window sits in the upright image at the decoded scale.
            int w = size.Width, h = size.Height;
            (int Left, int Top) origin = header.Origin switch
            {
                SKEncodedOrigin.TopRight => (w - window.Right, window.Top),
                SKEncodedOrigin.BottomRight => (w - window.Right, h - window.Bottom),
                SKEncodedOrigin.BottomLeft => (window.Left, h - window.Bottom),
                SKEncodedOrigin.LeftTop => (window.Top, window.Left),
                SKEncodedOrigin.RightTop => (h - window.Bottom, window.Left),
                SKEncodedOrigin.RightBottom => (h - window.Bottom, w - window.Right),
                SKEncodedOrigin.LeftBottom => (window.Top, w - window.Right),
                _ => (window.Left, window.Top),
            };
            var image = header.Transposed
                ? new DecodedImage(pixels, window.Height, window.Width, header.Width, header.Height, header.Format, lease, origin.Left, origin.Top, h, w)
                : new DecodedImage(pixels, window.Width, window.Height, header.Width, header.Height, header.Format, lease, origin.Left, origin.Top, w, h);
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
