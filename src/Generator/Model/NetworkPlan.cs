using System;
using System.Collections.Generic;
using System.Globalization;

namespace ArchGen.Generator.Model;

/// <summary>How a block's input reaches its output besides the main path.</summary>
internal enum ShortcutKind
{
    /// <summary>No residual (stride 2, or Paper with in != out).</summary>
    None,

    /// <summary>Identity residual: <c>out + x</c>.</summary>
    Identity,

    /// <summary>kuangliu's 1x1 conv + BN shortcut (Cifar, stride 1, in != out).</summary>
    Projection,
}

/// <summary>One line of the layer table: a state_dict prefix with its shapes and costs for one image.</summary>
internal sealed record LayerLine(string Name, string Kind, string InputShape, string OutputShape, long Parameters, long MultiplyAdds);

/// <summary>One inverted-residual block with every number resolved.</summary>
/// <param name="Index">Index inside <c>features</c> (Paper, 1-based after the stem) or <c>layers</c> (Cifar, 0-based).</param>
/// <param name="Row">Index of the <c>[Bottleneck]</c> row it came from.</param>
internal sealed record BlockPlan(
    int Index,
    int Row,
    int Expansion,
    long Inp,
    long Hidden,
    long Oup,
    int Stride,
    bool HasExpand,
    ShortcutKind Shortcut,
    long InSize,
    long OutSize);

/// <summary>The network a <see cref="ModelSpec"/> describes, with all channel counts, map sizes and costs resolved.</summary>
internal sealed class NetworkPlan
{
    /// <summary>Channels above which a model is rejected as too large (keeps all arithmetic in range).</summary>
    public const long MaxChannels = 1 << 20;

    /// <summary>Blocks above which a model is rejected as too large (keeps the generated file reasonable).</summary>
    public const long MaxBlocks = 1000;

    /// <summary>Largest accepted input side.</summary>
    public const long MaxInputSize = 1 << 16;

    public ModelSpec Spec { get; init; } = null!;

    public long StemChannels { get; init; }

    public int StemStride { get; init; }

    public long StemOutSize { get; init; }

    public IReadOnlyList<BlockPlan> Blocks { get; init; } = null!;

    public long LastChannels { get; init; }

    public long HeadChannels { get; init; }

    /// <summary>Side of the final feature map, before global pooling.</summary>
    public long FinalSize { get; init; }

    public IReadOnlyList<LayerLine> Layers { get; init; } = null!;

    /// <summary>Rows whose stride-2 first block acts on a 1x1 map.</summary>
    public IReadOnlyList<int> StrideOnOneByOneRows { get; init; } = null!;

    public long ParameterCount { get; init; }

    public long MultiplyAdds { get; init; }

    /// <summary>torchvision's <c>_make_divisible(v, 8)</c>: nearest multiple of 8, at least 8, never more than 10% below v.</summary>
    public static long MakeDivisible(double v, int divisor = 8)
    {
        long newV = Math.Max(divisor, (long)Math.Floor(v + (divisor / 2.0)) / divisor * divisor);
        if (newV < 0.9 * v)
        {
            newV += divisor;
        }

        return newV;
    }

    /// <summary>Resolves the network, or returns null with a reason when it is too large to build or count. Call only on a spec whose values passed validation.</summary>
    public static NetworkPlan? TryCreate(ModelSpec spec, out string? tooLarge)
    {
        try
        {
            return Create(spec, out tooLarge);
        }
        catch (OverflowException)
        {
            tooLarge = "its parameter or multiply-add count does not fit in a 64-bit integer";
            return null;
        }
    }

