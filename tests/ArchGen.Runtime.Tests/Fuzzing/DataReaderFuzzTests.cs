using ArchGen.Data;
using ArchGen.Runtime.Tests.Data;

namespace ArchGen.Runtime.Tests.Fuzzing;

/// <summary>
/// Thousands of seeded mutations of each dataset file format (CIFAR-10 batches and class names, IDX plain and
/// gzip): every file is read or refused with a <see cref="DataException"/> naming it, never another exception,
/// with bounded memory (issue 15).
/// </summary>
[Collection(nameof(MemoryMeasurements))]
public class DataReaderFuzzTests
{
    const int Cases = 1000;

    [Fact]
    public void CifarBatchFiles()
    {
        using var dir = new TempDir();
        TestFiles.WriteCifarFolder(dir.Path, 3);
        string path = Path.Combine(dir.Path, "data_batch_1.bin");
        byte[] original = File.ReadAllBytes(path);
        var run = new FuzzRun<DataException>(path, 8L * original.Length + (4 << 20), 256L << 20);
        foreach (var (kind, bytes) in Mutations.Of(original, Cases, seed: 21))
            run.Case(kind, bytes, _ => Cifar10.Read(dir.Path, Cifar10.TrainFiles, Cifar10.DefaultClassNames),
                e => e.Message.Contains("data_batch_1.bin", StringComparison.Ordinal));
        run.AssertHeld(minimumRefused: Cases / 3);
    }

    [Fact]
    public void CifarClassNames()
    {
        using var dir = new TempDir();
        TestFiles.WriteCifarFolder(dir.Path, 1);
        string path = Path.Combine(dir.Path, Cifar10.MetaFile);
        byte[] original = File.ReadAllBytes(path);
        var run = new FuzzRun<DataException>(path, 64L * original.Length + (1 << 20), 256L << 20);
        foreach (var (kind, bytes) in Mutations.Of(original, Cases, seed: 22))
            run.Case(kind, bytes, p => Cifar10.ReadClassNames(dir.Path));
        run.AssertHeld(minimumRefused: Cases / 10);
    }

    [Theory]
    [InlineData("train-images-idx3-ubyte", false)]
    [InlineData("train-images-idx3-ubyte.gz", true)]
    [InlineData("train-labels-idx1-ubyte", false)]
    [InlineData("train-labels-idx1-ubyte.gz", true)]
    public void IdxFiles(string name, bool gzip)
    {
        using var dir = new TempDir();
        TestFiles.WriteFashionSplit(dir.Path, "train", 4, gzip, seed: 5);
        string path = Path.Combine(dir.Path, name);
        byte[] original = File.ReadAllBytes(path);
        var run = new FuzzRun<DataException>(path, 8L * 4 * 1024 + 16L * original.Length + (4 << 20), 256L << 20);
        foreach (var (kind, bytes) in Mutations.Of(original, Cases, seed: name.Length + (gzip ? 100 : 0)))
            run.Case(kind, bytes, _ => FashionMnist.Read(dir.Path, "train"));
        run.AssertHeld(minimumRefused: Cases / 3);
    }
}
