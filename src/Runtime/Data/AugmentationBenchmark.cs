using System.Diagnostics;
using static TorchSharp.torch;

namespace ArchGen.Data;

/// <summary>Measures augmentation + batching throughput (the training path of <see cref="BatchLoader"/>).</summary>
public static class AugmentationBenchmark
{
    /// <summary>
    /// Images per second for CIFAR-shaped (3x32x32) training batches — shuffle, gather, pad, random crop, flip,
    /// normalize, with background prefetch — over <paramref name="batches"/> batches after a short warm-up.
    /// </summary>
    public static double Run(int batchSize = 128, int batches = 400, Device? device = null, int images = 10_000, int seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batches);
        var pixels = new byte[images * 3 * 32 * 32];
        var labels = new byte[images];
        var rng = new SeededRandom((ulong)seed);
        for (int i = 0; i < pixels.Length; i += 8) BitConverter.TryWriteBytes(pixels.AsSpan(i), rng.NextUInt64());
        for (int i = 0; i < labels.Length; i++) labels[i] = (byte)rng.Next(10);
        var set = new ImageSet(pixels, labels, 3, 32, 32, Cifar10.DefaultClassNames);
        var loader = new BatchLoader(set, Normalization.Cifar10, batchSize, train: true, seed, device ?? CPU, channels: 3);

        foreach (var warm in loader.Epoch(0).Take(50)) warm.Dispose();

        long count = 0;
        int done = 0;
        var clock = Stopwatch.StartNew();
        for (int epoch = 1; done < batches; epoch++)
        {
            foreach (var batch in loader.Epoch(epoch))
            {
                count += batch.Count;
                batch.Dispose();
                if (++done == batches) break;
            }
        }
        return count / clock.Elapsed.TotalSeconds;
    }
}
