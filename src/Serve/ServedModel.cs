using ArchGen.Data;
using ArchGen.Data.Images;
using ArchGen.Inference;
using ArchGen.Onnx.Export;
using ArchGen.Onnx.Serving;
using ArchGen.Training;
using SkiaSharp;
using TorchSharp;

namespace ArchGen.Serve;

/// <summary>What <c>GET /v1/model</c> says about the served model.</summary>
/// <param name="Name">Its catalog name.</param>
/// <param name="Classes">Its class names, in output order.</param>
/// <param name="InputSize">The side of its input.</param>
/// <param name="InputChannels">Its input channels.</param>
/// <param name="Mean">The per-channel means inputs are normalized with.</param>
/// <param name="Std">The per-channel standard deviations.</param>
/// <param name="Parameters">Trainable parameters: the module's, when served from a checkpoint; else the catalog's compile-time count for the model's classes; else null.</param>
/// <param name="MultiplyAdds">Multiply-adds per image (the catalog's count, for the model's classes), or null for a network this build does not have.</param>
/// <param name="FlipTta">Whether each image's probabilities average it and its mirror image.</param>
/// <param name="Accuracy">The test accuracy (percent) its run recorded last, when served from a run's checkpoint; else null.</param>
/// <param name="Architecture">What the network is (the compile-time facts' description), or null for a network this build does not have.</param>
/// <param name="Layers">The layer table from the compile-time facts (state_dict name, kind, shapes, parameters, multiply-adds), its classifier's row for the model's classes; empty when unknown.</param>
/// <param name="Source">The file it was loaded from (not sent to clients: the API names no server paths).</param>
public sealed record ModelCard(
    string Name, IReadOnlyList<string> Classes, int InputSize, int InputChannels, IReadOnlyList<float> Mean, IReadOnlyList<float> Std,
    long? Parameters, long? MultiplyAdds, bool FlipTta, double? Accuracy, string? Architecture, IReadOnlyList<LayerFact> Layers,
    [property: System.Text.Json.Serialization.JsonIgnore] string Source);

/// <summary>
/// The served model: an ArchGen ONNX model in ONNX Runtime (a checkpoint is exported in memory first), with the
/// preprocessing <c>archgen predict</c> applies (<see cref="ImageRenderer"/>'s evaluation transform, then
/// <see cref="PixelNormalizer"/> with the model's statistics) and its flip test-time augmentation. Preparing images is
/// thread-safe; <see cref="Probabilities"/> is called by one batcher at a time.
/// </summary>
public sealed class ServedModel : IDisposable
{
    readonly OnnxClassifier classifier;
    readonly ImageRenderer renderer;
    readonly PixelNormalizer normalizer;

    ServedModel(OnnxClassifier classifier, ImageLimits limits, long? parameters, double? accuracy)
    {
        this.classifier = classifier;
        var m = classifier.Metadata;
        renderer = new ImageRenderer(m.InputSize, new ImageDecoder(limits));
        normalizer = new PixelNormalizer(new Normalization(m.Mean.ToArray(), m.Std.ToArray()), m.InputChannels, m.InputSize);
        var facts = ModelCatalog.TryGet(m.Model, out var entry) ? ForClasses(entry.Facts, m.ClassNames.Count) : null;
        parameters ??= facts?.ParameterCount;
        Card = new ModelCard(m.Model, m.ClassNames, m.InputSize, m.InputChannels, m.Mean, m.Std, parameters, facts?.MultiplyAdds, m.FlipTta, accuracy,
            facts?.Architecture, facts?.Layers ?? [], classifier.Path);
    }

