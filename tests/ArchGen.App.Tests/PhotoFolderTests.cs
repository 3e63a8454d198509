using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using SkiaSharp;

namespace ArchGen.App.Tests;

/// <summary>A user's photos: fine-tuning on a JPEG folder from existing weights, then classifying new photos with predict.</summary>
public class PhotoFolderTests
{
    static readonly string[] Classes = ["astronaut", "chelsea", "coffee"];

    static readonly string[] Quick = ["--device", "cpu", "--threads", "2"];

    /// <summary>
    /// DIR/train/&lt;class&gt;/*.jpg and DIR/test/&lt;class&gt;/*.jpg: random crops of the committed photographs, one class per
    /// photograph, resized to phone-like aspect ratios and re-encoded as JPEG.
    /// </summary>
    public static string WritePhotos(string root, int train, int test, int seed = 3)
    {
        var random = new Random(seed);
        string photos = Path.Combine(AppProcess.RepositoryRoot, "tests", "ArchGen.Runtime.Tests", "Data", "Images", "Fixtures", "photos");
        foreach (var cls in Classes)
        {
            using var source = SKBitmap.Decode(Path.Combine(photos, cls + ".jpg"));
            foreach (var (split, n) in new[] { ("train", train), ("test", test) })
            {
                string dir = Path.Combine(root, split, cls);
                Directory.CreateDirectory(dir);
                for (int i = 0; i < n; i++)
                {
                    int w = random.Next(source.Width / 2, source.Width + 1), h = random.Next(source.Height / 2, source.Height + 1);
                    int x = random.Next(source.Width - w + 1), y = random.Next(source.Height - h + 1);
                    using var crop = new SKBitmap();
                    source.ExtractSubset(crop, new SKRectI(x, y, x + w, y + h));
                    bool portrait = random.Next(2) == 0;
                    using var sized = crop.Resize(new SKImageInfo(portrait ? 150 : 200, portrait ? 200 : 150), new SKSamplingOptions(SKFilterMode.Linear));
                    using var data = sized.Encode(SKEncodedImageFormat.Jpeg, 85);
                    File.WriteAllBytes(Path.Combine(dir, $"{cls}_{i}.jpg"), data.ToArray());
                }
            }
        }
        return root;
    }

    [Fact]
    public void FineTunesTheClassifierOfACheckpointOnPhotosThenPredicts()
    {
        using var dir = new TempDir();
        string photos = WritePhotos(dir["photos"], train: 4, test: 2);

        // A 10-class starting point, then a 3-class fine-tune of its classifier only.
        var baseRun = AppProcess.Run(dir.Path, ["train", "--model", "CifarMobileNetV2", "--dataset", "synthetic", "--epochs", "1", "--limit", "32", "--test-limit", "16", "--batch-size", "16", "--out", "base", .. Quick]);
        Assert.True(baseRun.ExitCode == 0, baseRun.Out + baseRun.Err);
        var tune = AppProcess.Run(dir.Path, ["train", "--model", "CifarMobileNetV2", "--dataset", "folder", "--data", photos, "--init", "base", "--freeze-features",
            "--epochs", "1", "--batch-size", "4", "--out", "tuned", .. Quick]);
        Assert.True(tune.ExitCode == 0, tune.Out + tune.Err);
        Assert.Contains("loaded 342 of 344 tensors", tune.Out);
        Assert.Contains("re-initialized 2: linear.weight (file [10,1280], model [3,1280]), linear.bias (file [10], model [3])", tune.Out);
        Assert.Contains("Training only the classifier (3,843 parameters)", tune.Out);
        Assert.Contains("Accuracy of the network on the 6 test images:", tune.Out);

        using (var config = JsonDocument.Parse(File.ReadAllText(dir["tuned/config.json"])))
        {
            var normalization = config.RootElement.GetProperty("normalization");
            Assert.Equal("checkpoint", normalization.GetProperty("source").GetString());
            Assert.Equal(3, normalization.GetProperty("mean").GetArrayLength());
            Assert.True(config.RootElement.GetProperty("freezeFeatures").GetBoolean());
        }

        // Frozen features: every tensor but the classifier is what the starting point had, running statistics included.
        foreach (var run in new[] { "base", "tuned" })
        {
            var export = AppProcess.Run(dir.Path, "export", "--checkpoint", run, "--to", run + ".safetensors");
            Assert.True(export.ExitCode == 0, export.Out + export.Err);
        }
        var before = Safetensors(dir["base.safetensors"]);
        var after = Safetensors(dir["tuned.safetensors"]);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (key, bytes) in before)
        {
            if (key.StartsWith("linear.", StringComparison.Ordinal)) Assert.NotEqual(bytes.Length == after[key].Length ? bytes : [], after[key]);
            else Assert.True(bytes.AsSpan().SequenceEqual(after[key]), $"{key} changed although the features were frozen");
        }

