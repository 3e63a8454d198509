using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace ArchGen.Data;

/// <summary>
/// Your own images, one folder per class: <c>DIR/train/&lt;class&gt;/*</c> and <c>DIR/test/&lt;class&gt;/*</c>. Class names are the
/// train subfolder names in ordinal order. Reads PNG (any bit depth and colour type, not interlaced) and binary PPM/PGM
/// (P6/P5) without external libraries; every image becomes RGB (gray repeated, alpha dropped) and is resized
/// (bilinear) to <c>size x size</c>. Statistics are computed on the train split. Other image formats (JPEG, ...) must be converted first.
/// </summary>
public static class ImageFolder
{
    /// <summary>File name endings read as images.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".ppm", ".pgm"];

    /// <summary>Opens <paramref name="root"/> (which must hold <c>train</c> and <c>test</c> folders); images are read on first use.</summary>
    public static IDataset Open(string root, int size = 32)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        if (!Directory.Exists(root)) throw new DataException("the data folder does not exist", root);
        var train = Path.Combine(root, "train");
        var test = Path.Combine(root, "test");
        foreach (var split in new[] { train, test })
        {
            if (!Directory.Exists(split))
                throw new DataException("missing folder; an image-folder dataset has train/<class>/ and test/<class>/ subfolders of PNG, PPM or PGM images", split);
        }
        var classes = Directory.GetDirectories(train).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Order(StringComparer.Ordinal).ToArray();
        if (classes.Length == 0) throw new DataException("no class folders; expected train/<class>/ subfolders", train);
        if (classes.Length > 256) throw new DataException($"{classes.Length} class folders; at most 256 are supported", train);
        return new InMemoryDataset("folder", () => Read(train, classes!, size), () => Read(test, classes!, size));
    }

    /// <summary>Reads every image under <c>splitFolder/&lt;class&gt;/</c>, in class then ordinal file-name order.</summary>
    public static ImageSet Read(string splitFolder, IReadOnlyList<string> classNames, int size = 32)
    {
        foreach (var dir in Directory.GetDirectories(splitFolder))
        {
            var name = Path.GetFileName(dir);
            if (!name.StartsWith('.') && !classNames.Contains(name))
                throw new DataException($"class folder '{name}' has no counterpart in the training split; expected one of: {string.Join(", ", classNames)}", dir);
        }
        var files = new List<(string Path, byte Label)>();
        for (int c = 0; c < classNames.Count; c++)
        {
            var dir = Path.Combine(splitFolder, classNames[c]);
            if (!Directory.Exists(dir)) continue;
            foreach (var f in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(f);
                if (name.StartsWith('.')) continue;
                if (!Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                    throw new DataException($"unsupported file type; expected {string.Join(", ", Extensions)} images (convert other formats to PNG)", f);
                files.Add((f, (byte)c));
            }
        }
        if (files.Count == 0) throw new DataException("no images found", splitFolder);

        int imageBytes = 3 * size * size;
        var pixels = new byte[(long)files.Count * imageBytes];
        var labels = files.Select(f => f.Label).ToArray();
        var errors = new DataException?[files.Count];
        Parallel.For(0, files.Count, i =>
        {
            try
            {
                var (rgb, w, h) = Decode(files[i].Path);
                ResizeToPlanar(rgb, w, h, size, pixels.AsSpan(i * imageBytes, imageBytes));
            }
            catch (DataException e)
            {
                errors[i] = e;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors[i] = new DataException($"cannot read the file: {e.Message}", files[i].Path, innerException: e);
            }
        });
        // Report the first bad file in reading order, whatever the threads' timing.
        if (errors.FirstOrDefault(e => e is not null) is { } first) throw first;
        return new ImageSet(pixels, labels, 3, size, size, classNames);
    }

    /// <summary>Decodes a PNG, PPM or PGM file to interleaved 8-bit RGB.</summary>
    public static (byte[] Rgb, int Width, int Height) Decode(string path)
    {
        var data = File.ReadAllBytes(path);
        if (data.Length >= 8 && data.AsSpan(0, 8).SequenceEqual(PngSignature)) return DecodePng(data, path);
        if (data.Length >= 2 && data[0] == 'P' && (data[1] == '5' || data[1] == '6')) return DecodePnm(data, path);
        throw new DataException("not a PNG (signature 89 50 4E 47 0D 0A 1A 0A) or binary PPM/PGM (P6/P5) file", path, 0);
    }

    private static ReadOnlySpan<byte> PngSignature => [137, 80, 78, 71, 13, 10, 26, 10];

    private static (byte[], int, int) DecodePng(byte[] d, string path)
    {
        int pos = 8, width = 0, height = 0, depth = 0, colour = -1;
        byte[]? palette = null;
        var compressed = new MemoryStream();
        bool end = false;
        while (!end)
        {
            if (pos + 8 > d.Length) throw new DataException("PNG is truncated: expected a chunk header (missing IEND)", path, pos);
            long length = BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(pos));
            var type = Encoding.ASCII.GetString(d, pos + 4, 4);
            if (pos + 12 + length > d.Length)
                throw new DataException($"PNG is truncated: chunk {type} needs {length} data bytes, the file ends first", path, pos);
            var body = d.AsSpan(pos + 8, (int)length);
            switch (type)
            {
                case "IHDR":
                    if (length != 13) throw new DataException($"IHDR chunk is {length} bytes; expected 13", path, pos);
                    width = BinaryPrimitives.ReadInt32BigEndian(body);
                    height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                    depth = body[8];
                    colour = body[9];
                    if (body[12] != 0) throw new DataException("interlaced PNG is not supported; save it without interlacing", path, pos + 8 + 12);
                    break;
                case "PLTE":
                    palette = body.ToArray();
                    break;
                case "IDAT":
                    compressed.Write(body);
                    break;
                case "IEND":
                    end = true;
                    break;
            }
            pos += 12 + (int)length;
        }

        int channels = colour switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
        bool depthOk = colour switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            _ => depth is 8 or 16,
        };
        if (channels == 0 || !depthOk) throw new DataException($"PNG colour type {colour} with bit depth {depth} is not valid", path, 24);
        if (width <= 0 || height <= 0 || (long)width * height > 1 << 26) throw new DataException($"PNG size {width}x{height} is not supported", path, 16);
        if (colour == 3 && palette is null) throw new DataException("palette PNG has no PLTE chunk", path);

        int bitsPerPixel = channels * depth;
        int rowBytes = (width * bitsPerPixel + 7) / 8;
        int bpp = Math.Max(1, bitsPerPixel / 8);
        var raw = new byte[(long)height * (rowBytes + 1)];
        int got;
        try
        {
            compressed.Position = 0;
            using var z = new ZLibStream(compressed, CompressionMode.Decompress);
            got = z.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw new DataException($"PNG image data is corrupt: {e.Message}", path, innerException: e);
        }
        if (got < raw.Length)
            throw new DataException($"PNG image data is truncated: {got} of {raw.Length} decompressed bytes", path);

        // Undo the per-row filters in place.
        for (int y = 0; y < height; y++)
        {
            int row = y * (rowBytes + 1);
            byte filter = raw[row];
            var cur = raw.AsSpan(row + 1, rowBytes);
            var prev = y > 0 ? raw.AsSpan(row - rowBytes, rowBytes) : default;
            for (int i = 0; i < rowBytes; i++)
            {
                int a = i >= bpp ? cur[i - bpp] : 0;
                int b = y > 0 ? prev[i] : 0;
                int c = i >= bpp && y > 0 ? prev[i - bpp] : 0;
                cur[i] = filter switch
                {
                    0 => cur[i],
                    1 => (byte)(cur[i] + a),
                    2 => (byte)(cur[i] + b),
                    3 => (byte)(cur[i] + ((a + b) >> 1)),
                    4 => (byte)(cur[i] + Paeth(a, b, c)),
                    _ => throw new DataException($"PNG row {y} has unknown filter type {filter}", path),
                };
            }
        }

        var rgb = new byte[width * height * 3];
        int maxSample = (1 << Math.Min(depth, 8)) - 1;
        for (int y = 0; y < height; y++)
        {
            var line = raw.AsSpan(y * (rowBytes + 1) + 1, rowBytes);
            for (int x = 0; x < width; x++)
            {
                int o = (y * width + x) * 3;
                if (colour == 3)
                {
                    int index = Sample(line, x, depth);
                    if (3 * index + 2 >= palette!.Length) throw new DataException($"palette index {index} at pixel ({x}, {y}) is outside the {palette.Length / 3}-entry palette", path);
                    rgb[o] = palette[3 * index];
                    rgb[o + 1] = palette[3 * index + 1];
                    rgb[o + 2] = palette[3 * index + 2];
                }
                else if (colour is 0 or 4)
                {
                    int v = depth >= 8 ? line[x * channels * (depth / 8)] : Sample(line, x, depth) * 255 / maxSample;
                    rgb[o] = rgb[o + 1] = rgb[o + 2] = (byte)v;
                }
                else
                {
                    int step = depth / 8;
                    for (int c = 0; c < 3; c++) rgb[o + c] = line[(x * channels + c) * step]; // 16-bit: the high byte
                }
            }
        }
        return (rgb, width, height);
    }

    private static int Sample(ReadOnlySpan<byte> line, int x, int depth)
    {
        if (depth == 8) return line[x];
        int bit = x * depth;
        return (line[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static (byte[], int, int) DecodePnm(byte[] d, string path)
    {
        bool colour = d[1] == '6';
        int pos = 2;
        int Next()
        {
            while (true)
            {
                while (pos < d.Length && char.IsWhiteSpace((char)d[pos])) pos++;
                if (pos < d.Length && d[pos] == '#') { while (pos < d.Length && d[pos] != '\n') pos++; continue; }
                break;
            }
            int start = pos;
            long v = 0;
            while (pos < d.Length && d[pos] >= '0' && d[pos] <= '9' && v < int.MaxValue) v = v * 10 + (d[pos++] - '0');
            if (pos == start || v > int.MaxValue) throw new DataException("malformed PPM/PGM header: expected a number", path, start);
            return (int)v;
        }
        int width = Next(), height = Next(), max = Next();
        if (pos >= d.Length || !char.IsWhiteSpace((char)d[pos])) throw new DataException("malformed PPM/PGM header", path, pos);
        pos++;
        if (width <= 0 || height <= 0 || (long)width * height > 1 << 26) throw new DataException($"image size {width}x{height} is not supported", path);
        if (max is <= 0 or > 65535) throw new DataException($"maximum value {max} is invalid; expected 1..65535", path);
        int samples = colour ? 3 : 1, bytesPerSample = max > 255 ? 2 : 1;
        long need = (long)width * height * samples * bytesPerSample;
        if (d.Length - pos < need)
            throw new DataException($"file is truncated: expected {need} pixel bytes after the header, found {d.Length - pos}", path, d.Length);
        var rgb = new byte[width * height * 3];
        for (int p = 0; p < width * height; p++)
        {
            for (int c = 0; c < 3; c++)
            {
                int s = colour ? c : 0;
                int at = pos + (p * samples + s) * bytesPerSample;
                int v = bytesPerSample == 2 ? (d[at] << 8) | d[at + 1] : d[at];
                rgb[p * 3 + c] = (byte)((v * 255 + max / 2) / max);
            }
        }
        return (rgb, width, height);
    }

    /// <summary>Bilinear resize (pixel centres aligned, edges clamped) of interleaved RGB into channel-planar <c>3 x size x size</c>.</summary>
    internal static void ResizeToPlanar(byte[] rgb, int w, int h, int size, Span<byte> dst)
    {
        int plane = size * size;
        if (w == size && h == size)
        {
            for (int p = 0; p < plane; p++)
                for (int c = 0; c < 3; c++) dst[c * plane + p] = rgb[p * 3 + c];
            return;
        }
        for (int y = 0; y < size; y++)
        {
            float sy = Math.Clamp((y + 0.5f) * h / size - 0.5f, 0, h - 1);
            int y0 = (int)sy, y1 = Math.Min(y0 + 1, h - 1);
            float fy = sy - y0;
            for (int x = 0; x < size; x++)
            {
                float sx = Math.Clamp((x + 0.5f) * w / size - 0.5f, 0, w - 1);
                int x0 = (int)sx, x1 = Math.Min(x0 + 1, w - 1);
                float fx = sx - x0;
                for (int c = 0; c < 3; c++)
                {
                    float top = rgb[(y0 * w + x0) * 3 + c] * (1 - fx) + rgb[(y0 * w + x1) * 3 + c] * fx;
                    float bottom = rgb[(y1 * w + x0) * 3 + c] * (1 - fx) + rgb[(y1 * w + x1) * 3 + c] * fx;
                    dst[c * plane + y * size + x] = (byte)Math.Clamp((int)MathF.Round(top * (1 - fy) + bottom * fy), 0, 255);
                }
            }
        }
    }
}
