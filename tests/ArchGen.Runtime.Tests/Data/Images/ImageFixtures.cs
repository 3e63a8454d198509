using System.Runtime.CompilerServices;

namespace ArchGen.Runtime.Tests.Data.Images;

/// <summary>The committed fixtures of tools/reference/make_image_fixtures.py and the pattern they show.</summary>
internal static class ImageFixtures
{
    public const int Width = 64, Height = 48;

    static string Root([CallerFilePath] string source = "") => Path.Combine(Path.GetDirectoryName(source)!, "Fixtures");

    public static string Format(string name) => Path.Combine(Root(), "formats", name);

    public static string Photo(string name) => Path.Combine(Root(), "photos", name);

    public static IEnumerable<string> Formats => Directory.GetFiles(Path.Combine(Root(), "formats")).Order(StringComparer.Ordinal);

    public static IEnumerable<string> Photos => Directory.GetFiles(Path.Combine(Root(), "photos"), "*.jpg").Order(StringComparer.Ordinal);

    /// <summary>The upright test pattern: red grows to the right, green downwards, blue marks the top-left quadrant.</summary>
    public static (int R, int G, int B) Pattern(int x, int y) => (x * 4, y * 5, x < Width / 2 && y < Height / 2 ? 200 : 40);

    /// <summary>The 48-colour tile pattern of the GIF and the palettes.</summary>
    public static (int R, int G, int B) Tiles(int x, int y) => (x / 8 * 32, y / 8 * 40, 128);

    public static int Luma((int R, int G, int B) c) => (c.R * 299 + c.G * 587 + c.B * 114) / 1000;

    /// <summary>What PIL (and Skia) show for the CMYK fixture: the pattern through black generation and the multiplicative CMYK conversion.</summary>
    public static (int R, int G, int B) ThroughCmyk((int R, int G, int B) c)
    {
        int k = 255 - Math.Max(c.R, Math.Max(c.G, c.B));
        int Channel(int v) => (255 - (255 - v - k)) * (255 - k) / 255;
        return (Channel(c.R), Channel(c.G), Channel(c.B));
    }

    /// <summary>The RGB a fixture must decode to (before lossy-coding error), by file name.</summary>
    public static (int R, int G, int B) Expected(string file, int x, int y)
    {
        string name = Path.GetFileNameWithoutExtension(file);
        var p = Pattern(x, y);
        (int, int, int) Gray(int v) => (v, v, v);
        int Bits(int depth) { int top = (1 << depth) - 1; return x * top / (Width - 1) * 255 / top; }
        return name switch
        {
            "jpeg_gray" or "png_gray8" or "png_gray16" or "png_graya8" or "png_graya16" => Gray(Luma(p)),
            "png_gray1" => Gray(Bits(1)),
            "png_gray2" => Gray(Bits(2)),
            "png_gray4" => Gray(Bits(4)),
            "jpeg_cmyk" => ThroughCmyk(p),
            "png_palette8" or "png_palette_trns" or "gif_animated" or "bmp_8" => Tiles(x, y),
            "png_palette4" => PaletteEntry(x / 4 % 16),
            _ => p,
        };
    }

    /// <summary>Entry i of the sorted tile palette (png_palette4 uses its first 16).</summary>
    static (int, int, int) PaletteEntry(int i)
    {
        var palette = Enumerable.Range(0, Height).SelectMany(y => Enumerable.Range(0, Width).Select(x => Tiles(x, y))).Distinct().Order().ToArray();
        return palette[i];
    }

    /// <summary>Whether the fixture is lossily coded (JPEG, lossy WebP).</summary>
    public static bool Lossy(string file) => file.EndsWith(".jpg", StringComparison.Ordinal) || file.EndsWith("webp_lossy.webp", StringComparison.Ordinal);
}
