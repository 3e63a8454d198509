using System.Text.Json;
using ArchGen.Data;

namespace ArchGen.Interop;

/// <summary>
/// What a model file written by ArchGen says about the model beyond its tensors: its catalog model, class names,
/// input normalization and whether its run evaluated with flip test-time augmentation. A safetensors export keeps
/// it in the header's <c>__metadata__</c>, an ONNX export in <c>metadata_props</c> (the same keys, see
/// <c>OnnxMetadata</c>); a .pt/.pth file has nowhere to keep it, so reading one takes <c>--model</c> and the class
/// count from the classifier's shape.
/// </summary>
/// <param name="Model">The catalog model.</param>
/// <param name="ClassNames">One name per output.</param>
/// <param name="Normalization">The statistics its inputs are normalized with.</param>
/// <param name="FlipTta">Whether its run evaluated it with flip test-time augmentation.</param>
public sealed record WeightsMetadata(string Model, IReadOnlyList<string> ClassNames, Normalization Normalization, bool FlipTta)
{
    /// <summary>The keys, shared by every file format that has somewhere to keep them.</summary>
    public static class Keys
    {
        public const string Model = "archgen.model";
        public const string ClassNames = "archgen.class_names";
        public const string Mean = "archgen.mean";
        public const string Std = "archgen.std";
        public const string FlipTta = "archgen.flip_tta";
    }

    /// <summary>The most classes a file may name.</summary>
    public const int MaxClasses = 100_000;

    /// <summary>The longest class name, in characters.</summary>
    public const int MaxClassNameLength = 1_000;

    /// <summary>The longest model name, in characters.</summary>
    public const int MaxModelNameLength = 200;

    /// <summary>
    /// Why a model name and class names from a file cannot be used, or null when they can: a model name of 1 to
    /// <see cref="MaxModelNameLength"/> printable characters; 1 to <see cref="MaxClasses"/> class names, each non-empty,
    /// at most <see cref="MaxClassNameLength"/> characters, and no two alike (a prediction must say which class it is).
    /// </summary>
    public static string? Problem(string? model, IReadOnlyList<string?> classNames)
    {
        if (string.IsNullOrWhiteSpace(model) || model.Length > MaxModelNameLength || model.Any(Printable.NeedsEscape))
            return $"'{Keys.Model}' must be a name of 1 to {MaxModelNameLength} printable characters";
        if (classNames.Count is 0 or > MaxClasses || classNames.Any(n => string.IsNullOrWhiteSpace(n) || n.Length > MaxClassNameLength))
            return $"'{Keys.ClassNames}' must hold 1 to {MaxClasses:N0} non-empty names of at most {MaxClassNameLength:N0} characters";
        if (classNames.Distinct(StringComparer.Ordinal).Count() != classNames.Count)
            return $"'{Keys.ClassNames}' names a class twice ({classNames.GroupBy(n => n, StringComparer.Ordinal).First(g => g.Count() > 1).Key})";
        return null;
    }

    /// <summary>As string entries: lists as JSON arrays, numbers in the invariant culture.</summary>
    public IReadOnlyDictionary<string, string> ToProperties() => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [Keys.Model] = Model,
        [Keys.ClassNames] = JsonSerializer.Serialize(ClassNames),
        [Keys.Mean] = JsonSerializer.Serialize(Normalization.Mean),
        [Keys.Std] = JsonSerializer.Serialize(Normalization.Std),
        [Keys.FlipTta] = FlipTta ? "true" : "false",
    };

    /// <summary>
    /// Reads what <see cref="ToProperties"/> wrote; null when <paramref name="properties"/> has no model entry (a file
    /// from elsewhere); a <see cref="DataException"/> naming <paramref name="path"/> when an entry is malformed.
    /// </summary>
    public static WeightsMetadata? FromProperties(IReadOnlyDictionary<string, string>? properties, string path)
    {
        if (properties is null || !properties.TryGetValue(Keys.Model, out var model)) return null;
        T Parse<T>(string key, Func<string, T?> parse) where T : class
        {
            try
            {
                return properties.TryGetValue(key, out var value) ? parse(value) ?? throw new FormatException("null") : throw new FormatException("missing");
            }
            catch (Exception e) when (e is JsonException or FormatException)
            {
                throw new DataException($"its '{key}' metadata is missing or malformed ({e.Message})", path);
            }
        }
        var names = Parse(Keys.ClassNames, v => JsonSerializer.Deserialize<string[]>(v));
        var mean = Parse(Keys.Mean, v => JsonSerializer.Deserialize<float[]>(v));
        var std = Parse(Keys.Std, v => JsonSerializer.Deserialize<float[]>(v));
        bool flip = properties.TryGetValue(Keys.FlipTta, out var f) && f == "true";
        if (Problem(model, names) is { } problem)
            throw new DataException($"its metadata cannot be used: {problem}", path);
        if (mean.Length != std.Length || mean.Length is 0 or > 64 || !new Normalization(mean, std).IsUsable)
            throw new DataException($"its '{Keys.Mean}' and '{Keys.Std}' metadata must be equally long lists of finite means and positive, finite stds", path);
        return new WeightsMetadata(model, names, new Normalization(mean, std), flip);
    }
}
