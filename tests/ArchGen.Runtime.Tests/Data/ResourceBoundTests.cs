using System.IO.Compression;
using ArchGen.Data;
using ArchGen.Runtime.Tests.Checkpoints;

namespace ArchGen.Runtime.Tests.Data;

/// <summary>
/// Hostile inputs cost no more memory than the dataset they claim to be, and never hang a reader (issue 15 item 6):
/// a gzip that expands far beyond its IDX header's shape, a header claiming billions of items, a FIFO or a link
/// to /dev/zero in place of a data file.
/// </summary>
[Collection(nameof(MemoryMeasurements))]
public class ResourceBoundTests
{
    const int Official = 60000 * 784;

    /// <summary>An IDX image file declaring 60,000 28x28 images whose gzip stream goes on for <paramref name="extra"/> more bytes of zeros.</summary>
    static byte[] GzipBomb(long extra, bool forgeTrailer)
    {
        var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(TestFiles.Idx(0x803, [60000, 28, 28], []));
            var zeros = new byte[1 << 20];
            for (long left = Official + extra; left > 0; left -= zeros.Length) gz.Write(zeros, 0, (int)Math.Min(zeros.Length, left));
        }
        byte[] bytes = output.ToArray();
        // A careful attacker makes the trailer's size (mod 2^32) agree with the header.
        if (forgeTrailer) BitConverter.TryWriteBytes(bytes.AsSpan(bytes.Length - 4), (uint)(16 + Official));
        return bytes;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AGzipBombIsRefusedWithinTheDeclaredSize(bool forgeTrailer)
    {
        using var dir = new TempDir();
        TestFiles.WriteFashionSplit(dir.Path, "train", 1, gzip: false, seed: 1);
        File.WriteAllBytes(Path.Combine(dir.Path, "train-labels-idx1-ubyte"), TestFiles.Idx(0x801, [60000], new byte[60000]));
        string images = Path.Combine(dir.Path, "train-images-idx3-ubyte");
        File.Delete(images);
        images += ".gz";
        File.WriteAllBytes(images, GzipBomb(extra: 400L << 20, forgeTrailer));

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<DataException>(() => FashionMnist.Read(dir.Path, "train"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(images, error.FilePath);
        Assert.True(allocated < Official + (16 << 20), $"allocated {allocated:N0} bytes; the declared data is {Official:N0}");
        if (forgeTrailer) Assert.Equal(16 + Official, error.Offset); // inflated up to the declared end, then stopped
        else Assert.True(allocated < 8 << 20, $"refused from its trailer, before inflating; allocated {allocated:N0} bytes");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AHeaderClaimingBillionsOfItemsIsRefusedBeforeAllocating(bool gzip)
    {
        using var dir = new TempDir();
        TestFiles.WriteFashionSplit(dir.Path, "t10k", 2, gzip, seed: 1);
        string labels = Path.Combine(dir.Path, "t10k-labels-idx1-ubyte" + (gzip ? ".gz" : ""));
        byte[] idx = TestFiles.Idx(0x801, [int.MaxValue], [1, 2]);
        File.WriteAllBytes(labels, gzip ? TestFiles.Gzip(idx) : idx);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<DataException>(() => FashionMnist.Read(dir.Path, "t10k"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 << 20);
        Assert.Equal(labels, error.FilePath);
        Assert.Contains("2,147,483,647 items", error.Message);
        Assert.Contains("at most 10,000", error.Message);
    }

    [Fact]
    public async Task FifosAndDeviceLinksAreRefusedWithoutBeingOpened()
    {
        if (OperatingSystem.IsWindows()) return;
        using var dir = new TempDir();
        TestFiles.WriteFashionSplit(dir.Path, "train", 2, gzip: false, seed: 1);
        string images = Path.Combine(dir.Path, "train-images-idx3-ubyte");
        File.Delete(images);
        Assert.True(CheckpointTests.Mkfifo(images));
        var read = Task.Run(() => FashionMnist.Read(dir.Path, "train"));
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(20)))); // reading a FIFO must not block
        var fifo = await Assert.ThrowsAsync<DataException>(() => read);
        Assert.Contains("FIFO", fifo.Message);
        Assert.Equal(images, fifo.FilePath);

        string cifar = dir.Sub("cifar");
        TestFiles.WriteCifarFolder(cifar, 2);
        string batch = Path.Combine(cifar, "data_batch_2.bin");
        File.Delete(batch);
        File.CreateSymbolicLink(batch, "/dev/zero");
        var zero = Assert.Throws<DataException>(() => Cifar10.Read(cifar, Cifar10.TrainFiles, Cifar10.DefaultClassNames));
        Assert.Contains("character device", zero.Message);
        Assert.Equal(batch, zero.FilePath);
    }

    [Fact]
    public void CifarFilesBeyondTheOfficialRecordCountAreRefusedBeforeReading()
    {
        using var dir = new TempDir();
        TestFiles.WriteCifarFolder(dir.Path, 1);
        string batch = Path.Combine(dir.Path, "data_batch_1.bin");
        using (var f = File.OpenWrite(batch)) f.SetLength(10001L * Cifar10.RecordBytes); // sparse: nothing is written
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<DataException>(() => Cifar10.Read(dir.Path, Cifar10.TrainFiles, Cifar10.DefaultClassNames));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 << 20);
        Assert.Equal(batch, error.FilePath);
        Assert.Contains("at most 10,000", error.Message);
    }
}

/// <summary>Tests that measure this process's allocations and memory run alone.</summary>
[CollectionDefinition(nameof(MemoryMeasurements), DisableParallelization = true)]
public sealed class MemoryMeasurements;
