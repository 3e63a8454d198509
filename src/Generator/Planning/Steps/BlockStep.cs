using System.Collections.Generic;
using static ArchGen.Generator.Emitting.Code;

namespace ArchGen.Generator.Planning;

/// <summary>An inverted-residual block: <c>ArchGen.Blocks.InvertedResidual</c>.</summary>
/// <param name="Row">The table row it came from (0-based).</param>
/// <param name="Expanded">Channels of the depthwise stage.</param>
/// <param name="Expand">Whether there is a 1x1 expansion convolution.</param>
/// <param name="Squeeze">Squeeze-and-excitation width, or 0 for none.</param>
/// <param name="DropPath">Stochastic-depth probability on the residual branch.</param>
/// <param name="ProjectActivation">Activation after the 1x1 projection: none (a linear bottleneck) but in the paper's ablation.</param>
/// <param name="TakesWide">Whether the expansion's output has the block before's expanded tensor added (the paper's shortcut between expansions).</param>
/// <param name="PassesWide">Whether the expanded tensor goes on to the next block's expansion.</param>
internal sealed record BlockStep(
    string Field, Placement Placement, Shape Input, Shape Output, long Parameters, long MultiplyAdds,
    BlockLayout BlockLayout, int Row, long Expanded, int Kernel, int Stride, Activation Activation, bool Expand, ShortcutKind ShortcutKind,
    long Squeeze, Activation SqueezeAct, Activation Gate, double DropPath, double Eps, double Momentum, Activation ProjectActivation,
    bool TakesWide = false, bool PassesWide = false)
    : Step(Field, Placement, Input, Output, Parameters, MultiplyAdds)
{
    public override string Kind =>
        "InvertedResidual " + N(Input.Channels) + (Expand ? "->" + N(Expanded) : string.Empty) + "->" + N(Output.Channels)
        + " " + KernelText(Kernel, Stride) + ActText(Activation)
        + (Squeeze > 0 ? ", SE " + N(Squeeze) : string.Empty)
        + (ProjectActivation != Activation.None ? ", " + ProjectActivation + " after projection" : string.Empty)
        + ShortcutKind switch { ShortcutKind.Identity => ", residual", ShortcutKind.Projection => ", 1x1 conv shortcut", _ => string.Empty }
        + (TakesWide ? ", + previous expansion" : string.Empty)
        + (PassesWide ? ", expansion passed on" : string.Empty)
        + (DropPath > 0 ? ", drop path " + Short(DropPath) : string.Empty);

    public override string FieldType => Blocks + "InvertedResidual";

    public override bool OnWideResidual => TakesWide || PassesWide;

    public override string Describe(bool fused) =>
        "inverted residual " + N(Input.Channels) + (Expand ? " -> " + N(Expanded) : string.Empty) + " -> " + N(Output.Channels)
        + ", " + KernelText(Kernel, Stride) + " depthwise" + ActText(Activation)
        + (Squeeze > 0 ? ", squeeze-and-excitation to " + N(Squeeze) : string.Empty)
        + (ProjectActivation != Activation.None ? ", " + ProjectActivation + " after the projection (not a linear bottleneck)" : string.Empty)
        + ShortcutKind switch { ShortcutKind.Identity => ", identity residual", ShortcutKind.Projection => ", 1x1 conv shortcut", _ => string.Empty }
        + (TakesWide ? ", the block before's expanded tensor added to its expansion" : string.Empty)
        + (PassesWide ? ", its expanded tensor added to the next block's expansion" : string.Empty)
        + (DropPath > 0 && !fused ? ", stochastic depth " + Short(DropPath) : string.Empty);

    public override string Construct()
    {
        var args = new List<string>
        {
            Blocks + "BlockLayout." + BlockLayout,
            N(Input.Channels),
            N(Expanded),
            N(Output.Channels),
            "kernelSize: " + N(Kernel),
            "stride: " + N(Stride),
            "activation: " + Blocks + "Activation." + Activation,
            "expand: " + (Expand ? "true" : "false"),
        };
        if (ShortcutKind != ShortcutKind.None)
        {
            args.Add("shortcut: " + Blocks + "ShortcutKind." + ShortcutKind);
        }

        if (Squeeze > 0)
        {
            args.Add("squeezeChannels: " + N(Squeeze));
            args.Add("squeezeActivation: " + Blocks + "Activation." + SqueezeAct);
            args.Add("gate: " + Blocks + "Activation." + Gate);
        }

        if (DropPath != 0)
        {
            args.Add("dropPath: " + D(DropPath));
        }

        if (ProjectActivation != Activation.None)
        {
            args.Add("projectActivation: " + Blocks + "Activation." + ProjectActivation);
        }

        if (TakesWide)
        {
            args.Add("takesWide: true");
        }

        if (PassesWide)
        {
            args.Add("passesWide: true");
        }

        return "new(" + string.Join(", ", args) + Norm(Eps, Momentum) + ")";
    }
}
