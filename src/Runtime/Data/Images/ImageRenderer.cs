namespace ArchGen.Data.Images;

/// <summary>An image resized for evaluation (shorter side <see cref="ImageNetTransforms.ResizeSide"/>), uncropped, as interleaved RGB.</summary>
public sealed record ResizedImage(byte[] Rgb, int Width, int Height)
{
    /// <summary>Bytes held.</summary>
    public long Bytes => Rgb.LongLength;
}

/// <summary>
/// Turns one image (a file, or a <see cref="ResizedImage"/> kept in memory) into the model's <c>size x size</c> RGB
/// input with torchvision's ImageNet geometry (<see cref="ImageNetTransforms"/>) and PIL's resampling
/// (<see cref="Resampler"/>). A large JPEG or WebP is decoded at the smallest codec scale that still holds the
/// resolution the crop needs, so a 4000x3000 photo is not fully decoded to make a 256-pixel image.
/// </summary>
public sealed class ImageRenderer
{
    /// <summary>Creates a renderer for <paramref name="size"/> x <paramref name="size"/> outputs.</summary>
    public ImageRenderer(int size, ImageDecoder? decoder = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        Size = size;
        ResizeSide = ImageNetTransforms.ResizeSide(size);
        Decoder = decoder ?? new ImageDecoder();
    }

    /// <summary>Side of the output.</summary>
    public int Size { get; }

    /// <summary>Shorter side before the evaluation crop.</summary>
    public int ResizeSide { get; }

    /// <summary>The decoder.</summary>
    public ImageDecoder Decoder { get; }

    /// <summary>Bytes of one output: <c>3 * Size * Size</c>.</summary>
    public int OutputBytes => 3 * Size * Size;

    /// <summary>The fraction of a <paramref name="width"/> x <paramref name="height"/> image's resolution that resizing its shorter side to <paramref name="side"/> needs.</summary>
    static double ShorterSideScale(int width, int height, int side) => Math.Min(1.0, (double)side / Math.Min(width, height));

    /// <summary>Evaluation transform of a file: resize (shorter side <see cref="ResizeSide"/>) and center crop, into <paramref name="rgb"/>.</summary>
    public void Evaluation(string path, Span<byte> rgb)
    {
        using var image = Decoder.Decode(path, (w, h) => ShorterSideScale(w, h, ResizeSide));
        Evaluation(image, rgb);
    }

    /// <summary>Evaluation transform of encoded image bytes (an upload, say; <paramref name="name"/> names them in errors), into <paramref name="rgb"/>.</summary>
    public void Evaluation(SkiaSharp.SKData data, string name, Span<byte> rgb)
    {
        using var image = Decoder.Decode(data, name, (w, h) => ShorterSideScale(w, h, ResizeSide));
        Evaluation(image, rgb);
    }

    unsafe void Evaluation(DecodedImage image, Span<byte> rgb)
    {
        var (rw, rh) = ImageNetTransforms.Resized(image.FullWidth, image.FullHeight, ResizeSide);
        var crop = ImageNetTransforms.CenterCrop(rw, rh, Size);
        fixed (byte* p = image.Rgba)
            Resampler.Resize(p, image.RowBytes, 4, image.Width, image.Height, 0, 0, image.Width, image.Height, rw, rh, crop.Left, crop.Top, Size, Size, rgb);
    }

    /// <summary>A file resized for evaluation but not cropped (what caches and statistics keep).</summary>
    public unsafe ResizedImage Resized(string path)
    {
        using var image = Decoder.Decode(path, (w, h) => ShorterSideScale(w, h, ResizeSide));
        var (rw, rh) = ImageNetTransforms.Resized(image.FullWidth, image.FullHeight, ResizeSide);
        var rgb = new byte[3L * rw * rh];
        fixed (byte* p = image.Rgba)
            Resampler.Resize(p, image.RowBytes, 4, image.Width, image.Height, 0, 0, image.Width, image.Height, rw, rh, 0, 0, rw, rh, rgb);
        return new ResizedImage(rgb, rw, rh);
    }

