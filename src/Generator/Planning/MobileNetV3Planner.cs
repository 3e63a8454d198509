using ArchGen.Generator.Model;

namespace ArchGen.Generator.Planning;

/// <summary>
/// MobileNetV3 (Howard et al. 2019) from its <c>[Bneck(k, exp, c, se, nl, s)]</c> table, as torchvision 0.14's
/// <c>mobilenetv3.py</c> builds it: every channel count (stem, exp, c, the classifier's hidden width) scaled by the
/// width and rounded with <c>_make_divisible(·, 8)</c>; hard-swish stem; an expansion only when exp differs from
/// the input; squeeze-and-excitation to <c>_make_divisible(exp / 4, 8)</c> with ReLU and hard-sigmoid; identity
/// residual when stride 1 and in == out; a last 1x1 convolution to 6x the last row's channels; BatchNorm eps 0.001,
/// momentum 0.01; classifier Linear, hard-swish, dropout, Linear.
/// </summary>
internal static class MobileNetV3Planner
{
    private const double Eps = 0.001;
    private const double Momentum = 0.01;

    public static LayerPlan Plan(ModelSpec spec)
    {
        var b = new PlanBuilder(spec);
        long Adjust(double channels, string what) => PlanBuilder.MakeDivisible(PlanBuilder.CheckChannels(channels * spec.Width, what));

        b.Conv("Stem", Placement.At("features.0"), Adjust(spec.StemChannels, "the stem"), 3, 2, Activation.HardSwish, Eps, Momentum);
        for (int r = 0; r < spec.Rows.Length; r++)
        {
            var row = spec.Rows[r];
            string name = "row " + PlanBuilder.I(r + 1);
            long inChannels = b.Current.Channels;
            long expanded = Adjust(row.Exp, name + "'s expansion");
            long outChannels = Adjust(row.C, name);
            var shortcut = row.S == 1 && inChannels == outChannels ? ShortcutKind.Identity : ShortcutKind.None;
            long squeeze = row.Se ? PlanBuilder.MakeDivisible(expanded / 4) : 0;
            string index = PlanBuilder.I(r + 1);
            b.Block(
                "Block" + index, Placement.At("features." + index), BlockLayout.TorchvisionMobileNetV3, r,
                expanded, outChannels, row.K, row.S, row.Nl == 1 ? Activation.HardSwish : Activation.ReLU, expand: expanded != inChannels, shortcut,
                squeeze, Activation.ReLU, Activation.HardSigmoid, dropPath: 0, Eps, Momentum);
        }

        long head = (long)PlanBuilder.CheckChannels(6.0 * b.Current.Channels, "the last convolution");
        b.Conv("Head", Placement.At("features." + PlanBuilder.I(spec.Rows.Length + 1)), head, 1, 1, Activation.HardSwish, Eps, Momentum);
        b.Pool("Pool", Placement.At("avgpool"));
        b.Classifier("Classifier", Placement.At("classifier"), Adjust(spec.HeadChannels, "the classifier's hidden layer"), Activation.HardSwish, spec.Dropout, dropoutLayer: true);
        return b.Build("MobileNetV3", "torchvision's mobilenet_v3", WeightInit.Torchvision, spec.Dropout);
    }
}
