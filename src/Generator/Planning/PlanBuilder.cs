using System;
using System.Collections.Generic;
using ArchGen.Generator.Model;
using static ArchGen.Generator.Emitting.Code;

namespace ArchGen.Generator.Planning;

/// <summary>Thrown by a planner when the table describes a network too large to generate; the message says why.</summary>
internal sealed class TooLargeException : Exception
{
    public TooLargeException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// What every family's planner shares: it appends steps in forward order while tracking the activation's shape and
/// the cumulative stride, counts parameters and multiply-adds (checked: overflow means too large), and marks the end
/// of each resolution stage. Planners decide the numbers; the builder does the arithmetic.
/// </summary>
internal sealed class PlanBuilder
{
    /// <summary>Channels above which a model is rejected as too large (keeps all arithmetic in range).</summary>
    public const long MaxChannels = 1 << 20;

    /// <summary>Blocks above which a model is rejected as too large (keeps the generated file reasonable).</summary>
    public const int MaxBlocks = 1000;

    /// <summary>Largest accepted input side.</summary>
    public const long MaxInputSize = 1 << 16;

    private readonly ModelSpec _spec;
    private readonly List<Step> _steps = new();
    private readonly List<StageEnd> _stages = new();
    private readonly List<int> _strideOnOneByOne = new();
    private int _lastFeatureStep = -1;
    private int _stride = 1;
    private int _blocks;

    public PlanBuilder(ModelSpec spec)
    {
        _spec = spec;
        if (spec.InputSize > MaxInputSize)
        {
            throw new TooLargeException("InputSize is above " + N(MaxInputSize));
        }

        Current = new Shape(spec.InputChannels, spec.InputSize);
    }

    /// <summary>The shape of the activation the next step receives.</summary>
    public Shape Current { get; private set; }

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

    /// <summary>Checks a channel count before it is used (NaN, or more than <see cref="MaxChannels"/>, is too large).</summary>
    public static double CheckChannels(double v, string what)
    {
        if (double.IsNaN(v) || v > MaxChannels)
        {
            throw new TooLargeException(what + " would have more than " + N(MaxChannels) + " channels");
        }

        return v;
    }

    /// <summary>A convolution + BatchNorm + activation on the current activation (stem, head).</summary>
    public void Conv(string field, Placement placement, long outChannels, int kernel, int stride, Activation act, double eps = 1e-5, double momentum = 0.1)
    {
        checked
        {
            var input = Current;
            long size = OutputSize(input.Size, kernel, stride);
            long convParams = outChannels * input.Channels * kernel * kernel;
            AddFeature(
                new ConvStep(field, placement, input, new Shape(outChannels, size), convParams + (2 * outChannels), convParams * size * size, kernel, stride, act, eps, momentum),
                stride,
                row: -1);
        }
    }

    /// <summary>
    /// Whether a block expanding to <paramref name="expanded"/> channels can take the wide residual from the step
    /// before: that step is a block of stride 1 that expanded to as many channels (so the two expanded tensors have
    /// one shape), and both expand.
    /// </summary>
    public bool CanTakeWide(long expanded, bool expand) =>
        expand && _steps.Count > 0 && _steps[_steps.Count - 1] is BlockStep { Expand: true, Stride: 1 } before && before.Expanded == expanded;

