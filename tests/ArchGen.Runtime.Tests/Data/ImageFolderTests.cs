using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using ArchGen.Data;

namespace ArchGen.Runtime.Tests.Data;

public class ImageFolderTests
{
    /// <summary>A PNG encoder for the tests: every row uses filter type (row mod 5), so all five filters are exercised.</summary>
    private static byte[] Png(int width, int height, int colourType, int depth, byte[] samples, byte[]? palette = null, bool interlaced = false)
    {
        int channels = colourType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        int rowBytes = (width * channels * depth + 7) / 8;
        int bpp = Math.Max(1, channels * depth / 8);
        var raw = new MemoryStream();
        for (int y = 0; y < height; y++)
        {
            int filter = y % 5;
            raw.WriteByte((byte)filter);
            for (int i = 0; i < rowBytes; i++)
            {
                int x = samples[y * rowBytes + i];
                int a = i >= bpp ? samples[y * rowBytes + i - bpp] : 0;
                int b = y > 0 ? samples[(y - 1) * rowBytes + i] : 0;
                int c = i >= bpp && y > 0 ? samples[(y - 1) * rowBytes + i - bpp] : 0;
                int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                int paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
                raw.WriteByte((byte)(filter switch { 0 => x, 1 => x - a, 2 => x - b, 3 => x - ((a + b) >> 1), _ => x - paeth }));
            }
        }
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true)) raw.WriteTo(zs);

        var png = new MemoryStream();
        png.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        void Chunk(string type, byte[] data)
        {
            var len = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
            png.Write(len);
            png.Write(Encoding.ASCII.GetBytes(type));
            png.Write(data);
            png.Write(new byte[4]); // CRC is not checked
        }
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = (byte)depth;
        ihdr[9] = (byte)colourType;
        ihdr[12] = (byte)(interlaced ? 1 : 0);
        Chunk("IHDR", ihdr);
        if (palette is not null) Chunk("PLTE", palette);
        var idat = z.ToArray();
        Chunk("IDAT", idat[..(idat.Length / 2)]); // split over two IDAT chunks
        Chunk("IDAT", idat[(idat.Length / 2)..]);
        Chunk("IEND", []);
        return png.ToArray();
    }

    private static byte[] Rgb(int w, int h, int seed)
    {
        var rng = new Random(seed);
        var rgb = new byte[w * h * 3];
        rng.NextBytes(rgb);
        return rgb;
    }

    private static string Write(string folder, string name, byte[] data)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, data);
        return path;
    }

    [Fact]
    public void DecodesEveryPngColourTypeAndFilter()
    {
        using var dir = new TempDir();
        int w = 7, h = 11;
        var rgb = Rgb(w, h, 1);

        Assert.Equal(rgb, ImageFolder.Decode(Write(dir.Path, "rgb.png", Png(w, h, 2, 8, rgb))).Rgb);

        var rgba = new byte[w * h * 4];
        for (int p = 0; p < w * h; p++) { rgb.AsSpan(p * 3, 3).CopyTo(rgba.AsSpan(p * 4)); rgba[p * 4 + 3] = (byte)p; }
        Assert.Equal(rgb, ImageFolder.Decode(Write(dir.Path, "rgba.png", Png(w, h, 6, 8, rgba))).Rgb);

        var rgb16 = new byte[w * h * 6];
        for (int i = 0; i < rgb.Length; i++) { rgb16[2 * i] = rgb[i]; rgb16[2 * i + 1] = (byte)(i * 7); }
        Assert.Equal(rgb, ImageFolder.Decode(Write(dir.Path, "rgb16.png", Png(w, h, 2, 16, rgb16))).Rgb);

        var gray = rgb[..(w * h)];
        var grayRgb = gray.SelectMany(v => new[] { v, v, v }).ToArray();
        Assert.Equal(grayRgb, ImageFolder.Decode(Write(dir.Path, "gray.png", Png(w, h, 0, 8, gray))).Rgb);
        var grayAlpha = gray.SelectMany(v => new[] { v, (byte)1 }).ToArray();
        Assert.Equal(grayRgb, ImageFolder.Decode(Write(dir.Path, "ga.png", Png(w, h, 4, 8, grayAlpha))).Rgb);

        var palette = Rgb(16, 1, 2); // 16 entries
        var indices = gray.Select(v => (byte)(v % 16)).ToArray();
        var packed = new byte[h * ((w * 4 + 7) / 8)]; // 4-bit indices, rows padded to whole bytes
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                packed[y * ((w * 4 + 7) / 8) + x / 2] |= (byte)(indices[y * w + x] << (x % 2 == 0 ? 4 : 0));
        var expected = indices.SelectMany(i => palette.AsSpan(i * 3, 3).ToArray()).ToArray();
        Assert.Equal(expected, ImageFolder.Decode(Write(dir.Path, "pal.png", Png(w, h, 3, 4, packed, palette))).Rgb);

        var bits = new byte[h * ((w + 7) / 8)]; // 1-bit gray: 0 or 255
        var bitsRgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                bool on = (x + y) % 3 == 0;
                if (on) bits[y * ((w + 7) / 8) + x / 8] |= (byte)(0x80 >> (x % 8));
                bitsRgb.AsSpan((y * w + x) * 3, 3).Fill(on ? (byte)255 : (byte)0);
            }
        Assert.Equal(bitsRgb, ImageFolder.Decode(Write(dir.Path, "bits.png", Png(w, h, 0, 1, bits))).Rgb);
    }

    [Fact]
    public void DecodesBinaryPpmAndPgm()
    {
        using var dir = new TempDir();
        var rgb = Rgb(5, 3, 4);
        var ppm = Encoding.ASCII.GetBytes("P6\n# made by a test\n5 3\n255\n").Concat(rgb).ToArray();
        var (decoded, w, h) = ImageFolder.Decode(Write(dir.Path, "a.ppm", ppm));
        Assert.Equal((5, 3), (w, h));
        Assert.Equal(rgb, decoded);

        var pgm = Encoding.ASCII.GetBytes("P5 2 1 15\n").Concat(new byte[] { 15, 5 }).ToArray();
        Assert.Equal(new byte[] { 255, 255, 255, 85, 85, 85 }, ImageFolder.Decode(Write(dir.Path, "b.pgm", pgm)).Rgb);
    }

    [Fact]
    public void OpensTrainAndTestFoldersResizingToTheModelSize()
    {
        using var dir = new TempDir();
        var a = Rgb(32, 32, 1);
        Write(dir.Sub("train/cat"), "1.png", Png(32, 32, 2, 8, a));
        Write(dir.Sub("train/cat"), "2.png", Png(32, 32, 2, 8, Rgb(32, 32, 2)));
        Write(dir.Sub("train/ant"), "x.png", Png(64, 48, 2, 8, Enumerable.Repeat((byte)77, 64 * 48 * 3).ToArray()));
        Write(dir.Sub("train/ant"), ".hidden", [1, 2, 3]);
        Write(dir.Sub("test/cat"), "t.ppm", Encoding.ASCII.GetBytes("P6 16 16 255\n").Concat(Rgb(16, 16, 3)).ToArray());

        var ds = Datasets.Open("folder", new DataOptions(DataDir: dir.Path));
        Assert.Equal("folder", ds.Name);
        var train = ds.Train;
        Assert.Equal(["ant", "cat"], train.ClassNames);
        Assert.Equal([0, 1, 1], train.Labels);
        Assert.Equal((3, 32, 32), (train.Channels, train.Height, train.Width));
        Assert.All(train.Image(0).ToArray(), v => Assert.Equal(77, v)); // a constant image stays constant when resized
        var planar = train.Image(1);
        for (int p = 0; p < 1024; p++)
            for (int c = 0; c < 3; c++)
                Assert.Equal(a[p * 3 + c], planar[c * 1024 + p]);
        Assert.Equal(1, ds.Test.Count);
        Assert.Equal(1, ds.Test.Labels[0]);
        Assert.Equal(3, ds.Normalization.Mean.Length);
    }

    [Fact]
    public void BadFoldersAndFilesAreReported()
    {
        using var dir = new TempDir();
        var none = Assert.Throws<DataException>(() => Datasets.Open("folder", new DataOptions()));
        Assert.Contains("--data", none.Message);

        var missing = Assert.Throws<DataException>(() => Datasets.Open("folder", new DataOptions(DataDir: dir.Path)));
        Assert.Equal(dir.Sub("train"), missing.FilePath);

        Write(dir.Sub("train/cat"), "1.png", Png(4, 4, 2, 8, Rgb(4, 4, 1)));
        Write(dir.Sub("test/dog"), "1.png", Png(4, 4, 2, 8, Rgb(4, 4, 1)));
        var ds = Datasets.Open("folder", new DataOptions(DataDir: dir.Path));
        var unknown = Assert.Throws<DataException>(() => ds.Test);
        Assert.Contains("'dog'", unknown.Message);

        var jpg = Write(dir.Sub("train/cat"), "2.jpg", [0xFF, 0xD8, 0xFF]);
        var unsupported = Assert.Throws<DataException>(() => Datasets.Open("folder", new DataOptions(DataDir: dir.Path)).Train);
        Assert.Equal(jpg, unsupported.FilePath);
        File.Delete(jpg);

        var png = Png(4, 4, 2, 8, Rgb(4, 4, 1));
        var cut = Write(dir.Sub("train/cat"), "3.png", png[..(png.Length - 30)]);
        var truncated = Assert.Throws<DataException>(() => Datasets.Open("folder", new DataOptions(DataDir: dir.Path)).Train);
        Assert.Equal(cut, truncated.FilePath);
        Assert.Contains("truncated", truncated.Message);

        Write(dir.Sub("train/cat"), "3.png", Png(4, 4, 2, 8, Rgb(4, 4, 1), interlaced: true));
        var interlaced = Assert.Throws<DataException>(() => Datasets.Open("folder", new DataOptions(DataDir: dir.Path)).Train);
        Assert.Contains("interlaced", interlaced.Message);

        Write(dir.Sub("train/cat"), "3.png", "GIF89a"u8.ToArray());
        var notPng = Assert.Throws<DataException>(() => Datasets.Open("folder", new DataOptions(DataDir: dir.Path)).Train);
        Assert.Equal(0, notPng.Offset);
    }
}
