namespace ArchGen.Generator.Planning;

/// <summary>Global average pooling to 1x1 (<c>AdaptiveAvgPool2d(1)</c>): no weights, the same module in the fused form.</summary>
internal sealed record PoolStep(string Field, Placement Placement, Shape Input, Shape Output)
    : Step(Field, Placement, Input, Output, 0, 0)
{
    public override string Kind => "AdaptiveAvgPool2d 1";

    public override string FieldType => "global::TorchSharp.Modules.AdaptiveAvgPool2d";

    public override string Describe(bool fused) => "global average pooling";

    public override string Construct() => "global::TorchSharp.torch.nn.AdaptiveAvgPool2d(1)";

    public override string ConstructFused() => Construct();

    public override string Where => "global average pool";
}