        // predict: one JSON object per image and line, class names from the checkpoint.
        var json = AppProcess.Run(dir.Path, ["predict", "--checkpoint", "tuned", "--json", Path.Combine(photos, "test"), .. Quick]);
        Assert.True(json.ExitCode == 0, json.Out + json.Err);
        var lines = json.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        var expectedFiles = Classes.SelectMany(c => new[] { 0, 1 }.Select(i => Path.Combine(photos, "test", c, $"{c}_{i}.jpg"))).ToArray();
        for (int i = 0; i < lines.Length; i++)
        {
            using var line = JsonDocument.Parse(lines[i]);
            var root = line.RootElement;
            Assert.Equal(expectedFiles[i], root.GetProperty("path").GetString());
            int index = root.GetProperty("index").GetInt32();
            Assert.Equal(Classes[index], root.GetProperty("label").GetString());
            Assert.InRange(root.GetProperty("probability").GetDouble(), 1.0 / 3, 1.0);
            Assert.Equal(3, root.GetProperty("top").GetArrayLength());
        }

        var table = AppProcess.Run(dir.Path, ["predict", "-c", "tuned", "--top", "2", expectedFiles[0], expectedFiles[5], .. Quick]);
        Assert.True(table.ExitCode == 0, table.Out + table.Err);
        Assert.Contains("Probability", table.Out);
        Assert.Contains("astronaut_0.jpg", table.Out);
        Assert.Contains("coffee_1.jpg", table.Out);
    }

    [Fact]
    public void AHoldoutFromAPhotoFolderIsRefusedWithOneLineBeforeAnythingIsWritten()
    {
        using var dir = new TempDir();
        string photos = WritePhotos(dir["photos"], train: 2, test: 1);
        var refused = AppProcess.Run(dir.Path, ["train", "--model", "CifarMobileNetV2", "--dataset", "folder", "--data", photos, "--holdout", "2", "--out", "run", .. Quick]);
        Assert.True(refused.ExitCode == 2, $"exit {refused.ExitCode}\n{refused.Out}\n{refused.Err}");
        AssertOneLine(refused.Err, "error: --holdout needs an in-memory dataset");
        Assert.False(File.Exists(dir["run/config.json"]));
    }

    [Fact]
    public void BadPhotosStopWithOneLineOrAreSkippedWithOneWarning()
    {
        using var dir = new TempDir();
        string photos = WritePhotos(dir["photos"], train: 2, test: 1);
        string good = Path.Combine(photos, "train", "coffee", "coffee_0.jpg");
        string cut = Path.Combine(photos, "train", "coffee", "coffee_cut.jpg");
        byte[] bytes = File.ReadAllBytes(good);
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        string[] train = ["train", "--model", "CifarMobileNetV2", "--dataset", "folder", "--data", photos, "--epochs", "1", "--batch-size", "8", .. Quick];

        var stopped = AppProcess.Run(dir.Path, [.. train, "--out", "stopped"]);
        Assert.Equal(1, stopped.ExitCode);
        AssertOneLine(stopped.Err, "error: ");
        Assert.Contains(cut + ": the image data is truncated", stopped.Err);

        var skipped = AppProcess.Run(dir.Path, [.. train, "--out", "skipped", "--skip-bad-images"]);
        Assert.True(skipped.ExitCode == 0, skipped.Out + skipped.Err);
        AssertOneLine(skipped.Err, "warning: skipped 1 of 7 train files that cannot be read as images: " + cut);
        using (var config = JsonDocument.Parse(File.ReadAllText(dir["skipped/config.json"])))
            Assert.Equal("dataset", config.RootElement.GetProperty("normalization").GetProperty("source").GetString());

        var predictBad = AppProcess.Run(dir.Path, ["predict", "-c", "skipped", good, cut, .. Quick]);
        Assert.Equal(1, predictBad.ExitCode);
        AssertOneLine(predictBad.Err, "error: " + cut);

        var predictSkip = AppProcess.Run(dir.Path, ["predict", "-c", "skipped", "--json", "--skip-bad-images", good, cut, .. Quick]);
        Assert.True(predictSkip.ExitCode == 0, predictSkip.Out + predictSkip.Err);
        Assert.Single(predictSkip.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        AssertOneLine(predictSkip.Err, "warning: skipped 1 of 2 files");

        var missing = AppProcess.Run(dir.Path, ["predict", "-c", "skipped", Path.Combine(photos, "nowhere.jpg"), .. Quick]);
        Assert.Equal(1, missing.ExitCode);
        AssertOneLine(missing.Err, "error: " + Path.Combine(photos, "nowhere.jpg"));

        var badTop = AppProcess.Run(dir.Path, ["predict", "-c", "skipped", "--top", "0", good]);
        Assert.Equal(2, badTop.ExitCode);
        AssertOneLine(badTop.Err, "error: --top");

        var badInit = AppProcess.Run(dir.Path, [.. train, "--out", "x", "--init", "missing.pth"]);
        Assert.Equal(1, badInit.ExitCode);
        AssertOneLine(badInit.Err, "error: ");
        Assert.Contains("missing.pth", badInit.Err);
    }

    /// <summary>
    /// The scenario: torchvision's mobilenet_v2 state_dict (1000 classes, written by PyTorch itself) fine-tuned
    /// on a small JPEG folder, then predict on its test photos.
    /// </summary>
    [SkippableFact]
    public void FineTunesTorchvisionMobileNetV2FromItsStateDictThenPredicts()
    {
        Toolchain.RequirePyTorch();
        using var dir = new TempDir();
        string photos = WritePhotos(dir["photos"], train: 2, test: 1);
        string pth = dir["mobilenet_v2.pth"];
        var (code, output) = Toolchain.Run("/usr/bin/python3", AppProcess.RepositoryRoot, "tools/reference/torchvision_state_dict.py", "mobilenet_v2", pth);
        Assert.True(code == 0, output);

        var tune = AppProcess.Run(dir.Path, ["train", "--model", "MobileNetV2", "--dataset", "folder", "--data", photos, "--init", pth,
            "--epochs", "1", "--batch-size", "6", "--out", "tuned", .. Quick]);
        Assert.True(tune.ExitCode == 0, tune.Out + tune.Err);
        Assert.Contains("loaded 312 of 314 tensors", tune.Out);
        Assert.Contains("re-initialized 2: classifier.1.weight (file [1000,1280], model [3,1280]), classifier.1.bias (file [1000], model [3])", tune.Out);
        using (var config = JsonDocument.Parse(File.ReadAllText(dir["tuned/config.json"])))
        {
            var normalization = config.RootElement.GetProperty("normalization");
            Assert.Equal("imagenet", normalization.GetProperty("source").GetString());
            Assert.Equal(0.485, normalization.GetProperty("mean")[0].GetDouble(), 5);
        }

        var predict = AppProcess.Run(dir.Path, ["predict", "--checkpoint", "tuned", "--json", "--top", "1", Path.Combine(photos, "test"), .. Quick]);
        Assert.True(predict.ExitCode == 0, predict.Out + predict.Err);
        var lines = predict.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            Assert.Contains(doc.RootElement.GetProperty("label").GetString(), Classes);
            Assert.EndsWith(".jpg", doc.RootElement.GetProperty("path").GetString());
        }
    }

    /// <summary>
    /// Eight 522 KB PNGs that inflate to 8192x8192 16-bit RGBA (512 MiB each), decoded by eight workers: the decode
    /// gate lets them through a few at a time, so the process stays under a gigabyte instead of taking four.
    /// </summary>
    [Fact]
    public void EightPngsInflatingToHalfAGigabyteEachDoNotTakeGigabytes()
    {
        using var dir = new TempDir();
        string folder = Path.Combine(dir.Path, "bombs", "only");
        Directory.CreateDirectory(folder);
        byte[] png = ZeroPng(8192, 8192);
        Assert.InRange(png.Length, 500_000, 540_000);
        for (int i = 0; i < 8; i++) File.WriteAllBytes(Path.Combine(folder, $"bomb{i}.png"), png);

        var (code, output, err) = AppProcess.Run(dir.Path, ["bench", "--model", "CifarMobileNetV2", "--data", dir["bombs"], "--workers", "8", "--batch-size", "8"]);
        Assert.True(code == 0, output + err);
        using var json = JsonDocument.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last());
        double peak = json.RootElement.GetProperty("peak_rss_mb").GetDouble();
        Assert.True(peak < 1200, $"peak RSS {peak:F0} MB decoding eight 8192x8192x16-bit PNGs");
    }

    /// <summary>An all-zero 16-bit RGBA PNG, compressed as hard as zlib can.</summary>
    static byte[] ZeroPng(int width, int height)
    {
        var idat = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(idat, System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var row = new byte[1 + width * 8];
            for (int y = 0; y < height; y++) z.Write(row);
        }
        var png = new MemoryStream();
        png.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 16;
        ihdr[9] = 6;
        PngChunk(png, "IHDR", ihdr);
        PngChunk(png, "IDAT", idat.ToArray());
        PngChunk(png, "IEND", []);
        return png.ToArray();
    }

    static void PngChunk(Stream png, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typed);
        uint crc = 0xFFFFFFFF;
        foreach (byte b in typed)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320 & (uint)-(int)(crc & 1));
        }
        var tail = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tail, ~crc);
        png.Write(tail);
    }

    static void AssertOneLine(string err, string start)
    {
        string trimmed = err.Trim();
        Assert.StartsWith(start, trimmed);
        Assert.DoesNotContain('\n', trimmed);
    }

    /// <summary>The raw bytes of every tensor in a safetensors file, by key.</summary>
    static Dictionary<string, byte[]> Safetensors(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(file);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(file, 8, (int)headerLength));
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            var offsets = entry.Value.GetProperty("data_offsets");
            long start = 8 + headerLength + offsets[0].GetInt64(), end = 8 + headerLength + offsets[1].GetInt64();
            result[entry.Name] = file[(int)start..(int)end];
        }
        return result;
    }
}
