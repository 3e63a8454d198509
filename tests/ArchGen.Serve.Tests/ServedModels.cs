using ArchGen.Data;
using ArchGen.Inference;
using ArchGen.Onnx.Export;
using ArchGen.Onnx.Serving;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Serve.Tests;

/// <summary>A small network of the exercise's layout, for the service's tests: 4 classes, 3x24x24.</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 4, InputSize = 24, Width = 0.5)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 2)]
[Bottleneck(t: 6, c: 32, n: 1, s: 2)]
public partial class ServedNet
{
}

/// <summary>A small MobileNetV3 (a classifier row with a hidden Linear), for the model card's facts.</summary>
[MobileNetV3(Classes = 10, InputSize = 32, InputChannels = 3, Width = 0.5, HeadChannels = 64, Dropout = 0.2)]
[Bneck(3, 16, 16, true, Nonlinearity.ReLU, 2)]
[Bneck(5, 48, 24, true, Nonlinearity.HardSwish, 2)]
public partial class ServedV3
{
}

/// <summary>A small EfficientNet (Dropout + Linear), for the model card's facts.</summary>
[EfficientNet(Classes = 10, InputSize = 32, InputChannels = 3, Width = 0.5, Depth = 1.0, Dropout = 0.2)]
[MBConv(1, 3, 16, 1, 1)]
[MBConv(6, 3, 24, 2, 2)]
public partial class ServedEfficientNet
{
}

/// <summary>A small MobileNetV2 of the paper's flavor (Dropout + Linear), for the model card's facts.</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Paper, Classes = 10, InputSize = 32, Width = 0.5)]
[Bottleneck(t: 1, c: 16, n: 1, s: 1)]
[Bottleneck(t: 6, c: 24, n: 2, s: 2)]
public partial class ServedPaperNet
{
}

/// <summary>An exported <see cref="ServedNet"/> with random weights (seeded) and photos to send it.</summary>
internal static class ServedModels
{
    public static readonly string[] Classes = ["circle", "square", "stripe", "noise"];

    /// <summary>Writes the ONNX model to <paramref name="path"/>: random weights, BatchNorm statistics measured on noise, so classes differ by image (<paramref name="nanBias"/>: the classifier's bias NaN; <paramref name="classes"/>: a classifier for other classes than the declared ones, as fine-tuning makes).</summary>
    public static string Export(string path, bool flipTta = false, int seed = 5, bool nanBias = false, string[]? classes = null)
    {
        var entry = ModelCatalog.Get(typeof(ServedNet).FullName!);
        classes ??= Classes;
        torch.manual_seed(seed);
        using var model = entry.Create(classes.Length);
        using (torch.no_grad())
        {
            // Running statistics from the network's own activations (on noise), so its answers depend on the image.
            model.train();
            for (int i = 0; i < 30; i++) model.forward(torch.randn(16, 3, 24, 24)).Dispose();
            foreach (var (_, module) in model.named_modules())
            {
                if (module is TorchSharp.Modules.Linear linear)
                {
                    linear.weight!.normal_(0, 0.05);
                    linear.bias!.fill_(nanBias ? float.NaN : 0f); // NaN: damaged weights, whose logits are never finite
                }
            }
        }
        model.eval();
        OnnxExporter.Save(entry, model, new OnnxMetadata(entry.Facts.Name, classes, [0.5f, 0.45f, 0.4f], [0.25f, 0.25f, 0.25f], 24, 3, flipTta), path);
        return path;
    }

    /// <summary>A photo (PNG or JPEG by <paramref name="jpeg"/>) of <paramref name="width"/> x <paramref name="height"/>; <paramref name="kind"/> picks what is drawn.</summary>
    public static byte[] Photo(int kind, int width = 64, int height = 48, bool jpeg = false)
    {
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        {
            var random = new Random(kind);
            canvas.Clear(new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
            using var paint = new SKPaint { Color = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)), IsAntialias = true };
            switch (kind % 4)
            {
                case 0: canvas.DrawCircle(width / 2f, height / 2f, height / 3f, paint); break;
                case 1: canvas.DrawRect(width / 4f, height / 4f, width / 3f, height / 2f, paint); break;
                case 2: for (int x = 0; x < width; x += 8) canvas.DrawRect(x, 0, 4, height, paint); break;
                default:
                    for (int i = 0; i < 200; i++) canvas.DrawPoint(random.Next(width), random.Next(height), paint);
                    break;
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(jpeg ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png, 90);
        return data.ToArray();
    }

    /// <summary>
    /// A PNG written byte by byte (8 bits per sample, no interlacing), for the colour types Skia does not encode:
    /// <paramref name="colorType"/> 0 gray, 2 RGB, 3 palette (with <paramref name="palette"/> and its
    /// <paramref name="transparency"/>, a tRNS chunk), 4 gray + alpha, 6 RGBA; <paramref name="pixel"/> gives a
    /// pixel's samples.
    /// </summary>
    public static byte[] Png(int width, int height, byte colorType, Func<int, int, byte[]> pixel, byte[]? palette = null, byte[]? transparency = null)
    {
        using var raw = new MemoryStream();
        for (int y = 0; y < height; y++)
        {
            raw.WriteByte(0); // filter: none
            for (int x = 0; x < width; x++) raw.Write(pixel(x, y));
        }
        using var compressed = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(compressed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true)) raw.WriteTo(z);

        using var png = new MemoryStream();
        png.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        var header = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;
        header[9] = colorType;
        Chunk(png, "IHDR", header);
        if (palette is not null) Chunk(png, "PLTE", palette);
        if (transparency is not null) Chunk(png, "tRNS", transparency);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    static void Chunk(Stream png, string type, byte[] data)
    {
        var length = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        byte[] typed = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typed);
        uint crc = 0xFFFFFFFF;
        foreach (byte b in typed)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        var sum = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(sum, ~crc);
        png.Write(sum);
    }

    /// <summary>
    /// What <c>archgen predict</c> answers for each file with the ONNX model at <paramref name="onnx"/> (its code path:
    /// ImagePredictor over an OnnxModule, flip test-time augmentation as the model's metadata says), every class listed.
    /// </summary>
    public static IReadOnlyList<Prediction> Predicted(string onnx, IReadOnlyList<string> files)
    {
        using var module = new OnnxModule(OnnxClassifier.Load(onnx, new OnnxSessionSettings(1)));
        var m = module.Classifier.Metadata;
        var predictor = new ImagePredictor(module, m.ClassNames, new Normalization(m.Mean.ToArray(), m.Std.ToArray()), m.InputChannels, m.InputSize, torch.CPU, m.FlipTta);
        return predictor.Predict(files, top: m.ClassNames.Count).ToList();
    }
}
