namespace ArchGen.App.Tests;

/// <summary>Writes a small CIFAR-10 binary distribution (the official record format, fewer records) for the app to train on.</summary>
public static class TinyCifar
{
    public static readonly string[] ClassNames = { "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck" };

    /// <summary>Writes <c>cifar-10-batches-bin</c> under <paramref name="root"/> with <paramref name="perBatch"/> records per training file.</summary>
    public static string Write(string root, int perBatch = 16, int testRecords = 32, int seed = 7)
    {
        string dir = Path.Combine(root, "cifar-10-batches-bin");
        Directory.CreateDirectory(dir);
        var random = new Random(seed);
        for (int b = 1; b <= 5; b++) File.WriteAllBytes(Path.Combine(dir, $"data_batch_{b}.bin"), Records(perBatch, random));
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), Records(testRecords, random));
        File.WriteAllText(Path.Combine(dir, "batches.meta.txt"), string.Join("\n", ClassNames) + "\n\n");
        return dir;
    }

    /// <summary>Records of 1 label byte + 3072 channel-planar pixels; each class gets its own dominant colour so a model can learn something.</summary>
    static byte[] Records(int count, Random random)
    {
        var bytes = new byte[count * 3073];
        for (int r = 0; r < count; r++)
        {
            int label = r % 10;
            int offset = r * 3073;
            bytes[offset] = (byte)label;
            for (int c = 0; c < 3; c++)
            for (int i = 0; i < 1024; i++)
                bytes[offset + 1 + c * 1024 + i] = (byte)Math.Clamp(25 * label * (c + 1) % 256 + random.Next(-20, 21), 0, 255);
        }
        return bytes;
    }
}
