using ArchGen.Data;
using ArchGen.Data.Images;
using ArchGen.Performance;
using SkiaSharp;
using Xunit.Abstractions;

namespace ArchGen.Runtime.Tests.Data.Images;

/// <summary>Alone in its collection: it measures this process's resident memory.</summary>
[CollectionDefinition(nameof(DecoderFuzzTests), DisableParallelization = true)]
public sealed class DecoderFuzzCollection;

/// <summary>
/// Seeded fuzzing of every decoder: thousands of mutated (bytes flipped, header fields overwritten, runs inserted or
/// deleted) and truncated versions of a valid file per format. Each must decode (within the pixel budget) or fail
/// with a <see cref="DataException"/> naming the file; no other exception, and resident memory stays bounded.
/// </summary>
[Collection(nameof(DecoderFuzzTests))]
public class DecoderFuzzTests(ITestOutputHelper output)
{
    const int Mutations = 1500, Truncations = 500;
    const long MaxPixels = 1 << 20;

    public static TheoryData<string> Seeds => new()
    {
        "jpeg_baseline_444.jpg", "jpeg_progressive.jpg", "jpeg_cmyk.jpg", "png_rgb8.png", "png_interlaced_rgba16.png", "png_palette8.png",
        "webp_lossy.webp", "webp_lossless.webp", "bmp_24.bmp", "bmp_8.bmp", "gif_animated.gif",
    };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void MutatedAndTruncatedFilesDecodeOrFailWithADataErrorNamingThem(string seedFile)
    {
        byte[] original = File.ReadAllBytes(ImageFixtures.Format(seedFile));
        var decoder = new ImageDecoder(new ImageLimits(MaxPixels: MaxPixels));
        var random = new Random(seedFile.GetHashCode(StringComparison.Ordinal) ^ 0x5EED);
        // Warm the codecs up before the first memory reading.
        for (int i = 0; i < 50; i++) Attempt(decoder, Mutate(original, random), $"{seedFile}#warm{i}");
        GC.Collect();
        double before = ResourceUsage.ResidentMiB();

        int decoded = 0, refused = 0;
        for (int i = 0; i < Mutations + Truncations; i++)
        {
            byte[] bytes = i < Mutations ? Mutate(original, random) : original[..random.Next(0, original.Length)];
            if (seedFile.EndsWith(".png", StringComparison.Ordinal) && i % 2 == 0) FixPngCrcs(bytes); // past the CRC checks, into the chunks' contents
            if (Attempt(decoder, bytes, $"{seedFile}#{i}")) decoded++;
            else refused++;
        }
        GC.Collect();
        double growth = ResourceUsage.ResidentMiB() - before;
        output.WriteLine($"{seedFile}: {decoded} decoded, {refused} refused with a DataException; resident memory {growth:+0.0;-0.0} MiB");
        Assert.True(refused > Truncations / 2, "most truncated files must be refused");
        Assert.True(growth < 64, $"resident memory grew by {growth:F1} MiB over {Mutations + Truncations} decodes");
        Assert.Equal(0, decoder.Gate.InUse);
    }

    /// <summary>True when the bytes decoded (within the budget); false when refused with a DataException naming them. Anything else fails the test.</summary>
    static bool Attempt(ImageDecoder decoder, byte[] bytes, string name)
    {
        using var data = SKData.CreateCopy(bytes);
        try
        {
            using var image = decoder.Decode(data, name, (w, h) => 0.25);
            Assert.True((long)image.Width * image.Height <= MaxPixels, $"{name}: decoded {image.Width}x{image.Height} over the budget");
            Assert.Equal(image.RowBytes * image.Height, image.Rgba.Length);
            return true;
        }
        catch (DataException e)
        {
            Assert.Equal(name, e.FilePath);
            Assert.StartsWith(name + ": ", e.Message);
            Assert.DoesNotContain('\n', e.Message);
            return false;
        }
    }

    /// <summary>Rewrites the CRC of every whole chunk, so a mutation reaches libpng's parsing instead of its checksum test.</summary>
    static void FixPngCrcs(byte[] png)
    {
        int pos = 8;
        while (pos + 12 <= png.Length)
        {
            long length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos));
            if (pos + 12 + length > png.Length) return;
            uint crc = ImageDecoderTests.Crc32(png.AsSpan(pos + 4, 4 + (int)length));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(pos + 8 + (int)length), crc);
            pos += 12 + (int)length;
        }
    }

    static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = original.ToList();
        int edits = 1 + random.Next(8);
        for (int e = 0; e < edits; e++)
        {
            int at = random.Next(Math.Max(1, bytes.Count));
            switch (random.Next(6))
            {
                case 0 when bytes.Count > 0: // flip bits
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when bytes.Count > 0: // a random byte
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2: // an interesting value over a header-sized field near the start
                    int field = random.Next(Math.Min(64, bytes.Count));
                    byte[] value = random.Next(3) switch { 0 => [0xFF, 0xFF, 0xFF, 0xFF], 1 => [0, 0, 0, 0], _ => [0x7F, 0xFF, 0xFF, 0xFF] };
                    for (int k = 0; k < value.Length && field + k < bytes.Count; k++) bytes[field + k] = value[k];
                    break;
                case 3: // insert a run
                    bytes.InsertRange(Math.Min(at, bytes.Count), Enumerable.Repeat((byte)random.Next(256), 1 + random.Next(32)));
                    break;
                case 4 when bytes.Count > 1: // delete a run
                    bytes.RemoveRange(at, Math.Min(1 + random.Next(32), bytes.Count - at));
                    break;
                default: // duplicate a chunk of the file somewhere else
                    if (bytes.Count < 2) break;
                    int from = random.Next(bytes.Count - 1), length = Math.Min(1 + random.Next(64), bytes.Count - from);
                    bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(from, length));
                    break;
            }
        }
        return bytes.ToArray();
    }
}
