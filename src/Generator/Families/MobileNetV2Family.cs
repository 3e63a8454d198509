using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using ArchGen.Generator.Model;
using ArchGen.Generator.Parsing;
using ArchGen.Generator.Planning;
using ArchGen.Generator.Validation;
using Microsoft.CodeAnalysis;
using static ArchGen.Generator.Emitting.Code;

namespace ArchGen.Generator.Families;

/// <summary><c>[MobileNetV2]</c>'s own named arguments.</summary>
internal sealed record MobileNetV2Options(
    MobileNetV2Flavor Flavor, double Width, int StemChannels, int HeadChannels, double Dropout, bool LinearBottleneck, ShortcutPlacement Shortcut) : FamilyOptions;

/// <summary>A row of the MobileNetV2 table: <c>[Bottleneck(t, c, n, s)]</c>.</summary>
internal sealed record BottleneckRow(int T, int C, int N, int S) : Row;

/// <summary>
/// MobileNetV2 (Sandler et al. 2018) from its <c>[Bottleneck(t, c, n, s)]</c> table, in two flavors:
/// <list type="bullet">
/// <item>Paper, torchvision's <c>mobilenet_v2</c>: stride-2 stem, ReLU6, no expansion when t = 1, identity residual
/// only when stride 1 and in == out, channels rounded to multiples of 8, head scaled only when width &gt; 1.</item>
/// <item>Cifar, kuangliu/pytorch-cifar's: stride-1 stem, ReLU, expansion in every block, a shortcut on every stride-1
/// block (1x1 conv + BN when channels change), channels rounded only when width != 1, no dropout.</item>
/// </list>
/// Either flavor takes the paper's two ablations: <c>LinearBottleneck = false</c> puts the block's activation after
/// the projection (Figure 6a); <c>Shortcut = ShortcutPlacement.None</c> removes every residual and
/// <c>ShortcutPlacement.Expansion</c> joins the wide expansions instead of the bottlenecks (Figure 6b).
/// </summary>
internal sealed class MobileNetV2Family : Family<MobileNetV2Options, BottleneckRow>
{
    public override string Name => "MobileNetV2";

    public override string RowName => "Bottleneck";

    public override ImmutableArray<string> RowArguments { get; } = ImmutableArray.Create("t", "c", "n", "s");

    protected override MobileNetV2Options DefaultOptions { get; } = new(
        MobileNetV2Flavor.Paper, Width: 1.0, StemChannels: 32, HeadChannels: 1280, Dropout: -1, LinearBottleneck: true, ShortcutPlacement.Bottleneck);

    protected override MobileNetV2Options With(MobileNetV2Options options, string name, object value, ArgumentReader reader) => name switch
    {
        "Flavor" => options with { Flavor = (MobileNetV2Flavor)reader.ToInt(value) },
        "Width" => options with { Width = reader.ToDouble(value) },
        "StemChannels" => options with { StemChannels = reader.ToInt(value) },
        "HeadChannels" => options with { HeadChannels = reader.ToInt(value) },
        "Dropout" => options with { Dropout = reader.ToDouble(value) },
        "LinearBottleneck" => options with { LinearBottleneck = reader.ToBool(value) },
        "Shortcut" => options with { Shortcut = (ShortcutPlacement)reader.ToInt(value) },
        _ => options,
    };

    protected override BottleneckRow Read(ImmutableArray<TypedConstant> a, ArgumentReader r) => new(r.Int(a[0]), r.Int(a[1]), r.Int(a[2]), r.Int(a[3]));

    protected override void Check(MobileNetV2Options o, IReadOnlyList<BottleneckRow> rows, Checks checks)
    {
        checks.Argument(o.Flavor is MobileNetV2Flavor.Paper or MobileNetV2Flavor.Cifar, Diagnostics.FlavorOutOfRange, "Flavor", N((int)o.Flavor));
        checks.Width(o.Width);
        checks.AtLeastOne(o.StemChannels, Diagnostics.StemChannelsOutOfRange, "StemChannels");
        checks.AtLeastOne(o.HeadChannels, Diagnostics.HeadChannelsOutOfRange, "HeadChannels");
        checks.Argument(o.Dropout < 1 && !double.IsNaN(o.Dropout), Diagnostics.DropoutOutOfRange, "Dropout", D(o.Dropout), "less than 1 (negative means the flavor's default)");
        checks.Argument(o.Shortcut is ShortcutPlacement.Bottleneck or ShortcutPlacement.None or ShortcutPlacement.Expansion, Diagnostics.ShortcutOutOfRange, "Shortcut", N((int)o.Shortcut));
        for (int r = 0; r < rows.Count; r++)
        {
            checks.Expansion(r, "t", rows[r].T);
            checks.Channels(r, rows[r].C);
            checks.Repeats(r, rows[r].N);
            checks.Stride(r, rows[r].S);
        }
    }