    /// <summary>
    /// The catalog's facts for the model as loaded: a model fine-tuned to other classes than declared differs only in
    /// the last row of the layer table, the classifier, whose final <c>Linear</c> (with its bias, as every family has it)
    /// has <paramref name="classes"/> outputs; that row, the parameter count and the multiply-adds are recomputed. Its
    /// input features are the width of a hidden <c>Linear N</c> before it in the row, else the row's input. Null when
    /// the table does not end so: better no facts than another model's.
    /// </summary>
    internal static ModelFacts? ForClasses(ModelFacts facts, int classes)
    {
        if (classes == facts.Classes) return facts;
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        if (facts.Layers.Count == 0 || facts.Layers[^1] is not { } last || !last.Kind.EndsWith("Linear", StringComparison.Ordinal)
            || last.OutputShape != facts.Classes.ToString(invariant)) return null;
        var hidden = System.Text.RegularExpressions.Regex.Matches(last.Kind, @"Linear (\d+)");
        if (!long.TryParse(hidden.Count > 0 ? hidden[^1].Groups[1].Value : last.InputShape, System.Globalization.NumberStyles.None, invariant, out long features)
            || last.MultiplyAdds < features * facts.Classes || last.Parameters < (features + 1) * facts.Classes) return null;
        long more = classes - facts.Classes;
        var row = last with
        {
            OutputShape = classes.ToString(invariant),
            Parameters = last.Parameters + (features + 1) * more,
            MultiplyAdds = last.MultiplyAdds + features * more,
        };
        return facts with
        {
            Classes = classes,
            ParameterCount = facts.ParameterCount - last.Parameters + row.Parameters,
            MultiplyAdds = facts.MultiplyAdds - last.MultiplyAdds + row.MultiplyAdds,
            Layers = [.. facts.Layers.Take(facts.Layers.Count - 1), row],
        };
    }

    /// <summary>The model's facts for <c>GET /v1/model</c>.</summary>
    public ModelCard Card { get; }

    /// <summary>Floats of one prepared image: channels x size x size.</summary>
    public int ImageFloats => normalizer.ImageFloats;

    /// <summary>
    /// Opens <paramref name="location"/>: an exported <c>.onnx</c> model, or a checkpoint or run folder, which is
    /// exported to ONNX in memory (as <c>archgen export</c> writes it) and run by ONNX Runtime.
    /// </summary>
    /// <param name="location">An .onnx file, a checkpoint file or a run folder.</param>
    /// <param name="limits">The decoder's bounds for uploaded images.</param>
    /// <param name="threads">ONNX Runtime's intra-op threads (0: one per core). They do not spin between runs: the cores are
    /// shared with the threads decoding uploads (spinning, the service answered 44 % fewer requests/s at 224 without batching; docs/deploy.md, "Under load").</param>
    public static ServedModel Open(string location, ImageLimits limits, int threads) => Open(Onnx.Read(location), limits, threads);

