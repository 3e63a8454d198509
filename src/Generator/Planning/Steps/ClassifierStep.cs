using System.Collections.Generic;
using static ArchGen.Generator.Emitting.Code;

namespace ArchGen.Generator.Planning;

/// <summary>The classifier on the pooled features: <c>ArchGen.Blocks.Classifier</c>.</summary>
/// <param name="Hidden">Width of a hidden layer (MobileNetV3), or 0.</param>
/// <param name="DropoutLayer">Whether the dropout is a layer of the state_dict's container even at p = 0.</param>
internal sealed record ClassifierStep(
    string Field, Placement Placement, Shape Input, Shape Output, long Parameters, long MultiplyAdds,
    long Hidden, Activation HiddenAct, double Dropout, bool DropoutLayer)
    : Step(Field, Placement, Input, Output, Parameters, MultiplyAdds)
{
    public override string Kind =>
        (Hidden > 0 ? "Linear " + N(Hidden) + ActText(HiddenAct) + ", " : string.Empty)
        + (DropoutLayer || Dropout > 0 ? "Dropout " + D(Dropout) + ", " : string.Empty) + "Linear";

    public override string FieldType => Blocks + "Classifier";

    public override string Describe(bool fused) =>
        (Hidden > 0 ? "linear " + N(Input.Channels) + " -> " + N(Hidden) + ActText(HiddenAct) + ", " : string.Empty)
        + (!fused && (DropoutLayer || Dropout > 0) ? "dropout " + D(Dropout) + ", " : string.Empty)
        + "linear " + N(Hidden > 0 ? Hidden : Input.Channels) + " -> classes";

    public override string Construct() =>
        "new(" + N(Input.Channels) + ", classes, dropout: " + D(Dropout) + ", dropoutLayer: " + (DropoutLayer ? "true" : "false")
        + (Hidden > 0 ? ", hidden: " + N(Hidden) + ", hiddenActivation: " + Blocks + "Activation." + HiddenAct : string.Empty) + ")";

    public override IReadOnlyList<string> FlatLayers => new[] { "Output" };
}