    protected override LayerPlan Plan(ModelSpec spec, MobileNetV2Options o, IReadOnlyList<BottleneckRow> rows)
    {
        bool paper = o.Flavor == MobileNetV2Flavor.Paper;
        bool scale = paper || o.Width != 1.0;
        var act = paper ? Activation.ReLU6 : Activation.ReLU;
        var b = new PlanBuilder(spec);

        long Channels(double raw, string what)
        {
            double v = PlanBuilder.CheckChannels(scale ? raw * o.Width : raw, what);
            return scale ? PlanBuilder.MakeDivisible(v) : (long)v;
        }

        b.Conv("Stem", paper ? Placement.At("features.0") : Placement.Flat("conv1", "bn1"), Channels(o.StemChannels, "the stem"), 3, paper ? 2 : 1, act);

        int index = paper ? 1 : 0;
        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            long outChannels = Channels(row.C, "row " + N(r + 1));
            for (int i = 0; i < row.N; i++)
            {
                long inChannels = b.Current.Channels;
                long hidden = (long)PlanBuilder.CheckChannels((double)inChannels * row.T, "row " + N(r + 1) + "'s hidden layer");
                int stride = i == 0 ? row.S : 1;
                bool expand = !paper || row.T != 1;
                var shortcut = stride != 1 || o.Shortcut != ShortcutPlacement.Bottleneck ? ShortcutKind.None
                    : inChannels == outChannels ? ShortcutKind.Identity
                    : paper ? ShortcutKind.None : ShortcutKind.Projection;
                string path = (paper ? "features." : "layers.") + N(index);
                b.Block(
                    "Block" + N(index), Placement.At(path), paper ? BlockLayout.TorchvisionMobileNetV2 : BlockLayout.Kuangliu, r,
                    hidden, outChannels, 3, stride, act, expand, shortcut,
                    projectAct: o.LinearBottleneck ? Activation.None : act,
                    takesWide: o.Shortcut == ShortcutPlacement.Expansion && b.CanTakeWide(hidden, expand));
                index++;
            }
        }

        // torchvision scales the head only when the width is above 1.
        long head = scale ? PlanBuilder.MakeDivisible(PlanBuilder.CheckChannels(o.HeadChannels * Math.Max(1.0, o.Width), "the head")) : o.HeadChannels;
        b.Conv("Head", paper ? Placement.At("features." + N(index)) : Placement.Flat("conv2", "bn2"), head, 1, 1, act);
        b.Pool("Pool", Placement.Unregistered);
        double dropout = o.Dropout >= 0 ? o.Dropout : paper ? 0.2 : 0.0;
        b.Classifier("Classifier", paper ? Placement.At("classifier") : Placement.Flat("linear"), 0, Activation.None, dropout, dropoutLayer: paper);
        string ablations = (o.LinearBottleneck ? string.Empty : ", " + act + " after projection")
            + o.Shortcut switch { ShortcutPlacement.None => ", no residuals", ShortcutPlacement.Expansion => ", residuals between expansions", _ => string.Empty };
        return b.Build(
            (paper ? "MobileNetV2, Paper flavor" : "MobileNetV2, Cifar flavor") + ablations,
            paper ? "torchvision's mobilenet_v2" : "kuangliu/pytorch-cifar's MobileNetV2",
            paper ? WeightInit.Torchvision : WeightInit.PyTorchDefault,
            o.Width,
            dropout);
    }

    protected override void CheckPlan(MobileNetV2Options o, LayerPlan plan, Checks checks)
    {
        bool joined = false;
        foreach (var step in plan.Steps)
        {
            joined |= step is BlockStep { TakesWide: true };
        }

        checks.Argument(o.Shortcut != ShortcutPlacement.Expansion || joined, Diagnostics.WideResidualJoinsNothing, "Shortcut");
    }
}
