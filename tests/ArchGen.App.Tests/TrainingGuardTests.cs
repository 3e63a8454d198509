using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace ArchGen.App.Tests;

/// <summary>What is checked before the first training step (issue 15): the dataset's classes against the model's outputs, and batch sizes of any magnitude.</summary>
public class TrainingGuardTests
{
    [Fact]
    public void DatasetClassesMustMatchTheModelsOutputsBeforeTheFirstStep()
    {
        using var dir = new TempDir();
        WriteFolderDataset(dir["one"], classes: 1);
        WriteFolderDataset(dir["twelve"], classes: 12);

        // A fresh run builds its classifier for the dataset's classes: one class has nothing to learn.
        var one = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--dataset", "folder", "--data", dir["one"], "--epochs", "1", "--out", "run-one"));
        Assert.True(one.ExitCode == 2, $"exit {one.ExitCode}\n{one.Out}\n{one.Err}");
        EndToEndTests.AssertOneLineError(one.Err);
        Assert.Contains("1 class (class00); a classifier needs at least 2", one.Err);
        Assert.False(Directory.Exists(dir["run-one"]), "checked before anything was written");

        // A trained model's classes are fixed: testing it on a dataset with other classes names both counts.
        var trained = AppProcess.Run(dir.Path, EndToEndTests.Args("train", "--dataset", "synthetic", "--epochs", "1", "--limit", "16", "--out", "run"));
        Assert.True(trained.ExitCode == 0, trained.Out + trained.Err);
        var test = AppProcess.Run(dir.Path, "test", "--checkpoint", "run", "--dataset", "folder", "--data", dir["twelve"], "--device", "cpu");
        Assert.True(test.ExitCode == 2, $"exit {test.ExitCode}\n{test.Out}\n{test.Err}");
        EndToEndTests.AssertOneLineError(test.Err);
        Assert.Contains("12 classes", test.Err);
        Assert.Contains("10 outputs", test.Err);
    }

    [Fact]
    public void ABatchSizeBeyondTheDatasetTrainsOneBatchOfEverything()
    {
        using var dir = new TempDir();
        var (code, output, err) = AppProcess.Run(dir.Path, "train", "--dataset", "synthetic", "--epochs", "1", "--limit", "64", "--batch-size", "2147483647",
            "--test-limit", "32", "--device", "cpu", "--threads", "2", "--out", "run");
        Assert.True(code == 0, $"exit {code}\n{output}\n{err}");
        Assert.Equal(1, EndToEndTests.StepRows(dir["run"]));
        Assert.Contains("Accuracy of the network on the 32 test images:", output);

        var test = AppProcess.Run(dir.Path, "test", "--checkpoint", "run", "--batch-size", "2147483647", "--test-limit", "32", "--device", "cpu");
        Assert.True(test.ExitCode == 0, test.Out + test.Err);
        Assert.Contains("Accuracy of the network on the 32 test images:", test.Out);
    }

    /// <summary>A folder dataset of tiny PNGs: <paramref name="classes"/> classes, 2 training and 1 test image each.</summary>
    internal static void WriteFolderDataset(string root, int classes)
    {
        var random = new Random(classes);
        for (int c = 0; c < classes; c++)
        {
            foreach (var (split, n) in new[] { ("train", 2), ("test", 1) })
            {
                string folder = Path.Combine(root, split, $"class{c:00}");
                Directory.CreateDirectory(folder);
                for (int i = 0; i < n; i++) File.WriteAllBytes(Path.Combine(folder, $"{i}.png"), Png(8, 8, random));
            }
        }
    }

    /// <summary>An 8-bit RGB PNG of random pixels.</summary>
    internal static byte[] Png(int width, int height, Random random)
    {
        var raw = new byte[height * (1 + 3 * width)];
        for (int y = 0; y < height; y++)
        {
            raw[y * (1 + 3 * width)] = 0; // no filter
            random.NextBytes(raw.AsSpan(y * (1 + 3 * width) + 1, 3 * width));
        }
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);
        var png = new MemoryStream();
        png.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 2; // RGB
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> four = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(four, data.Length);
        png.Write(four);
        byte[] typed = [.. Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(four, Crc32(typed));
        png.Write(four);
    }

    static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
