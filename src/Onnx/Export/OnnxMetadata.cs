using System.Globalization;
using System.Text.Json;
using ArchGen.Data;
using ArchGen.Interop;

namespace ArchGen.Onnx.Export;

/// <summary>
/// What a consumer needs to preprocess an image and read the logits without ArchGen, stored in the ONNX model's
/// <c>metadata_props</c> (the entries a safetensors export keeps too, <see cref="WeightsMetadata"/>, and the input shape): the class names, the normalization (per-channel mean and std of pixels in [0, 1]), the
/// input size and channels, and whether the model's accuracy was measured with flip test-time augmentation.
/// </summary>
/// <param name="Model">The catalog model that was exported.</param>
/// <param name="ClassNames">One name per logit.</param>
/// <param name="Mean">Per-channel mean subtracted from pixels in [0, 1].</param>
/// <param name="Std">Per-channel standard deviation pixels are divided by.</param>
/// <param name="InputSize">Side of the square input.</param>
/// <param name="InputChannels">Channels of the input.</param>
/// <param name="FlipTta">
/// Whether the run evaluated the model with flip test-time augmentation (the mean of an image's logits and its mirror
/// image's); <c>archgen test</c> and <c>predict</c> do so by default. Absent (false) in models exported before it was recorded.
/// </param>
public sealed record OnnxMetadata(string Model, IReadOnlyList<string> ClassNames, IReadOnlyList<float> Mean, IReadOnlyList<float> Std, int InputSize, int InputChannels, bool FlipTta = false)
{
    /// <summary>The metadata keys, as written.</summary>
    public static class Keys
    {
        public const string Model = WeightsMetadata.Keys.Model;
        public const string ClassNames = WeightsMetadata.Keys.ClassNames;
        public const string Mean = WeightsMetadata.Keys.Mean;
        public const string Std = WeightsMetadata.Keys.Std;
        public const string FlipTta = WeightsMetadata.Keys.FlipTta;
        public const string InputSize = "archgen.input_size";
        public const string InputChannels = "archgen.input_channels";
    }

    /// <summary>The largest input side a model may declare (a 4096 x 4096 image; the catalog's largest is 224).</summary>
    public const int MaxInputSize = 4096;

    /// <summary>The most input channels a model may declare.</summary>
    public const int MaxInputChannels = 64;

    /// <summary>The most classes a model may name.</summary>
    public const int MaxClasses = WeightsMetadata.MaxClasses;

    /// <summary>The longest class name, in characters.</summary>
    public const int MaxClassNameLength = WeightsMetadata.MaxClassNameLength;

    /// <summary>The longest metadata value read, in characters (100,000 names of 100 characters fit).</summary>
    public const int MaxValueLength = 16 << 20;

    /// <summary>
    /// The metadata of a model opened from a checkpoint or weights file: its name, class names, input statistics (one
    /// per input channel; a single recorded value applies to every channel) and input shape, and whether its run
    /// evaluated it with flip test-time augmentation.
    /// </summary>
    public static OnnxMetadata Of(ArchGen.Inference.ModelSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var normalization = source.InputNormalization();
        float[] PerChannel(float[] values) =>
            values.Length == source.InputChannels ? values
            : values.Length == 1 ? Enumerable.Repeat(values[0], source.InputChannels).ToArray()
            : throw new ArgumentException($"{source.Path} records {values.Length} channel statistics for a model of {source.InputChannels} input channels.");
        return new OnnxMetadata(source.Name, source.ClassNames, PerChannel(normalization.Mean), PerChannel(normalization.Std), source.InputSize, source.InputChannels, source.FlipTta);
    }

