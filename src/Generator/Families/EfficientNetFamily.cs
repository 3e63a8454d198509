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

/// <summary><c>[EfficientNet]</c>'s own named arguments.</summary>
internal sealed record EfficientNetOptions(double Width, double Depth, int StemChannels, double Dropout, double StochasticDepth) : FamilyOptions;

/// <summary>A row of the EfficientNet table: <c>[MBConv(t, k, c, n, s)]</c>.</summary>
internal sealed record MBConvRow(int T, int K, int C, int N, int S) : Row;

/// <summary>
/// EfficientNet (Tan &amp; Le 2019) from its <c>[MBConv(t, k, c, n, s)]</c> table, as torchvision 0.14's
/// <c>efficientnet.py</c> builds B0–B7: channels scaled by the width and rounded with <c>_make_divisible(·, 8)</c>,
/// ceil(n · depth) layers a row, each row a <c>features.N</c> stage; SiLU; an expansion to
/// <c>_make_divisible(in · t, 8)</c> when that differs from the input; squeeze-and-excitation to max(1, in / 4) with
/// SiLU and sigmoid; identity residual when stride 1 and in == out, after stochastic depth whose rate grows linearly
/// with the block's index to <c>StochasticDepth</c>; a last 1x1 convolution to 4x the last row's channels;
/// classifier dropout, Linear.
/// </summary>
internal sealed class EfficientNetFamily : Family<EfficientNetOptions, MBConvRow>
{
    public override string Name => "EfficientNet";

    public override string RowName => "MBConv";

    public override ImmutableArray<string> RowArguments { get; } = ImmutableArray.Create("t", "k", "c", "n", "s");

    protected override EfficientNetOptions DefaultOptions { get; } = new(Width: 1.0, Depth: 1.0, StemChannels: 32, Dropout: 0.2, StochasticDepth: 0.2);

    protected override EfficientNetOptions With(EfficientNetOptions options, string name, object value, ArgumentReader reader) => name switch
    {
        "Width" => options with { Width = reader.ToDouble(value) },
        "Depth" => options with { Depth = reader.ToDouble(value) },
        "StemChannels" => options with { StemChannels = reader.ToInt(value) },
        "Dropout" => options with { Dropout = reader.ToDouble(value) },
        "StochasticDepth" => options with { StochasticDepth = reader.ToDouble(value) },
        _ => options,
    };

    protected override MBConvRow Read(ImmutableArray<TypedConstant> a, ArgumentReader r) => new(r.Int(a[0]), r.Int(a[1]), r.Int(a[2]), r.Int(a[3]), r.Int(a[4]));

    protected override void Check(EfficientNetOptions o, IReadOnlyList<MBConvRow> rows, Checks checks)
    {
        checks.Width(o.Width);
        checks.AtLeastOne(o.StemChannels, Diagnostics.StemChannelsOutOfRange, "StemChannels");
        checks.Dropout(o.Dropout);
        checks.Argument(o.Depth > 0 && Checks.Finite(o.Depth), Diagnostics.DepthOutOfRange, "Depth", D(o.Depth));
        checks.Argument(o.StochasticDepth >= 0 && o.StochasticDepth < 1, Diagnostics.StochasticDepthOutOfRange, "StochasticDepth", D(o.StochasticDepth));
        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            checks.Expansion(r, "t", row.T);
            checks.Kernel(r, row.K);
            checks.Channels(r, row.C);
            checks.Repeats(r, row.N);
            checks.Stride(r, row.S);
        }
    }

    protected override LayerPlan Plan(ModelSpec spec, EfficientNetOptions o, IReadOnlyList<MBConvRow> rows)
    {
        var b = new PlanBuilder(spec);
        long Adjust(double channels, string what) => PlanBuilder.MakeDivisible(PlanBuilder.CheckChannels(channels, what));

        var layers = new int[rows.Count];
        long total = 0;
        for (int r = 0; r < rows.Count; r++)
        {
            double n = Math.Ceiling(rows[r].N * o.Depth);
            if (n > PlanBuilder.MaxBlocks)
            {
                throw new TooLargeException("row " + N(r + 1) + " would have more than " + N(PlanBuilder.MaxBlocks) + " layers");
            }

            layers[r] = (int)n;
            total += layers[r];
        }

        b.Conv("Stem", Placement.At("features.0"), Adjust(o.StemChannels * o.Width, "the stem"), 3, 2, Activation.SiLU);
        int block = 0;
        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            string name = "row " + N(r + 1);
            long outChannels = Adjust(row.C * o.Width, name);
            for (int i = 0; i < layers[r]; i++)
            {
                long inChannels = b.Current.Channels;
                long expanded = Adjust((double)inChannels * row.T, name + "'s expansion");
                int stride = i == 0 ? row.S : 1;
                var shortcut = stride == 1 && inChannels == outChannels ? ShortcutKind.Identity : ShortcutKind.None;
                b.Block(
                    "Block" + N(block + 1), Placement.At("features." + N(r + 1) + "." + N(i)), BlockLayout.TorchvisionEfficientNet, r,
                    expanded, outChannels, row.K, stride, Activation.SiLU, expand: expanded != inChannels, shortcut,
                    squeeze: Math.Max(1, inChannels / 4), Activation.SiLU, Activation.Sigmoid, dropPath: o.StochasticDepth * block / total);
                block++;
            }
        }

        b.Conv("Head", Placement.At("features." + N(rows.Count + 1)), (long)PlanBuilder.CheckChannels(4.0 * b.Current.Channels, "the last convolution"), 1, 1, Activation.SiLU);
        b.Pool("Pool", Placement.At("avgpool"));
        b.Classifier("Classifier", Placement.At("classifier"), 0, Activation.None, o.Dropout, dropoutLayer: true);
        return b.Build("EfficientNet", "torchvision's efficientnet_b0 … b7", WeightInit.EfficientNet, o.Width, o.Dropout);
    }
}
