using ArchGen.Generator.Model;

namespace ArchGen.Generator.Planning;

/// <summary>The shape of one image's activation: <c>C x S x S</c>, or a vector of <c>C</c> features when <see cref="Size"/> is 0.</summary>
internal readonly record struct Shape(long Channels, long Size)
{
    public bool IsVector => Size == 0;
}

/// <summary>
/// Where a step's module sits in the original's state_dict: registered at a dotted <see cref="Path"/> (inside
/// index-named containers where the path has more segments, e.g. <c>features.2.1</c>), or, when the original has no
/// module for it, its layers registered directly on the model under <see cref="FlatNames"/> (kuangliu's
/// <c>conv1</c>/<c>bn1</c>, <c>linear</c>). Neither: the step is not part of the state_dict (a functional pool).
/// </summary>
internal sealed record Placement(string? Path, EquatableArray<string> FlatNames)
{
    public static Placement At(string path) => new(path, EquatableArray<string>.Empty);

    public static Placement Flat(params string[] names) => new(null, new EquatableArray<string>(names));

    public static readonly Placement Unregistered = new(null, EquatableArray<string>.Empty);

    /// <summary>How the layer table names the step: its path, its flattened layers' names, or "pool" for the functional pooling.</summary>
    public string Display => Path ?? (FlatNames.IsEmpty ? "pool" : string.Join(", ", FlatNames));
}

/// <summary>A feature map at the end of a resolution stage: the output of step <see cref="StepIndex"/>.</summary>
internal sealed record StageEnd(int StepIndex, int Stride, long Channels, long Size);

/// <summary>
/// The network a valid <see cref="ModelSpec"/> describes, as typed operations in forward order with every channel
/// count, map size and cost resolved. Computed once per model by the family's planner; the validator, the reserved
/// name check and every part of the emitted file read it.
/// </summary>
internal sealed record LayerPlan(
    ModelSpec Spec,
    string Architecture,
    string Original,
    WeightInit WeightInit,
    double Width,
    double Dropout,
    EquatableArray<Step> Steps,
    EquatableArray<StageEnd> Stages,
    long ParameterCount,
    long MultiplyAdds,
    EquatableArray<int> StrideOnOneByOneRows);