    /// <summary>Evaluation transform of a resized image: its center crop.</summary>
    public void Evaluation(ResizedImage image, Span<byte> rgb)
    {
        var crop = ImageNetTransforms.CenterCrop(image.Width, image.Height, Size);
        if (crop.Top < 0 || crop.Left < 0) throw new ArgumentException($"A {image.Width}x{image.Height} image is smaller than the {Size}-pixel crop.", nameof(image));
        int rowBytes = 3 * Size;
        for (int y = 0; y < Size; y++)
            image.Rgb.AsSpan(((crop.Top + y) * image.Width + crop.Left) * 3, rowBytes).CopyTo(rgb.Slice(y * rowBytes, rowBytes));
    }

    /// <summary>
    /// Training transform of a file: a random resized crop drawn from <paramref name="random"/> on the displayed
    /// full-resolution size, resized to <see cref="Size"/>; then the flip coin. Returns whether to flip.
    /// </summary>
    internal unsafe bool Training(string path, SeededRandom random, Span<byte> rgb)
    {
        CropBox crop = default;
        using var image = Decoder.Decode(path, (w, h) =>
        {
            crop = ImageNetTransforms.RandomResizedCrop(w, h, random);
            return new DecodeRequest(Math.Min(1.0, Math.Max((double)Size / crop.Width, (double)Size / crop.Height)), crop);
        });
        fixed (byte* p = image.Rgba)
            ResizeCrop(p, image.RowBytes, 4, image.Width, image.Height, (double)image.ScaledWidth / image.FullWidth, (double)image.ScaledHeight / image.FullHeight,
                image.Left, image.Top, crop, rgb);
        return random.NextBool();
    }

    /// <summary>Training transform of a resized image (the crop is drawn on its size). Returns whether to flip.</summary>
    internal unsafe bool Training(ResizedImage image, SeededRandom random, Span<byte> rgb)
    {
        var crop = ImageNetTransforms.RandomResizedCrop(image.Width, image.Height, random);
        fixed (byte* p = image.Rgb)
            ResizeCrop(p, 3 * image.Width, 3, image.Width, image.Height, 1, 1, 0, 0, crop, rgb);
        return random.NextBool();
    }

    /// <summary>
    /// Resizes the crop (in full-resolution coordinates) of a source decoded at (<paramref name="sx"/>, <paramref name="sy"/>)
    /// times full resolution, whose pixels start at (<paramref name="left"/>, <paramref name="top"/>) of the decoded image,
    /// to <see cref="Size"/> x <see cref="Size"/>. As torchvision crops before resizing, the filter reads only pixels
    /// inside the crop (exactly so at full resolution).
    /// </summary>
    unsafe void ResizeCrop(byte* source, int stride, int pixelBytes, int width, int height, double sx, double sy, int left, int top, CropBox crop, Span<byte> rgb)
    {
        double x0 = crop.Left * sx - left, x1 = (crop.Left + crop.Width) * sx - left, y0 = crop.Top * sy - top, y1 = (crop.Top + crop.Height) * sy - top;
        int wx0 = Math.Clamp((int)Math.Floor(x0 + 1e-9), 0, width - 1), wy0 = Math.Clamp((int)Math.Floor(y0 + 1e-9), 0, height - 1);
        int wx1 = Math.Clamp((int)Math.Ceiling(x1 - 1e-9), wx0 + 1, width), wy1 = Math.Clamp((int)Math.Ceiling(y1 - 1e-9), wy0 + 1, height);
        byte* window = source + (long)wy0 * stride + (long)wx0 * pixelBytes;
        Resampler.Resize(window, stride, pixelBytes, wx1 - wx0, wy1 - wy0,
            Math.Max(0, x0 - wx0), Math.Max(0, y0 - wy0), Math.Min(wx1 - wx0, x1 - wx0), Math.Min(wy1 - wy0, y1 - wy0),
            Size, Size, 0, 0, Size, Size, rgb);
    }
}
