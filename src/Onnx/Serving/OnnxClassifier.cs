using ArchGen.Onnx.Export;
using Microsoft.ML.OnnxRuntime;

namespace ArchGen.Onnx.Serving;

/// <summary>How an ONNX Runtime session is set up for CPU inference.</summary>
/// <param name="Threads">Intra-op threads (0 = ONNX Runtime's default, one per core).</param>
/// <param name="Optimization">Graph optimization level (all: constant folding, fusions, layout transformations).</param>
/// <param name="MemoryArena">Whether ONNX Runtime keeps its CPU memory arena (faster repeated runs, more resident memory).</param>
public sealed record OnnxSessionSettings(int Threads = 0, GraphOptimizationLevel Optimization = GraphOptimizationLevel.ORT_ENABLE_ALL, bool MemoryArena = true);

/// <summary>
/// An exported ArchGen model served by ONNX Runtime: reads the preprocessing (<see cref="OnnxMetadata"/>) from the
/// model and returns logits for batches of normalized N x C x H x W images.
/// </summary>
public sealed class OnnxClassifier : IDisposable
{
    readonly InferenceSession session;

    OnnxClassifier(InferenceSession session, OnnxMetadata metadata, string path)
    {
        this.session = session;
        Metadata = metadata;
        Path = path;
    }

    /// <summary>The file the model was loaded from.</summary>
    public string Path { get; }

    /// <summary>Class names, normalization and input shape.</summary>
    public OnnxMetadata Metadata { get; }

    /// <summary>Loads an ONNX model written by ArchGen; throws <see cref="InvalidDataException"/> naming the file when it is not one.</summary>
    public static OnnxClassifier Load(string path, OnnxSessionSettings? settings = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No ONNX model at '{path}'.");
        settings ??= new OnnxSessionSettings();
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = settings.Optimization,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            InterOpNumThreads = 1,
            IntraOpNumThreads = settings.Threads,
            EnableCpuMemArena = settings.MemoryArena,
        };
        InferenceSession session;
        try
        {
            session = new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{path}: ONNX Runtime cannot load it ({e.Message.ReplaceLineEndings(" ").Trim()}).", e);
        }

        try
        {
            if (!session.InputMetadata.ContainsKey(OnnxExporter.InputName) || !session.OutputMetadata.ContainsKey(OnnxExporter.OutputName))
                throw new InvalidDataException($"{path}: not an ArchGen ONNX model (it needs an input '{OnnxExporter.InputName}' and an output '{OnnxExporter.OutputName}').");
            var metadata = OnnxMetadata.FromProperties(session.ModelMetadata.CustomMetadataMap, path);
            return new OnnxClassifier(session, metadata, path);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Logits of <paramref name="batch"/> images laid out as N x C x H x W floats, already normalized with
    /// <see cref="Metadata"/>'s mean and std; returns N x classes floats.
    /// </summary>
    public float[] Run(float[] images, int batch)
    {
        ArgumentNullException.ThrowIfNull(images);
        long side = Metadata.InputSize, channels = Metadata.InputChannels;
        if (batch < 1 || images.LongLength != batch * channels * side * side)
            throw new ArgumentException($"Expected {batch} x {channels} x {side} x {side} floats, got {images.LongLength}.");
        using var input = OrtValue.CreateTensorValueFromMemory(images, new[] { batch, channels, side, side });
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, new[] { OnnxExporter.InputName }, new[] { input }, new[] { OnnxExporter.OutputName });
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <inheritdoc/>
    public void Dispose() => session.Dispose();
}
