using ArchGen.Data;
using ArchGen.Inference;

namespace ArchGen.Onnx.Serving;

/// <summary>
/// Exported ONNX models (<c>.onnx</c>) as a <see cref="ModelSource"/>: run by ONNX Runtime, with the class names,
/// normalization and input shape from the model's metadata (checked against its graph when it loads).
/// </summary>
public sealed class OnnxModelFormat : IModelFileFormat
{
    /// <summary>True for an ONNX model file name (<c>.onnx</c>).</summary>
    public static bool IsOnnx(string path) => Path.GetExtension(path).Equals(".onnx", StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc/>
    public bool Handles(string path) => IsOnnx(path);

    /// <inheritdoc/>
    public ModelSource Open(string path, string? model, int threads)
    {
        var onnx = OnnxClassifier.Load(path, new OnnxSessionSettings(threads));
        var m = onnx.Metadata;
        if (model is not null && !string.Equals(model, m.Model, StringComparison.OrdinalIgnoreCase))
        {
            onnx.Dispose();
            throw new ArgumentException($"{path} holds a {m.Model}, not a {model}.");
        }
        ModelCatalog.TryGet(m.Model, out var known);
        return new ModelSource(m.Model, m.InputChannels, m.InputSize, known, new OnnxModule(onnx), null, path, null, m.ClassNames,
            new Normalization(m.Mean.ToArray(), m.Std.ToArray()), m.FlipTta, ClassNamesRecorded: true);
    }
}
