using System.Collections.Generic;
using System.Collections.Immutable;
using ArchGen.Generator.Model;
using ArchGen.Generator.Parsing;
using ArchGen.Generator.Planning;
using ArchGen.Generator.Validation;
using Microsoft.CodeAnalysis;
using static ArchGen.Generator.Emitting.Code;

namespace ArchGen.Generator.Families;

/// <summary><c>[MobileNetV3]</c>'s own named arguments.</summary>
internal sealed record MobileNetV3Options(double Width, int StemChannels, int HeadChannels, double Dropout) : FamilyOptions;

/// <summary>A row of the MobileNetV3 table: <c>[Bneck(k, exp, c, se, nl, s)]</c>.</summary>
internal sealed record BneckRow(int K, int Exp, int C, bool Se, Nonlinearity Nl, int S) : Row;

/// <summary>
/// MobileNetV3 (Howard et al. 2019) from its <c>[Bneck(k, exp, c, se, nl, s)]</c> table, as torchvision 0.14's
/// <c>mobilenetv3.py</c> builds it: every channel count (stem, exp, c, the classifier's hidden width) scaled by the
/// width and rounded with <c>_make_divisible(·, 8)</c>; hard-swish stem; an expansion only when exp differs from
/// the input; squeeze-and-excitation to <c>_make_divisible(exp / 4, 8)</c> with ReLU and hard-sigmoid; identity
/// residual when stride 1 and in == out; a last 1x1 convolution to 6x the last row's channels; BatchNorm eps 0.001,
/// momentum 0.01; classifier Linear, hard-swish, dropout, Linear.
/// </summary>
internal sealed class MobileNetV3Family : Family<MobileNetV3Options, BneckRow>
{
    private const double Eps = 0.001;
    private const double Momentum = 0.01;

    public override string Name => "MobileNetV3";

    public override string RowName => "Bneck";

    public override ImmutableArray<string> RowArguments { get; } = ImmutableArray.Create("k", "exp", "c", "se", "nl", "s");

    protected override MobileNetV3Options DefaultOptions { get; } = new(Width: 1.0, StemChannels: 16, HeadChannels: 1280, Dropout: 0.2);

    protected override MobileNetV3Options With(MobileNetV3Options options, string name, object value, ArgumentReader reader) => name switch
    {
        "Width" => options with { Width = reader.ToDouble(value) },
        "StemChannels" => options with { StemChannels = reader.ToInt(value) },
        "HeadChannels" => options with { HeadChannels = reader.ToInt(value) },
        "Dropout" => options with { Dropout = reader.ToDouble(value) },
        _ => options,
    };

    protected override BneckRow Read(ImmutableArray<TypedConstant> a, ArgumentReader r) =>
        new(r.Int(a[0]), r.Int(a[1]), r.Int(a[2]), r.Bool(a[3]), (Nonlinearity)r.Int(a[4]), r.Int(a[5]));

    protected override void Check(MobileNetV3Options o, IReadOnlyList<BneckRow> rows, Checks checks)
    {
        checks.Width(o.Width);
        checks.AtLeastOne(o.StemChannels, Diagnostics.StemChannelsOutOfRange, "StemChannels");
        checks.AtLeastOne(o.HeadChannels, Diagnostics.HeadChannelsOutOfRange, "HeadChannels");
        checks.Dropout(o.Dropout);
        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            checks.Kernel(r, row.K);
            checks.Expansion(r, "exp", row.Exp);
            checks.Row(r, row.Nl is Nonlinearity.ReLU or Nonlinearity.HardSwish, Diagnostics.NonlinearityOutOfRange, "nl", N((int)row.Nl));
            checks.Channels(r, row.C);
            checks.Stride(r, row.S);
        }
    }

    protected override LayerPlan Plan(ModelSpec spec, MobileNetV3Options o, IReadOnlyList<BneckRow> rows)
    {
        var b = new PlanBuilder(spec);
        long Adjust(double channels, string what) => PlanBuilder.MakeDivisible(PlanBuilder.CheckChannels(channels * o.Width, what));

        b.Conv("Stem", Placement.At("features.0"), Adjust(o.StemChannels, "the stem"), 3, 2, Activation.HardSwish, Eps, Momentum);
        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            string name = "row " + N(r + 1);
            long inChannels = b.Current.Channels;
            long expanded = Adjust(row.Exp, name + "'s expansion");
            long outChannels = Adjust(row.C, name);
            var shortcut = row.S == 1 && inChannels == outChannels ? ShortcutKind.Identity : ShortcutKind.None;
            long squeeze = row.Se ? PlanBuilder.MakeDivisible(expanded / 4) : 0;
            string index = N(r + 1);
            b.Block(
                "Block" + index, Placement.At("features." + index), BlockLayout.TorchvisionMobileNetV3, r,
                expanded, outChannels, row.K, row.S, row.Nl == Nonlinearity.HardSwish ? Activation.HardSwish : Activation.ReLU, expand: expanded != inChannels, shortcut,
                squeeze, Activation.ReLU, Activation.HardSigmoid, dropPath: 0, Eps, Momentum);
        }

        long head = (long)PlanBuilder.CheckChannels(6.0 * b.Current.Channels, "the last convolution");
        b.Conv("Head", Placement.At("features." + N(rows.Count + 1)), head, 1, 1, Activation.HardSwish, Eps, Momentum);
        b.Pool("Pool", Placement.At("avgpool"));
        b.Classifier("Classifier", Placement.At("classifier"), Adjust(o.HeadChannels, "the classifier's hidden layer"), Activation.HardSwish, o.Dropout, dropoutLayer: true);
        return b.Build("MobileNetV3", "torchvision's mobilenet_v3", WeightInit.Torchvision, o.Width, o.Dropout);
    }
}
