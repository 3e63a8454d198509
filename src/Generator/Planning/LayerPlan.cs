using ArchGen.Generator.Model;

namespace ArchGen.Generator.Planning;

/// <summary>A nonlinearity; mirrors <c>ArchGen.Blocks.Activation</c> (emitted by name).</summary>
internal enum Act
{
    None,
    ReLU,
    ReLU6,
    HardSwish,
    SiLU,
    HardSigmoid,
    Sigmoid,
}

/// <summary>Whose state_dict names a block uses; mirrors <c>ArchGen.Blocks.BlockLayout</c> (emitted by name).</summary>
internal enum Layout
{
    TorchvisionMobileNetV2,
    TorchvisionMobileNetV3,
    TorchvisionEfficientNet,
    Kuangliu,
}

/// <summary>What a block adds to its branch's output; mirrors <c>ArchGen.Blocks.ShortcutKind</c> (emitted by name).</summary>
internal enum Shortcut
{
    None,
    Identity,
    Projection,
}

/// <summary>How the model initializes its weights; mirrors <c>ArchGen.Blocks.WeightInit</c> (emitted by name).</summary>
internal enum Init
{
    PyTorchDefault,
    Torchvision,
    EfficientNet,
}

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

/// <summary>
/// One operation of the network in forward order, with the typed field the generated model holds it in, its place in
/// the state_dict, and its shapes and costs for one image. The planner decides every number; the emitter switches on
/// the kind and writes it out.
/// </summary>
internal abstract record Step(string Field, Placement Placement, Shape Input, Shape Output, long Parameters, long MultiplyAdds);

/// <summary>A convolution (no bias), BatchNorm and activation: <c>ArchGen.Blocks.ConvBnAct</c> (stem and head).</summary>
internal sealed record ConvStep(
    string Field, Placement Placement, Shape Input, Shape Output, long Parameters, long MultiplyAdds,
    int Kernel, int Stride, Act Act, double Eps, double Momentum)
    : Step(Field, Placement, Input, Output, Parameters, MultiplyAdds);

/// <summary>An inverted-residual block: <c>ArchGen.Blocks.InvertedResidual</c>.</summary>
/// <param name="Row">The table row it came from (0-based).</param>
/// <param name="Expanded">Channels of the depthwise stage.</param>
/// <param name="Expand">Whether there is a 1x1 expansion convolution.</param>
/// <param name="Squeeze">Squeeze-and-excitation width, or 0 for none.</param>
/// <param name="DropPath">Stochastic-depth probability on the residual branch.</param>
internal sealed record BlockStep(
    string Field, Placement Placement, Shape Input, Shape Output, long Parameters, long MultiplyAdds,
    Layout Layout, int Row, long Expanded, int Kernel, int Stride, Act Act, bool Expand, Shortcut Shortcut,
    long Squeeze, Act SqueezeAct, Act Gate, double DropPath, double Eps, double Momentum)
    : Step(Field, Placement, Input, Output, Parameters, MultiplyAdds);

/// <summary>Global average pooling to 1x1 (<c>AdaptiveAvgPool2d(1)</c>).</summary>
internal sealed record PoolStep(string Field, Placement Placement, Shape Input, Shape Output)
    : Step(Field, Placement, Input, Output, 0, 0);

/// <summary>The classifier on the pooled features: <c>ArchGen.Blocks.Classifier</c>.</summary>
/// <param name="Hidden">Width of a hidden layer (MobileNetV3), or 0.</param>
/// <param name="DropoutLayer">Whether the dropout is a layer of the state_dict's container even at p = 0.</param>
internal sealed record ClassifierStep(
    string Field, Placement Placement, Shape Input, Shape Output, long Parameters, long MultiplyAdds,
    long Hidden, Act HiddenAct, double Dropout, bool DropoutLayer)
    : Step(Field, Placement, Input, Output, Parameters, MultiplyAdds);

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
    Init Init,
    double Dropout,
    EquatableArray<Step> Steps,
    EquatableArray<StageEnd> Stages,
    long ParameterCount,
    long MultiplyAdds,
    EquatableArray<int> StrideOnOneByOneRows);