    /// <summary>The entries of <c>metadata_props</c>: lists as JSON arrays, numbers in the invariant culture.</summary>
    public IEnumerable<KeyValuePair<string, string>> ToProperties() =>
        new WeightsMetadata(Model, ClassNames, new Normalization(Mean.ToArray(), Std.ToArray()), FlipTta).ToProperties()
            .Append(new(Keys.InputSize, InputSize.ToString(CultureInfo.InvariantCulture)))
            .Append(new(Keys.InputChannels, InputChannels.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Reads what <see cref="ToProperties"/> wrote; throws <see cref="InvalidDataException"/> naming <paramref name="source"/> when an entry is missing or malformed.</summary>
    public static OnnxMetadata FromProperties(IReadOnlyDictionary<string, string> properties, string source)
    {
        string Get(string key)
        {
            if (!properties.TryGetValue(key, out var value))
                throw new InvalidDataException($"{source}: the ONNX model has no '{key}' metadata; export it with 'archgen export --to model.onnx'.");
            if (value.Length > MaxValueLength)
                throw new InvalidDataException($"{source}: the ONNX model's '{key}' metadata is {value.Length:N0} characters long; over {MaxValueLength:N0} is refused.");
            return value;
        }

        T Parse<T>(string key, Func<string, T> parse)
        {
            try
            {
                return parse(Get(key));
            }
            catch (Exception e) when (e is JsonException or FormatException or OverflowException)
            {
                throw new InvalidDataException($"{source}: the ONNX model's '{key}' metadata is malformed ({e.Message}).", e);
            }
        }

        var metadata = new OnnxMetadata(
            Get(Keys.Model),
            Parse(Keys.ClassNames, v => JsonSerializer.Deserialize<string[]>(v) ?? throw new FormatException("null")),
            Parse(Keys.Mean, v => JsonSerializer.Deserialize<float[]>(v) ?? throw new FormatException("null")),
            Parse(Keys.Std, v => JsonSerializer.Deserialize<float[]>(v) ?? throw new FormatException("null")),
            Parse(Keys.InputSize, v => int.Parse(v, CultureInfo.InvariantCulture)),
            Parse(Keys.InputChannels, v => int.Parse(v, CultureInfo.InvariantCulture)),
            properties.ContainsKey(Keys.FlipTta) && Parse(Keys.FlipTta, v => v switch { "true" => true, "false" => false, _ => throw new FormatException($"'{v}' is neither true nor false") }));
        metadata.Validate(source);
        return metadata;
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming <paramref name="source"/> when the values do not fit together.</summary>
    public void Validate(string source)
    {
        if (InputSize < 1 || InputChannels < 1 || ClassNames.Count < 1)
            throw new InvalidDataException($"{source}: the ONNX metadata needs an input size, input channels and class names (got {InputSize}, {InputChannels}, {ClassNames.Count} names).");
        if (InputSize > MaxInputSize)
            throw new InvalidDataException($"{source}: the ONNX metadata's '{Keys.InputSize}' is {InputSize}; over {MaxInputSize} is refused.");
        if (InputChannels > MaxInputChannels)
            throw new InvalidDataException($"{source}: the ONNX metadata's '{Keys.InputChannels}' is {InputChannels}; over {MaxInputChannels} is refused.");
        if (ClassNames.Count > MaxClasses)
            throw new InvalidDataException($"{source}: the ONNX metadata's '{Keys.ClassNames}' holds {ClassNames.Count:N0} names; over {MaxClasses:N0} is refused.");
        if (WeightsMetadata.Problem(Model, ClassNames) is { } problem)
            throw new InvalidDataException($"{source}: the ONNX metadata cannot be used: {problem}.");
        if (Mean.Count != InputChannels || Std.Count != InputChannels)
            throw new InvalidDataException($"{source}: the ONNX metadata has {Mean.Count} means and {Std.Count} stds for {InputChannels} input channels.");
        if (!new Normalization(Mean.ToArray(), Std.ToArray()).IsUsable)
            throw new InvalidDataException($"{source}: the ONNX metadata's mean values must be finite and its std values finite and at least {Normalization.MinStd}.");
    }
}
