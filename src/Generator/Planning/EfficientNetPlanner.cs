using System;
using ArchGen.Generator.Model;

namespace ArchGen.Generator.Planning;

/// <summary>
/// EfficientNet (Tan &amp; Le 2019) from its <c>[MBConv(t, k, c, n, s)]</c> table, as torchvision 0.14's
/// <c>efficientnet.py</c> builds B0–B7: channels scaled by the width and rounded with <c>_make_divisible(·, 8)</c>,
/// ceil(n · depth) layers a row, each row a <c>features.N</c> stage; SiLU; an expansion to
/// <c>_make_divisible(in · t, 8)</c> when that differs from the input; squeeze-and-excitation to max(1, in / 4) with
/// SiLU and sigmoid; identity residual when stride 1 and in == out, after stochastic depth whose rate grows linearly
/// with the block's index to <c>StochasticDepth</c>; a last 1x1 convolution to 4x the last row's channels;
/// classifier dropout, Linear.
/// </summary>
internal static class EfficientNetPlanner
{
    public static LayerPlan Plan(ModelSpec spec)
    {
        var b = new PlanBuilder(spec);
        long Adjust(double channels, string what) => PlanBuilder.MakeDivisible(PlanBuilder.CheckChannels(channels, what));

        var layers = new int[spec.Rows.Length];
        long total = 0;
        for (int r = 0; r < spec.Rows.Length; r++)
        {
            double n = Math.Ceiling(spec.Rows[r].N * spec.Depth);
            if (n > PlanBuilder.MaxBlocks)
            {
                throw new TooLargeException("row " + PlanBuilder.I(r + 1) + " would have more than " + PlanBuilder.I(PlanBuilder.MaxBlocks) + " layers");
            }

            layers[r] = (int)n;
            total += layers[r];
        }

        b.Conv("Stem", Placement.At("features.0"), Adjust(spec.StemChannels * spec.Width, "the stem"), 3, 2, Activation.SiLU);
        int block = 0;
        for (int r = 0; r < spec.Rows.Length; r++)
        {
            var row = spec.Rows[r];
            string name = "row " + PlanBuilder.I(r + 1);
            long outChannels = Adjust(row.C * spec.Width, name);
            for (int i = 0; i < layers[r]; i++)
            {
                long inChannels = b.Current.Channels;
                long expanded = Adjust((double)inChannels * row.T, name + "'s expansion");
                int stride = i == 0 ? row.S : 1;
                var shortcut = stride == 1 && inChannels == outChannels ? ShortcutKind.Identity : ShortcutKind.None;
                b.Block(
                    "Block" + PlanBuilder.I(block + 1), Placement.At("features." + PlanBuilder.I(r + 1) + "." + PlanBuilder.I(i)), BlockLayout.TorchvisionEfficientNet, r,
                    expanded, outChannels, row.K, stride, Activation.SiLU, expand: expanded != inChannels, shortcut,
                    squeeze: Math.Max(1, inChannels / 4), Activation.SiLU, Activation.Sigmoid, dropPath: spec.StochasticDepth * block / total);
                block++;
            }
        }

        b.Conv("Head", Placement.At("features." + PlanBuilder.I(spec.Rows.Length + 1)), (long)PlanBuilder.CheckChannels(4.0 * b.Current.Channels, "the last convolution"), 1, 1, Activation.SiLU);
        b.Pool("Pool", Placement.At("avgpool"));
        b.Classifier("Classifier", Placement.At("classifier"), 0, Activation.None, spec.Dropout, dropoutLayer: true);
        return b.Build("EfficientNet", "torchvision's efficientnet_b0 … b7", WeightInit.EfficientNet, spec.Dropout);
    }
}
