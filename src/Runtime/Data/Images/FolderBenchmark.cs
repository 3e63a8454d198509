using System.Diagnostics;
using ArchGen.Performance;
using static TorchSharp.torch;

namespace ArchGen.Data.Images;

/// <summary>Figures of one run of <see cref="FolderBenchmark.Run"/>.</summary>
/// <param name="Images">Images in the folder.</param>
/// <param name="Batches">Batches timed.</param>
/// <param name="ImagesTimed">Images in the timed batches.</param>
/// <param name="Seconds">Wall time of the timed batches.</param>
/// <param name="PeakRssMiB">Peak resident memory of the process.</param>
public sealed record FolderBenchmarkResult(int Images, int Size, int BatchSize, int Workers, int Batches, long ImagesTimed, double Seconds, double PeakRssMiB)
{
    /// <summary>Decoded, augmented and batched images per second.</summary>
    public double ImagesPerSecond => ImagesTimed / Seconds;
}

/// <summary>
/// Times the folder pipeline the way <c>bench/torchvision_loader.py</c> times torchvision's: every image of a folder
/// of class subfolders read, decoded, randomly resized and cropped to the model's size, flipped, normalized and
/// batched (the training transform, <see cref="ImageFileLoader"/> streaming from the files, no cache), batch after
/// batch, after one warm-up batch.
/// </summary>
public static class FolderBenchmark
{
    /// <param name="folder">A folder of class subfolders, or an image-folder dataset root (its <c>train</c> split is used).</param>
    /// <param name="size">The model's input side.</param>
    /// <param name="batchSize">Images per batch.</param>
    /// <param name="workers">Parallel decoders (0 = one per core).</param>
    /// <param name="epochs">Passes over the folder.</param>
    /// <param name="cancel">A stop request ends the benchmark before its next batch (<see cref="OperationCanceledException"/>).</param>
    public static FolderBenchmarkResult Run(string folder, int size, int batchSize, int workers, int epochs = 1, CancellationToken cancel = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epochs);
        string root = Directory.Exists(Path.Combine(folder, "train")) ? Path.Combine(folder, "train") : folder;
        if (!Directory.Exists(root)) throw new DataException("the folder does not exist", folder);
        var classes = Directory.GetDirectories(root).Select(d => Path.GetFileName(d)!).Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToArray();
        if (classes.Length == 0) throw new DataException("no class subfolders", root);
        var files = new List<string>();
        var labels = new List<int>();
        for (int c = 0; c < classes.Length; c++)
        {
            foreach (var f in ImageFolder.Files([Path.Combine(root, classes[c])]))
            {
                files.Add(f);
                labels.Add(c);
            }
        }
        var options = new ImageFolderOptions(Workers: workers, CacheBytes: 0);
        var split = new ImageFileSplit("bench", files, labels, classes, options, new ImageCacheBudget(0));
        var loader = new ImageFileLoader(split, scan: null, new LoaderOptions(Normalization.ImageNet, batchSize, Train: true, Seed: 0, CPU, 3, size));

        using (var warm = loader.Build(0, 0)) { }
        long images = 0;
        int batches = 0;
        var clock = Stopwatch.StartNew();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            foreach (var batch in loader.Epoch(epoch))
            {
                using (batch)
                {
                    cancel.ThrowIfCancellationRequested();
                    images += batch.Count;
                    batches++;
                }
            }
        }
        return new FolderBenchmarkResult(files.Count, size, batchSize, options.ResolvedWorkers, batches, images, clock.Elapsed.TotalSeconds, ResourceUsage.PeakResidentMiB());
    }
}
