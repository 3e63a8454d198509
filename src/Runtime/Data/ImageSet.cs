namespace ArchGen.Data;

/// <summary>
/// An in-memory labelled image set: <see cref="Pixels"/> holds <c>Count x Channels x Height x Width</c> bytes
/// (channel-planar, row-major), <see cref="Labels"/> one class index per image.
/// </summary>
public sealed class ImageSet : IImageSplit
{
    /// <summary>Wraps the arrays (no copy) after checking their sizes and that every label names a class.</summary>
    public ImageSet(byte[] pixels, byte[] labels, int channels, int height, int width, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (classNames.Count is 0 or > 256)
            throw new ArgumentException($"An image set needs 1..256 classes, got {classNames.Count}.", nameof(classNames));
        long imageBytes = (long)channels * height * width;
        if (pixels.LongLength != imageBytes * labels.LongLength)
            throw new ArgumentException(
                $"Pixels hold {pixels.LongLength} bytes; {labels.Length} images of {channels}x{height}x{width} need {imageBytes * labels.LongLength}.",
                nameof(pixels));
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= classNames.Count)
                throw new ArgumentException($"Label {labels[i]} of image {i} is out of range 0..{classNames.Count - 1}.", nameof(labels));
        }

        Pixels = pixels;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        ClassNames = classNames;
    }

    /// <summary>All images, <c>N x C x H x W</c> uint8.</summary>
    public byte[] Pixels { get; }

    /// <summary>One class index per image.</summary>
    public byte[] Labels { get; }

    /// <summary>Number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>Channels per image (1 or 3 for the built-in sets).</summary>
    public int Channels { get; }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; }

    /// <summary>Image width in pixels.</summary>
    public int Width { get; }

    /// <summary>Bytes per image: <c>Channels * Height * Width</c>.</summary>
    public int ImageBytes => Channels * Height * Width;

    /// <summary>Class names, indexed by label.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The bytes of image <paramref name="index"/> (<c>C x H x W</c>).</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Pixels.AsSpan(index * ImageBytes, ImageBytes);
    }

    IImageSplit IImageSplit.Take(int n) => Take(n);

    /// <summary>A <see cref="BatchLoader"/> over these images (random crop with padding and flip when training).</summary>
    public IBatchLoader CreateLoader(LoaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new BatchLoader(this, options.Normalization, options.BatchSize, options.Train, options.Seed, options.Device, options.Channels, options.Size, options.CropPadding);
    }

    /// <summary>The first <paramref name="n"/> images (a copy), or this set when it has no more than <paramref name="n"/>.</summary>
    public ImageSet Take(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (n >= Count) return this;
        return new ImageSet(Pixels.AsSpan(0, n * ImageBytes).ToArray(), Labels.AsSpan(0, n).ToArray(), Channels, Height, Width, ClassNames);
    }

    /// <summary>Images <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1 (a copy).</summary>
    public ImageSet Slice(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + count, Count, nameof(count));
        return new ImageSet(Pixels.AsSpan(start * ImageBytes, count * ImageBytes).ToArray(), Labels.AsSpan(start, count).ToArray(), Channels, Height, Width, ClassNames);
    }
}
