using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using ArchGen.Data;
using ArchGen.Data.Images;
using SkiaSharp;

namespace ArchGen.Runtime.Tests.Data.Images;

public class ImageDecoderTests
{
    public static TheoryData<string> Formats => new(ImageFixtures.Formats.Select(Path.GetFileName)!);

    /// <summary>Every format variant shows the upright pattern: lossless ones exactly, lossy ones within JPEG's error.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public void EveryFormatDecodesUprightToItsPattern(string file)
    {
        using var image = new ImageDecoder().Decode(ImageFixtures.Format(file));
        Assert.Equal((ImageFixtures.Width, ImageFixtures.Height), (image.Width, image.Height));
        Assert.Equal((ImageFixtures.Width, ImageFixtures.Height), (image.FullWidth, image.FullHeight));
        var rgba = image.Rgba;
        double sum = 0;
        int max = 0;
        for (int y = 0; y < image.Height; y++)
        for (int x = 0; x < image.Width; x++)
        {
            var (r, g, b) = ImageFixtures.Expected(file, x, y);
            int o = (y * image.Width + x) * 4;
            foreach (int d in new[] { Math.Abs(rgba[o] - r), Math.Abs(rgba[o + 1] - g), Math.Abs(rgba[o + 2] - b) })
            {
                sum += d;
                max = Math.Max(max, d);
            }
        }
        double mean = sum / (3.0 * image.Width * image.Height);
        if (ImageFixtures.Lossy(file))
        {
            // A mirrored or transposed pattern would be off by tens of levels on average; single pixels at the blue
            // quadrant's sharp edge may be off by more where the chroma is subsampled.
            Assert.True(mean < 3, $"{file}: mean error {mean:F2}");
            Assert.True(max < 96, $"{file}: max error {max}");
        }
        else Assert.True(max == 0, $"{file}: max error {max}, mean {mean:F2}");
    }

    [Fact]
    public void AnExifRotatedPhotoComesOutUpright()
    {
        // Stored as 48x64, tagged "rotate 90 degrees clockwise to display" (orientation 6).
        string path = ImageFixtures.Format("jpeg_exif6.jpg");
        using (var codec = SKCodec.Create(path))
        {
            Assert.Equal((48, 64), (codec.Info.Width, codec.Info.Height));
            Assert.Equal(SKEncodedOrigin.RightTop, codec.EncodedOrigin);
        }
        using var image = new ImageDecoder().Decode(path);
        Assert.Equal((64, 48), (image.Width, image.Height));
        var rgba = image.Rgba.ToArray();
        int Blue(int x, int y) => rgba[(y * 64 + x) * 4 + 2];
        Assert.InRange(Blue(4, 4), 180, 220);   // the marked quadrant is top-left
        Assert.InRange(Blue(60, 44), 20, 60);
        Assert.True(rgba[(0 * 64 + 63) * 4] > 230); // red grows to the right
    }

    [Fact]
    public void TheGifIsReadAtItsFirstFrame()
    {
        using var codec = SKCodec.Create(ImageFixtures.Format("gif_animated.gif"));
        Assert.Equal(2, codec.FrameCount); // the second frame is blue: the theory above sees the tiles
    }

    [Fact]
    public void AOnePixelImageBecomesAUniformModelInput()
    {
        using var dir = new TempDir();
        foreach (var (format, name) in new[] { (SKEncodedImageFormat.Png, "one.png"), (SKEncodedImageFormat.Jpeg, "one.jpg"), (SKEncodedImageFormat.Webp, "one.webp") })
        {
            string path = dir.Sub(name);
            WriteSolid(path, 1, 1, new SKColor(200, 100, 50), format);
            var rgb = new byte[3 * 224 * 224];
            new ImageRenderer(224).Evaluation(path, rgb);
            for (int p = 0; p < 224 * 224; p++)
            {
                Assert.InRange(rgb[3 * p], 196, 204);
                Assert.InRange(rgb[3 * p + 1], 96, 104);
                Assert.InRange(rgb[3 * p + 2], 46, 54);
            }
        }
    }

