using static TorchSharp.torch;

namespace ArchGen.Data;

/// <summary>
/// One batch: normalized float32 images <c>[B, C, H, W]</c> and int64 labels <c>[B]</c> on the loader's device.
/// The tensors belong to no dispose scope; the consumer disposes the batch.
/// </summary>
public sealed class Batch : IDisposable
{
    internal Batch(Tensor images, Tensor labels, int index, int[] indices)
    {
        Images = images;
        Labels = labels;
        Index = index;
        Indices = indices;
    }

    /// <summary>Normalized images, float32 <c>[B, C, H, W]</c>.</summary>
    public Tensor Images { get; }

    /// <summary>Class indices, int64 <c>[B]</c>.</summary>
    public Tensor Labels { get; }

    /// <summary>Images in this batch (the last batch of an epoch may be smaller).</summary>
    public int Count => Indices.Count;

    /// <summary>Position of this batch in its epoch.</summary>
    public int Index { get; }

    /// <summary>Indices into the <see cref="ImageSet"/> of the images, in batch order.</summary>
    public IReadOnlyList<int> Indices { get; }

    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}

/// <summary>
/// The random choices behind one batch, reproducible from (seed, epoch, batch index) alone: which images, and for
/// each its crop origin in the padded image (0..2*padding on each axis; <c>padding</c> = no shift) and whether it is
/// mirrored left-right.
/// </summary>
/// <param name="Epoch">The epoch.</param>
/// <param name="Index">The batch's position in the epoch.</param>
/// <param name="Indices">Image indices, in batch order.</param>
/// <param name="OffsetY">Crop origin row in the padded image, per image.</param>
/// <param name="OffsetX">Crop origin column in the padded image, per image.</param>
/// <param name="Flip">Whether each image is flipped horizontally (after cropping).</param>
public sealed record BatchPlan(int Epoch, int Index, int[] Indices, int[] OffsetY, int[] OffsetX, bool[] Flip)
{
    /// <summary>Images in the batch.</summary>
    public int Count => Indices.Length;
}
