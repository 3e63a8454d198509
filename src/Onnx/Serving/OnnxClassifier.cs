using ArchGen.Onnx.Export;
using Microsoft.ML.OnnxRuntime;

namespace ArchGen.Onnx.Serving;

/// <summary>How an ONNX Runtime session is set up for CPU inference.</summary>
/// <param name="Threads">Intra-op threads (0 = ONNX Runtime's default, one per core).</param>
/// <param name="Optimization">Graph optimization level (all: constant folding, fusions, layout transformations).</param>
/// <param name="MemoryArena">Whether ONNX Runtime keeps its CPU memory arena (faster repeated runs, more resident memory).</param>
/// <param name="Spinning">
/// Whether ONNX Runtime's intra-op threads spin for a while after a run, waiting for the next (faster back-to-back runs;
/// a process whose other threads need the cores between runs, like a service decoding uploads, turns it off).
/// </param>
public sealed record OnnxSessionSettings(int Threads = 0, GraphOptimizationLevel Optimization = GraphOptimizationLevel.ORT_ENABLE_ALL, bool MemoryArena = true,
    bool Spinning = true);

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
        return Load(options => new InferenceSession(path, options), path, settings);
    }

    /// <summary>
    /// Loads an ArchGen ONNX model from its bytes (one exported in memory, say); <paramref name="name"/> names it in
    /// errors and is its <see cref="Path"/>.
    /// </summary>
    public static OnnxClassifier Load(byte[] model, string name, OnnxSessionSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Load(options => new InferenceSession(model, options), name, settings);
    }

    static OnnxClassifier Load(Func<SessionOptions, InferenceSession> open, string path, OnnxSessionSettings? settings)
    {
        settings ??= new OnnxSessionSettings();
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = settings.Optimization,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            InterOpNumThreads = 1,
            IntraOpNumThreads = settings.Threads,
            EnableCpuMemArena = settings.MemoryArena,
        };
        if (!settings.Spinning) options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        InferenceSession session;
        try
        {
            session = open(options);
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
            CheckGraph(session, metadata, path);
            return new OnnxClassifier(session, metadata, path);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Throws <see cref="InvalidDataException"/> naming <paramref name="path"/> when the graph's input is not float
    /// N x C x H x W images of the metadata's channels and size, or its output not float N x classes with one logit per
    /// class name. Dimensions the graph leaves symbolic are checked on the first batch (<see cref="Run"/>).
    /// </summary>
    static void CheckGraph(InferenceSession session, OnnxMetadata metadata, string path)
    {
        var input = session.InputMetadata[OnnxExporter.InputName];
        var output = session.OutputMetadata[OnnxExporter.OutputName];
        if (!input.IsTensor || input.ElementType != typeof(float))
            throw new InvalidDataException($"{path}: the graph's input '{OnnxExporter.InputName}' must be a float tensor (it is {Describe(input)}).");
        if (!output.IsTensor || output.ElementType != typeof(float))
            throw new InvalidDataException($"{path}: the graph's output '{OnnxExporter.OutputName}' must be a float tensor (it is {Describe(output)}).");
        int[] dims = input.Dimensions;
        if (dims.Length != 4)
            throw new InvalidDataException($"{path}: the graph's input '{OnnxExporter.InputName}' has {dims.Length} dimensions; it must be [batch, channels, height, width].");
        if (dims[1] > 0 && dims[1] != metadata.InputChannels)
            throw new InvalidDataException($"{path}: the metadata says {metadata.InputChannels} input channel{(metadata.InputChannels == 1 ? "" : "s")}; the graph takes {dims[1]}.");
        if ((dims[2] > 0 && dims[2] != metadata.InputSize) || (dims[3] > 0 && dims[3] != metadata.InputSize))
            throw new InvalidDataException($"{path}: the metadata says the input is {metadata.InputSize} x {metadata.InputSize}; the graph takes {dims[2]} x {dims[3]}.");
        int[] outDims = output.Dimensions;
        if (outDims.Length != 2)
            throw new InvalidDataException($"{path}: the graph's output '{OnnxExporter.OutputName}' has {outDims.Length} dimensions ({Describe(output)}); it must be [batch, classes].");
        if (outDims[1] > 0 && outDims[1] != metadata.ClassNames.Count)
            throw new InvalidDataException($"{path}: the metadata has {metadata.ClassNames.Count} class names; the graph gives {outDims[1]} logits per image.");
    }

    static string Describe(NodeMetadata value) => value.IsTensor
        ? $"{value.ElementType.Name}[{string.Join(", ", value.Dimensions.Select((d, i) => d > 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : value.SymbolicDimensions.ElementAtOrDefault(i) is { Length: > 0 } s ? s : "?"))}]"
        : value.OnnxValueType.ToString();

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
        IDisposableReadOnlyCollection<OrtValue> outputs;
        try
        {
            outputs = session.Run(runOptions, new[] { OnnxExporter.InputName }, new[] { input }, new[] { OnnxExporter.OutputName });
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{Path}: ONNX Runtime cannot run it on {batch} x {channels} x {side} x {side} images ({e.Message.ReplaceLineEndings(" ").Trim()}).", e);
        }
        using (outputs)
        {
            long[] shape = outputs[0].GetTensorTypeAndShape().Shape;
            int classes = Metadata.ClassNames.Count;
            if (shape.Length != 2 || shape[0] != batch || shape[1] != classes)
                throw new InvalidDataException($"{Path}: the metadata has {classes} class names; the graph gives [{string.Join(", ", shape)}] for {batch} images{(shape.Length == 2 && shape[0] == batch ? $", {shape[1]} logits per image" : "")}.");
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => session.Dispose();
}