    [Fact]
    public void ATruncatedJpegIsAnErrorNamingTheFile()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(ImageFixtures.Photo("chelsea.jpg"));
        foreach (int length in new[] { bytes.Length / 2, 600, 10 })
        {
            string path = dir.Sub($"cut{length}.jpg");
            File.WriteAllBytes(path, bytes[..length]);
            var e = Assert.Throws<DataException>(() => new ImageDecoder().Decode(path));
            Assert.Equal(path, e.FilePath);
            Assert.Contains("truncated", e.Message);
        }
    }

    [Fact]
    public void AHugePngHeaderIsRefusedBeforeAnythingIsAllocated()
    {
        using var dir = new TempDir();
        var decoder = new ImageDecoder();
        string path = dir.Sub("huge.png");
        File.WriteAllBytes(path, PngHeaderOnly(100_000, 100_000));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataException>(() => decoder.Decode(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "managed allocations while refusing");
        Assert.Equal(path, e.FilePath);
        Assert.Contains("100000x100000", e.Message);
        Assert.Contains("refused before decoding", e.Message);
        Assert.Equal(0, decoder.Gate.InUse);

        // Over libpng's side limit: one line naming the file and the size (libpng itself would say "incomplete").
        string wide = dir.Sub("wide.png");
        File.WriteAllBytes(wide, PngHeaderOnly(1 << 26, 1));
        var w = Assert.Throws<DataException>(() => decoder.Decode(wide));
        Assert.Equal(wide, w.FilePath);
        Assert.Contains("67108864x1", w.Message);
        Assert.DoesNotContain('\n', w.Message);
    }

    [Fact]
    public void ThePixelBudgetAppliesToEveryFormatFromItsHeader()
    {
        var decoder = new ImageDecoder(new ImageLimits(MaxPixels: 64 * 48 - 1));
        foreach (var file in ImageFixtures.Formats)
        {
            var e = Assert.Throws<DataException>(() => decoder.Decode(file));
            Assert.Equal(file, e.FilePath);
            Assert.Contains("refused before decoding", e.Message);
        }
        Assert.Equal(0, decoder.Gate.InUse);
    }

    [Fact]
    public void ANonImageWithAnImageNameIsAnErrorNamingTheFile()
    {
        using var dir = new TempDir();
        foreach (var (name, content) in new[] { ("notes.jpg", "these are not pixels"u8.ToArray()), ("empty.png", Array.Empty<byte>()), ("random.webp", Random(4096, 3)) })
        {
            string path = dir.Sub(name);
            File.WriteAllBytes(path, content);
            var e = Assert.Throws<DataException>(() => new ImageDecoder().Decode(path));
            Assert.Equal(path, e.FilePath);
        }
    }

    [Fact]
    public void OnlyRegularFilesAreOpened()
    {
        using var dir = new TempDir();
        var decoder = new ImageDecoder();

        string zero = dir.Sub("zero.png");
        File.CreateSymbolicLink(zero, "/dev/zero");
        var device = Assert.Throws<DataException>(() => decoder.Decode(zero));
        Assert.Equal(zero, device.FilePath);
        Assert.Contains("character device", device.Message);

        // A FIFO would block a reader that opened it; it is refused without opening.
        string fifo = dir.Sub("fifo.png");
        using (var mkfifo = Process.Start("mkfifo", [fifo])) mkfifo.WaitForExit();
        var clock = Stopwatch.StartNew();
        var pipe = Assert.Throws<DataException>(() => decoder.Decode(fifo));
        Assert.Contains("FIFO", pipe.Message);
        Assert.Equal(fifo, pipe.FilePath);

        string folder = dir.Sub("folder.jpg");
        Directory.CreateDirectory(folder);
        Assert.Contains("folder", Assert.Throws<DataException>(() => decoder.Decode(folder)).Message);

        string dangling = dir.Sub("dangling.png");
        File.CreateSymbolicLink(dangling, dir.Sub("nowhere.png"));
        Assert.Contains("does not exist", Assert.Throws<DataException>(() => decoder.Decode(dangling)).Message);

        // A link to a real image is fine.
        string link = dir.Sub("link.png");
        File.CreateSymbolicLink(link, ImageFixtures.Format("png_rgb8.png"));
        using var image = decoder.Decode(link);
        Assert.Equal(64, image.Width);
    }

    [Fact]
    public void LargeJpegsAreDecodedAtAReducedScale()
    {
        using var dir = new TempDir();
        string path = dir.Sub("big.jpg");
        WriteSolid(path, 4000, 3000, new SKColor(10, 120, 240), SKEncodedImageFormat.Jpeg);
        var decoder = new ImageDecoder();
        // For a 224 crop (shorter side 256) twice the resolution is kept: 1/4 gives 1000x750 >= 512.
        using (var scaled = decoder.Decode(path, (w, h) => 256.0 / Math.Min(w, h)))
        {
            Assert.Equal((1000, 750), (scaled.Width, scaled.Height));
            Assert.Equal((4000, 3000), (scaled.FullWidth, scaled.FullHeight));
        }
        using (var full = decoder.Decode(path)) Assert.Equal((4000, 3000), (full.Width, full.Height));
    }

    [Theory]
    [InlineData("jpeg_baseline_420.jpg", 1.0)]
    [InlineData("jpeg_progressive.jpg", 1.0)]
    [InlineData("jpeg_exif2.jpg", 1.0)]
    [InlineData("jpeg_exif3.jpg", 1.0)]
    [InlineData("jpeg_exif4.jpg", 1.0)]
    [InlineData("jpeg_exif5.jpg", 1.0)]
    [InlineData("jpeg_exif6.jpg", 1.0)]
    [InlineData("jpeg_exif7.jpg", 1.0)]
    [InlineData("jpeg_exif8.jpg", 1.0)]
    [InlineData("jpeg_exif6.jpg", 0.25)]
    [InlineData("png_rgb8.png", 1.0)]
    public void ARegionDecodesToTheSamePixelsAsTheWholeImage(string file, double scale)
    {
        string path = ImageFixtures.Format(file);
        var region = new CropBox(Top: 18, Left: 17, Height: 11, Width: 19); // upright, full resolution, away from the edges
        var decoder = new ImageDecoder();
        using var whole = decoder.Decode(path, (_, _) => new DecodeRequest(scale));
        using var window = decoder.Decode(path, (_, _) => new DecodeRequest(scale, region));
        Assert.Equal((whole.Width, whole.Height), (window.ScaledWidth, window.ScaledHeight));
        double s = (double)whole.Width / whole.FullWidth;
        int x0 = (int)Math.Floor(region.Left * s), y0 = (int)Math.Floor(region.Top * s);
        int x1 = (int)Math.Ceiling((region.Left + region.Width) * s), y1 = (int)Math.Ceiling((region.Top + region.Height) * s);
        Assert.True(window.Left <= x0 && window.Top <= y0 && window.Left + window.Width >= x1 && window.Top + window.Height >= y1,
            $"{file}: window {window.Left},{window.Top} {window.Width}x{window.Height} misses {x0},{y0}-{x1},{y1}");
        if (file.EndsWith(".jpg", StringComparison.Ordinal) && scale == 1.0) Assert.True(window.Width * window.Height < whole.Width * whole.Height, "a JPEG region is decoded alone");
        var a = whole.Rgba;
        var b = window.Rgba;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
                for (int c = 0; c < 4; c++)
                    Assert.Equal(a[(y * whole.Width + x) * 4 + c], b[((y - window.Top) * window.Width + x - window.Left) * 4 + c]);
    }

    [Fact]
    public void TheDecodeGateKeepsParallelDecodesWithinItsCapacity()
    {
        var gate = new DecodeMemoryGate(100);
        int inside = 0, most = 0;
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            using var lease = gate.Take(i % 4 == 0 ? 500 : 40); // 500 is over capacity: it runs alone
            int now = Interlocked.Add(ref inside, i % 4 == 0 ? 100 : 40);
            InterlockedMax(ref most, now);
            Thread.SpinWait(2000);
            Interlocked.Add(ref inside, i % 4 == 0 ? -100 : -40);
        });
        Assert.InRange(most, 40, 100);
        Assert.Equal(0, gate.InUse);
    }

    static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }

    internal static void WriteSolid(string path, int width, int height, SKColor colour, SKEncodedImageFormat format, int quality = 90)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(colour);
        using var data = bitmap.Encode(format, quality);
        File.WriteAllBytes(path, data.ToArray());
    }

    static byte[] Random(int n, int seed)
    {
        var bytes = new byte[n];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A PNG signature, an IHDR declaring the size (8-bit RGBA) and an empty IDAT and IEND.</summary>
    internal static byte[] PngHeaderOnly(int width, int height)
    {
        var png = new MemoryStream();
        png.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        ihdr[9] = 6;
        Chunk(png, "IHDR", ihdr);
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true)) zs.Write(new byte[64]);
        Chunk(png, "IDAT", z.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    internal static void Chunk(Stream png, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typed);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        png.Write(crc);
    }

    internal static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320 & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }
}