    private static NetworkPlan? Create(ModelSpec spec, out string? tooLarge)
    {
        checked
        {
            tooLarge = null;
            bool paper = spec.Flavor == Flavor.Paper;
            double alpha = spec.Width;
            bool scale = paper || alpha != 1.0;

            if (spec.InputSize > MaxInputSize)
            {
                tooLarge = "InputSize is above " + MaxInputSize.ToString(CultureInfo.InvariantCulture);
                return null;
            }

            long blocksTotal = 0;
            foreach (var row in spec.Rows)
            {
                blocksTotal += row.N;
            }

            if (blocksTotal > MaxBlocks)
            {
                tooLarge = "the table has " + blocksTotal.ToString(CultureInfo.InvariantCulture) + " blocks, more than " + MaxBlocks.ToString(CultureInfo.InvariantCulture);
                return null;
            }

            long Channels(double raw, string what) => Scaled(scale ? raw * alpha : raw, what);

            long Scaled(double v, string what)
            {
                if (double.IsNaN(v) || v > MaxChannels)
                {
                    throw new TooLargeException(what + " would have more than " + MaxChannels.ToString(CultureInfo.InvariantCulture) + " channels");
                }

                return scale ? MakeDivisible(v) : (long)v;
            }

            try
            {
                var layers = new List<LayerLine>();
                var oneByOne = new List<int>();
                long inC = spec.InputChannels;
                long size = spec.InputSize;
                string Shape(long c, long s) => c.ToString(CultureInfo.InvariantCulture) + "x" + s.ToString(CultureInfo.InvariantCulture) + "x" + s.ToString(CultureInfo.InvariantCulture);

                long Conv(string name, long cin, long cout, int k, int stride, bool depthwise, long sizeIn)
                {
                    long sizeOut = k == 1 ? ((sizeIn - 1) / stride) + 1 : ((sizeIn + 2 - k) / stride) + 1;
                    long groups = depthwise ? cin : 1;
                    long p = cout * (cin / groups) * k * k;
                    string kind = "Conv2d " + k.ToString(CultureInfo.InvariantCulture) + "x" + k.ToString(CultureInfo.InvariantCulture)
                        + (stride != 1 ? " s" + stride.ToString(CultureInfo.InvariantCulture) : string.Empty)
                        + (depthwise ? " dw" : string.Empty);
                    layers.Add(new LayerLine(name, kind, Shape(cin, sizeIn), Shape(cout, sizeOut), p, p * sizeOut * sizeOut));
                    return sizeOut;
                }

                void Bn(string name, long c, long s, string activation)
                {
                    layers.Add(new LayerLine(name, "BatchNorm2d" + activation, Shape(c, s), Shape(c, s), 2 * c, 0));
                }

                string act = paper ? " + ReLU6" : " + ReLU";

                // Stem.
                long stemC = Channels(spec.StemChannels, "the stem");
                int stemStride = paper ? 2 : 1;
                string stemConv = paper ? "features.0.0" : "conv1";
                string stemBn = paper ? "features.0.1" : "bn1";
                size = Conv(stemConv, inC, stemC, 3, stemStride, false, size);
                Bn(stemBn, stemC, size, act);
                long stemSize = size;
                inC = stemC;

                // Blocks.
                var blocks = new List<BlockPlan>();
                int index = paper ? 1 : 0;
                for (int r = 0; r < spec.Rows.Length; r++)
                {
                    var row = spec.Rows[r];
                    long oup = Channels(row.C, "row " + (r + 1).ToString(CultureInfo.InvariantCulture));
                    for (int i = 0; i < row.N; i++)
                    {
                        int stride = i == 0 ? row.S : 1;
                        if (i == 0 && stride == 2 && size == 1)
                        {
                            oneByOne.Add(r);
                        }

                        long hidden = inC * row.T;
                        if (hidden > MaxChannels)
                        {
                            throw new TooLargeException("row " + (r + 1).ToString(CultureInfo.InvariantCulture) + " would have a hidden layer of more than " + MaxChannels.ToString(CultureInfo.InvariantCulture) + " channels");
                        }

                        bool expand = !paper || row.T != 1;
                        var shortcut = stride != 1 ? ShortcutKind.None
                            : inC == oup ? ShortcutKind.Identity
                            : paper ? ShortcutKind.None : ShortcutKind.Projection;
                        long inSize = size;
                        string prefix = (paper ? "features." : "layers.") + index.ToString(CultureInfo.InvariantCulture) + ".";
                        if (paper)
                        {
                            int j = 0;
                            string Conv2(int k) => prefix + "conv." + k.ToString(CultureInfo.InvariantCulture);
                            if (expand)
                            {
                                Conv(Conv2(j) + ".0", inC, hidden, 1, 1, false, size);
                                Bn(Conv2(j) + ".1", hidden, size, act);
                                j++;
                            }

                            size = Conv(Conv2(j) + ".0", hidden, hidden, 3, stride, true, size);
                            Bn(Conv2(j) + ".1", hidden, size, act);
                            Conv(Conv2(j + 1), hidden, oup, 1, 1, false, size);
                            Bn(Conv2(j + 2), oup, size, string.Empty);
                        }
                        else
                        {
                            Conv(prefix + "conv1", inC, hidden, 1, 1, false, size);
                            Bn(prefix + "bn1", hidden, size, act);
                            long outSize = Conv(prefix + "conv2", hidden, hidden, 3, stride, true, size);
                            Bn(prefix + "bn2", hidden, outSize, act);
                            Conv(prefix + "conv3", hidden, oup, 1, 1, false, outSize);
                            Bn(prefix + "bn3", oup, outSize, string.Empty);
                            if (shortcut == ShortcutKind.Projection)
                            {
                                Conv(prefix + "shortcut.0", inC, oup, 1, 1, false, size);
                                Bn(prefix + "shortcut.1", oup, size, string.Empty);
                            }

                            size = outSize;
                        }

                        blocks.Add(new BlockPlan(index, r, row.T, inC, hidden, oup, stride, expand, shortcut, inSize, size));
                        inC = oup;
                        index++;
                    }
                }

                // Head.
                long headC = scale
                    ? Scaled(spec.HeadChannels * Math.Max(1.0, alpha), "the head")
                    : spec.HeadChannels;
                string headConv = paper ? "features." + index.ToString(CultureInfo.InvariantCulture) + ".0" : "conv2";
                string headBn = paper ? "features." + index.ToString(CultureInfo.InvariantCulture) + ".1" : "bn2";
                long lastC = inC;
                Conv(headConv, lastC, headC, 1, 1, false, size);
                Bn(headBn, headC, size, act);

                string pool = paper ? "AdaptiveAvgPool2d 1" : "AvgPool2d " + size.ToString(CultureInfo.InvariantCulture);
                layers.Add(new LayerLine("pool", pool, Shape(headC, size), Shape(headC, 1), 0, 0));
                string hc = headC.ToString(CultureInfo.InvariantCulture);
                string classes = spec.Classes.ToString(CultureInfo.InvariantCulture);
                if (paper)
                {
                    layers.Add(new LayerLine("classifier.0", "Dropout " + spec.EffectiveDropout.ToString("R", CultureInfo.InvariantCulture), hc, hc, 0, 0));
                }

                long linearParams = (headC * spec.Classes) + spec.Classes;
                layers.Add(new LayerLine(paper ? "classifier.1" : "linear", "Linear", hc, classes, linearParams, headC * spec.Classes));

                long parameters = 0, macs = 0;
                foreach (var l in layers)
                {
                    parameters += l.Parameters;
                    macs += l.MultiplyAdds;
                }

                return new NetworkPlan
                {
                    Spec = spec,
                    StemChannels = stemC,
                    StemStride = stemStride,
                    StemOutSize = stemSize,
                    Blocks = blocks,
                    LastChannels = lastC,
                    HeadChannels = headC,
                    FinalSize = size,
                    Layers = layers,
                    StrideOnOneByOneRows = oneByOne,
                    ParameterCount = parameters,
                    MultiplyAdds = macs,
                };
            }
            catch (TooLargeException e)
            {
                tooLarge = e.Message;
                return null;
            }
        }
    }

    private sealed class TooLargeException : Exception
    {
        public TooLargeException(string message)
            : base(message)
        {
        }
    }
}
