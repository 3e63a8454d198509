using System;
using ArchGen.Generator.Model;

namespace ArchGen.Generator.Planning;

/// <summary>
/// MobileNetV2 (Sandler et al. 2018) from its <c>[Bottleneck(t, c, n, s)]</c> table, in two flavors:
/// <list type="bullet">
/// <item>Paper, torchvision's <c>mobilenet_v2</c>: stride-2 stem, ReLU6, no expansion when t = 1, identity residual
/// only when stride 1 and in == out, channels rounded to multiples of 8, head scaled only when width &gt; 1.</item>
/// <item>Cifar, kuangliu/pytorch-cifar's: stride-1 stem, ReLU, expansion in every block, a shortcut on every stride-1
/// block (1x1 conv + BN when channels change), channels rounded only when width != 1, no dropout.</item>
/// </list>
/// </summary>
internal static class MobileNetV2Planner
{
    public static LayerPlan Plan(ModelSpec spec)
    {
        bool paper = spec.Flavor == MobileNetV2Flavor.Paper;
        bool scale = paper || spec.Width != 1.0;
        double width = spec.Width;
        var act = paper ? Activation.ReLU6 : Activation.ReLU;
        var b = new PlanBuilder(spec);

        long Channels(double raw, string what)
        {
            double v = PlanBuilder.CheckChannels(scale ? raw * width : raw, what);
            return scale ? PlanBuilder.MakeDivisible(v) : (long)v;
        }

        b.Conv("Stem", paper ? Placement.At("features.0") : Placement.Flat("conv1", "bn1"), Channels(spec.StemChannels, "the stem"), 3, paper ? 2 : 1, act);

        int index = paper ? 1 : 0;
        for (int r = 0; r < spec.Rows.Length; r++)
        {
            var row = spec.Rows[r];
            long outChannels = Channels(row.C, "row " + PlanBuilder.I(r + 1));
            for (int i = 0; i < row.N; i++)
            {
                long inChannels = b.Current.Channels;
                long hidden = (long)PlanBuilder.CheckChannels((double)inChannels * row.T, "row " + PlanBuilder.I(r + 1) + "'s hidden layer");
                int stride = i == 0 ? row.S : 1;
                var shortcut = stride != 1 ? ShortcutKind.None
                    : inChannels == outChannels ? ShortcutKind.Identity
                    : paper ? ShortcutKind.None : ShortcutKind.Projection;
                string path = (paper ? "features." : "layers.") + PlanBuilder.I(index);
                b.Block(
                    "Block" + PlanBuilder.I(index), Placement.At(path), paper ? BlockLayout.TorchvisionMobileNetV2 : BlockLayout.Kuangliu, r,
                    hidden, outChannels, 3, stride, act, expand: !paper || row.T != 1, shortcut);
                index++;
            }
        }

        // torchvision scales the head only when the width is above 1.
        long head = scale ? PlanBuilder.MakeDivisible(PlanBuilder.CheckChannels(spec.HeadChannels * Math.Max(1.0, width), "the head")) : spec.HeadChannels;
        b.Conv("Head", paper ? Placement.At("features." + PlanBuilder.I(index)) : Placement.Flat("conv2", "bn2"), head, 1, 1, act);
        b.Pool("Pool", Placement.Unregistered);
        double dropout = spec.Dropout >= 0 ? spec.Dropout : paper ? 0.2 : 0.0;
        b.Classifier("Classifier", paper ? Placement.At("classifier") : Placement.Flat("linear"), 0, Activation.None, dropout, dropoutLayer: paper);
        return b.Build(
            paper ? "MobileNetV2, Paper flavor" : "MobileNetV2, Cifar flavor",
            paper ? "torchvision's mobilenet_v2" : "kuangliu/pytorch-cifar's MobileNetV2",
            paper ? WeightInit.Torchvision : WeightInit.PyTorchDefault,
            dropout);
    }
}