    /// <summary>
    /// An inverted-residual block on the current activation; when <paramref name="takesWide"/>, the block before (see
    /// <see cref="CanTakeWide"/>) passes its expanded tensor on to be added to this block's expansion output.
    /// </summary>
    public void Block(
        string field, Placement placement, BlockLayout layout, int row, long expanded, long outChannels, int kernel, int stride, Activation act, bool expand,
        ShortcutKind shortcut, long squeeze = 0, Activation squeezeAct = Activation.None, Activation gate = Activation.None, double dropPath = 0, double eps = 1e-5, double momentum = 0.1,
        Activation projectAct = Activation.None, bool takesWide = false)
    {
        if (takesWide)
        {
            if (!CanTakeWide(expanded, expand) || shortcut != ShortcutKind.None)
            {
                throw new System.InvalidOperationException("Block " + field + " cannot take the wide residual of the step before it.");
            }

            _steps[_steps.Count - 1] = (BlockStep)_steps[_steps.Count - 1] with { PassesWide = true };
        }

        if (++_blocks > MaxBlocks)
        {
            throw new TooLargeException("the table has more than " + N(MaxBlocks) + " blocks");
        }

        checked
        {
            var input = Current;
            long inC = input.Channels, inSize = input.Size;
            long outSize = OutputSize(inSize, kernel, stride);
            long parameters = 0, macs = 0;
            void Unit(long cin, long cout, long groups, int k, long size, bool norm = true)
            {
                long weights = cout * (cin / groups) * k * k;
                parameters += weights + (norm ? 2 * cout : 0);
                macs += weights * size * size;
            }

            if (expand)
            {
                Unit(inC, expanded, 1, 1, inSize);
            }

            Unit(expanded, expanded, expanded, kernel, outSize);
            if (squeeze > 0)
            {
                parameters += (2 * expanded * squeeze) + squeeze + expanded;
                macs += 2 * expanded * squeeze;
            }

            Unit(expanded, outChannels, 1, 1, outSize);
            if (shortcut == ShortcutKind.Projection)
            {
                Unit(inC, outChannels, 1, 1, inSize);
            }

            AddFeature(
                new BlockStep(
                    field, placement, input, new Shape(outChannels, outSize), parameters, macs,
                    layout, row, expanded, kernel, stride, act, expand, shortcut, squeeze, squeezeAct, gate, dropPath, eps, momentum, projectAct, takesWide),
                stride,
                row);
        }
    }

    /// <summary>Global average pooling to 1x1.</summary>
    public void Pool(string field, Placement placement)
    {
        var input = Current;
        Add(new PoolStep(field, placement, input, new Shape(input.Channels, 1)));
    }

    /// <summary>The classifier on the pooled, flattened features.</summary>
    public void Classifier(string field, Placement placement, long hidden, Activation hiddenAct, double dropout, bool dropoutLayer)
    {
        checked
        {
            long features = Current.Channels, classes = _spec.Classes;
            long macs = hidden > 0 ? (features * hidden) + (hidden * classes) : features * classes;
            long parameters = macs + (hidden > 0 ? hidden : 0) + classes;
            Add(new ClassifierStep(field, placement, new Shape(features, 0), new Shape(classes, 0), parameters, macs, hidden, hiddenAct, dropout, dropoutLayer));
        }
    }

    /// <summary>The finished plan; the last convolution or block ends the last resolution stage.</summary>
    public LayerPlan Build(string architecture, string original, WeightInit init, double width, double dropout)
    {
        EndStage();
        long parameters = 0, macs = 0;
        checked
        {
            foreach (var step in _steps)
            {
                parameters += step.Parameters;
                macs += step.MultiplyAdds;
            }
        }

        return new LayerPlan(
            _spec, architecture, original, init, width, dropout,
            _steps.ToEquatableArray(), _stages.ToEquatableArray(), parameters, macs, _strideOnOneByOne.ToEquatableArray());
    }

    /// <summary>Output side of a convolution with padding (k - 1) / 2.</summary>
    private static long OutputSize(long size, int kernel, int stride) => ((size + (2 * ((kernel - 1) / 2)) - kernel) / stride) + 1;

    private void AddFeature(Step step, int stride, int row)
    {
        if (stride > 1)
        {
            if (Current.Size == 1 && row >= 0 && !_strideOnOneByOne.Contains(row))
            {
                _strideOnOneByOne.Add(row);
            }

            EndStage();
            _stride = checked(_stride * stride);
        }

        _lastFeatureStep = _steps.Count;
        Add(step);
    }

    private void EndStage()
    {
        if (_lastFeatureStep >= 0 && (_stages.Count == 0 || _stages[_stages.Count - 1].StepIndex != _lastFeatureStep))
        {
            var output = _steps[_lastFeatureStep].Output;
            _stages.Add(new StageEnd(_lastFeatureStep, _stride, output.Channels, output.Size));
        }
    }

    private void Add(Step step)
    {
        _steps.Add(step);
        Current = step.Output;
    }
}