    /// <summary>The model of an ONNX model read by <see cref="Onnx.Read"/>.</summary>
    public static ServedModel Open(Onnx onnx, ImageLimits limits, int threads)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        return new ServedModel(OnnxClassifier.Load(onnx.Bytes, onnx.Source, new OnnxSessionSettings(threads, Spinning: false)), limits, onnx.Parameters, onnx.Accuracy);
    }

    /// <summary>An ArchGen ONNX model's bytes and what its source says beyond them.</summary>
    /// <param name="Bytes">The model.</param>
    /// <param name="Source">The file it came from.</param>
    /// <param name="Parameters">The trained module's parameters, when it came from a checkpoint.</param>
    /// <param name="Accuracy">The last test accuracy its run recorded, when known.</param>
    public sealed record Onnx(byte[] Bytes, string Source, long? Parameters, double? Accuracy)
    {
        /// <summary>An .onnx file as it is, or a checkpoint or run folder exported to ONNX in memory.</summary>
        public static Onnx Read(string location)
        {
            ArgumentNullException.ThrowIfNull(location);
            if (OnnxModelFormat.IsOnnx(location))
            {
                if (!File.Exists(location)) throw new FileNotFoundException($"No ONNX model at '{location}'.");
                return new Onnx(File.ReadAllBytes(location), location, null, null);
            }
            if (File.Exists(location) && ArchGen.Interop.PyTorchWeights.IsWeightsFile(location))
                throw new ArgumentException($"{location} is a PyTorch weights file; this takes an exported .onnx model or an ArchGen checkpoint or run folder (archgen export converts weights).");
            var source = ModelSource.Open(location, model: null);
            using (source.Module)
            using (var stream = new MemoryStream())
            {
                if (source.Entry is null) throw new ArgumentException($"{location} holds {source.Name}, a model this build cannot export.");
                Google.Protobuf.MessageExtensions.WriteTo(OnnxExporter.Build(source.Entry, source.Module, OnnxMetadata.Of(source)), stream);
                return new Onnx(stream.ToArray(), source.Path, source.Module.parameters().Sum(p => p.numel()), RecordedAccuracy(source));
            }
        }
    }

    /// <summary>The last test accuracy the checkpoint's run folder recorded in its metrics.csv, if any.</summary>
    static double? RecordedAccuracy(ModelSource source)
    {
        if (source.RunFolderPath is null) return null;
        try
        {
            return MetricsLog.LastTestAccuracy(new RunFolder(source.RunFolderPath).Metrics);
        }
        catch (Exception e) when (e is IOException or FormatException or InvalidDataException)
        {
            return null; // a damaged log does not stop the service; the card says the accuracy is unknown
        }
    }

    /// <summary>
    /// An uploaded image as the model's input floats: decoded within the decoder's limits (refused from its header
    /// when over them), resized and center-cropped as <c>predict</c> does, normalized. Throws <see cref="DataException"/>
    /// when the bytes are not an image the decoder reads (corrupt, truncated, another format, too many pixels).
    /// </summary>
    public float[] Prepare(ReadOnlySpan<byte> upload)
    {
        if (upload.IsEmpty) throw new DataException("the request has no image (its body is empty)");
        var rgb = new byte[3 * Card.InputSize * Card.InputSize];
        using (var data = SKData.CreateCopy(upload))
            renderer.Evaluation(data, "the uploaded image", rgb);
        var image = new float[ImageFloats];
        normalizer.Fill(rgb, image);
        return image;
    }

    /// <summary>
    /// Class probabilities of <paramref name="count"/> prepared images laid end to end: the softmax of their logits, or,
    /// with flip test-time augmentation, of the mean of theirs and their mirror images' (as <c>predict</c> computes them).
    /// Returns count x classes floats; an image whose logits are not finite (damaged weights) gets NaN for every class.
    /// </summary>
    public float[] Probabilities(float[] images, int count)
    {
        float[] logits = classifier.Run(images, count);
        if (Card.FlipTta)
        {
            float[] mirrored = classifier.Run(Mirror(images, count), count);
            for (int i = 0; i < logits.Length; i++) logits[i] = (logits[i] + mirrored[i]) * 0.5f;
        }
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        int classes = Card.Classes.Count;
        var t = torch.tensor(logits, new long[] { count, classes });
        float[] probabilities = torch.nn.functional.softmax(t, 1).data<float>().ToArray();
        for (int i = 0; i < count; i++)
            if (!logits.AsSpan(i * classes, classes).ToArray().All(float.IsFinite))
                probabilities.AsSpan(i * classes, classes).Fill(float.NaN); // no probabilities (softmax would hide an infinite logit)
        return probabilities;
    }

    /// <summary>The images mirrored left-right (what <c>flip(3)</c> does to an N x C x H x W batch).</summary>
    float[] Mirror(float[] images, int count)
    {
        int side = Card.InputSize;
        var mirrored = new float[images.Length];
        for (int row = 0; row < count * Card.InputChannels * side; row++)
        {
            int start = row * side;
            for (int x = 0; x < side; x++) mirrored[start + x] = images[start + side - 1 - x];
        }
        return mirrored;
    }

    /// <summary>The <paramref name="top"/> most probable classes of one image's probabilities, most probable first (ties by index, as <c>predict</c>).</summary>
    public IReadOnlyList<ClassScore> Top(ReadOnlySpan<float> probabilities, int top)
    {
        var p = probabilities.ToArray();
        return Enumerable.Range(0, p.Length).OrderByDescending(c => p[c]).ThenBy(c => c).Take(Math.Min(top, p.Length))
            .Select(c => new ClassScore(c, Card.Classes[c], p[c])).ToArray();
    }

    /// <inheritdoc/>
    public void Dispose() => classifier.Dispose();
}
