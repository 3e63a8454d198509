using System.Collections.Generic;
using static ArchGen.Generator.Emitting.Code;

namespace ArchGen.Generator.Planning;

/// <summary>A convolution (no bias), BatchNorm and activation: <c>ArchGen.Blocks.ConvBnAct</c> (stem and head).</summary>
internal sealed record ConvStep(
    string Field, Placement Placement, Shape Input, Shape Output, long Parameters, long MultiplyAdds,
    int Kernel, int Stride, Activation Activation, double Eps, double Momentum)
    : Step(Field, Placement, Input, Output, Parameters, MultiplyAdds)
{
    public override string Kind => "ConvBnAct " + KernelText(Kernel, Stride) + ActText(Activation);

    public override string FieldType => Blocks + "ConvBnAct";

    public override string Describe(bool fused) =>
        KernelText(Kernel, Stride) + " convolution " + N(Input.Channels) + " -> " + N(Output.Channels) + (fused ? string.Empty : ", BatchNorm") + ActText(Activation);

    public override string Construct() =>
        "new(" + N(Input.Channels) + ", " + N(Output.Channels) + ", kernelSize: " + N(Kernel) + ", stride: " + N(Stride)
        + ", activation: " + Blocks + "Activation." + Activation + Norm(Eps, Momentum) + ")";

    public override IReadOnlyList<string> FlatLayers => new[] { "Conv", "Norm" };
}
