namespace ArchGen.Data.Images;

/// <summary>
/// Bounds every image read is checked against before memory is committed to it: the file's size before it is read,
/// and the pixel count from the header before anything is decoded. A file outside them is a <see cref="DataException"/>
/// naming it.
/// </summary>
/// <param name="MaxPixels">
/// Largest image, in pixels of the full-resolution header (width x height). The default is PIL's
/// <c>Image.MAX_IMAGE_PIXELS</c> (89,478,485, e.g. 10,000 x 8,947), the limit torchvision users already live with.
/// </param>
/// <param name="MaxFileBytes">Largest file read, in bytes (default 256 MiB, at most 2 GiB - 1).</param>
/// <param name="DecodeMemoryBytes">
/// What all decodes in flight together may hold, estimated from their headers (default 512 MiB): workers wait for
/// each other rather than decode eight huge images at once. One image larger than this alone runs by itself.
/// </param>
public sealed record ImageLimits(long MaxPixels = ImageLimits.PilMaxPixels, long MaxFileBytes = 256L << 20, long DecodeMemoryBytes = 512L << 20)
{
    /// <summary>PIL's <c>Image.MAX_IMAGE_PIXELS</c>: 1024 * 1024 * 1024 / 4 / 3.</summary>
    public const long PilMaxPixels = 1024L * 1024 * 1024 / 4 / 3;

    /// <summary>The defaults.</summary>
    public static ImageLimits Default { get; } = new();

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless every bound is positive.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPixels, 1, nameof(MaxPixels));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFileBytes, 1, nameof(MaxFileBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxFileBytes, int.MaxValue, nameof(MaxFileBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(DecodeMemoryBytes, 1, nameof(DecodeMemoryBytes));
    }
}
