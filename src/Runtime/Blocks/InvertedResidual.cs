using ArchGen.Performance;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Blocks;

/// <summary>
/// The inverted residual with linear bottleneck of MobileNetV2 (Sandler et al. 2018), in every variant the generated
/// networks use: an optional 1x1 expansion, a k x k depthwise convolution, optional squeeze-and-excitation (MobileNetV3,
/// EfficientNet), a linear 1x1 projection (with an activation only in the paper's "ReLU6 in bottleneck" ablation), and
/// an identity or projection shortcut with optional stochastic depth, or, for the paper's "shortcut between expansions"
/// (<c>Shortcut = ShortcutPlacement.Expansion</c>), a residual between the expansion outputs of consecutive blocks
/// (<see cref="TakesWide"/>, <see cref="PassesWide"/>; the model's forward carries it with <see cref="Forward"/>).
/// Its forward applies the branch as PyTorch's block does (through the same container, so hooks fire where they fire
/// in PyTorch), disposing each intermediate as soon as it is used.
/// </summary>
public sealed class InvertedResidual : nn.Module<Tensor, Tensor>, IConvolutionShapes
{
    /// <summary>Whose state_dict names the block uses.</summary>
    public readonly BlockLayout Layout;

    /// <summary>1x1 expansion with BatchNorm and activation; null when the block does not expand.</summary>
    public readonly ConvBnAct? Expand;

    /// <summary>k x k depthwise convolution with BatchNorm and activation; it carries the block's stride.</summary>
    public readonly ConvBnAct Depthwise;

    /// <summary>Squeeze-and-excitation on the depthwise output, or null.</summary>
    public readonly SqueezeExcitation? SqueezeExcitation;

    /// <summary>1x1 projection with BatchNorm: linear, but for the paper's ablation, which gives it the block's activation.</summary>
    public readonly ConvBnAct Project;

    /// <summary>What is added to the branch's output.</summary>
    public readonly ShortcutKind Shortcut;

    /// <summary>The 1x1 convolution + BatchNorm of a <see cref="ShortcutKind.Projection"/> shortcut, or null.</summary>
    public readonly ConvBnAct? Projection;

    /// <summary>Drop-path on the branch before an identity residual (EfficientNet), or null.</summary>
    public readonly StochasticDepth? StochasticDepth;

    /// <summary>Whether the expansion's output has the wide residual of the block before added to it (after its activation).</summary>
    public readonly bool TakesWide;

    /// <summary>Whether this block's expanded tensor (after any wide residual was added) is the wide residual of the block after it.</summary>
    public readonly bool PassesWide;

    /// <summary>The main branch as PyTorch applies it: torchvision's <c>conv</c> / <c>block</c> container.</summary>
    readonly Sequential branch;

    /// <summary>The branch after the expansion (the same layers, not registered twice), for a block on the wide residual; else null.</summary>
    readonly Sequential? afterExpand;

    /// <summary>kuangliu's <c>shortcut</c> container (empty for identity), or null.</summary>
    readonly Sequential? shortcutPath;

    /// <summary>Builds a block from its numbers, freshly initialized (PyTorch's defaults; the model applies its initialization).</summary>
    /// <param name="layout">Whose state_dict names to use.</param>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="expandedChannels">Channels of the depthwise stage; equal to <paramref name="inChannels"/> when <paramref name="expand"/> is false.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="kernelSize">Depthwise kernel (odd).</param>
    /// <param name="stride">Depthwise stride.</param>
    /// <param name="activation">Activation after the expansion and the depthwise convolution.</param>
    /// <param name="expand">Whether there is a 1x1 expansion.</param>
    /// <param name="shortcut">What is added to the branch's output.</param>
    /// <param name="squeezeChannels">Squeeze width of the squeeze-and-excitation; 0 for none.</param>
    /// <param name="squeezeActivation">Activation inside the squeeze-and-excitation.</param>
    /// <param name="gate">Gate of the squeeze-and-excitation.</param>
    /// <param name="dropPath">Stochastic-depth probability on the residual branch (registered by the EfficientNet layout even when 0).</param>
    /// <param name="eps">BatchNorm eps.</param>
    /// <param name="momentum">BatchNorm momentum.</param>
    /// <param name="projectActivation">Activation after the projection's BatchNorm, before any residual add: <see cref="Activation.None"/> (a linear bottleneck) but in the paper's ablation.</param>
    /// <param name="takesWide">Whether the block before passes its expanded tensor, to be added to this block's expansion output (<see cref="TakesWide"/>).</param>
    /// <param name="passesWide">Whether this block passes its expanded tensor to the block after it (<see cref="PassesWide"/>; needs stride 1).</param>
    public InvertedResidual(
        BlockLayout layout, long inChannels, long expandedChannels, long outChannels, long kernelSize, long stride, Activation activation,
        bool expand, ShortcutKind shortcut = ShortcutKind.None, long squeezeChannels = 0, Activation squeezeActivation = Activation.ReLU,
        Activation gate = Activation.HardSigmoid, double dropPath = 0, double eps = 1e-5, double momentum = 0.1, Activation projectActivation = Activation.None,
        bool takesWide = false, bool passesWide = false)
        : this(
            layout,
            expand ? new ConvBnAct(inChannels, expandedChannels, 1, activation: activation, eps: eps, momentum: momentum) : null,
            new ConvBnAct(expandedChannels, expandedChannels, kernelSize, stride, groups: expandedChannels, activation: activation, eps: eps, momentum: momentum),
            squeezeChannels > 0 ? new SqueezeExcitation(expandedChannels, squeezeChannels, squeezeActivation, gate) : null,
            new ConvBnAct(expandedChannels, outChannels, 1, activation: projectActivation, eps: eps, momentum: momentum),
            shortcut,
            shortcut == ShortcutKind.Projection ? new ConvBnAct(inChannels, outChannels, 1, eps: eps, momentum: momentum) : null,
            layout == BlockLayout.TorchvisionEfficientNet ? new StochasticDepth(dropPath) : null,
            takesWide,
            passesWide)
    {
        if (!expand && expandedChannels != inChannels)
            throw new ArgumentException($"A block without expansion has as many expanded channels as inputs ({expandedChannels} != {inChannels}).");
        if (shortcut == ShortcutKind.Identity && (stride != 1 || inChannels != outChannels))
            throw new ArgumentException($"An identity shortcut needs stride 1 and as many outputs as inputs (stride {stride}, {inChannels} -> {outChannels}).");
        if (dropPath != 0 && layout != BlockLayout.TorchvisionEfficientNet)
            throw new ArgumentException("Stochastic depth is part of the EfficientNet layout only.");
        if ((takesWide || passesWide) && (!expand || shortcut != ShortcutKind.None))
            throw new ArgumentException("A block on the wide residual expands and has no bottleneck shortcut (one residual placement per network).");
        if (passesWide && stride != 1)
            throw new ArgumentException($"A block that passes its expanded tensor on has stride 1 (stride {stride}): the next block's expansion is at its output's resolution.");
    }

    InvertedResidual(BlockLayout layout, ConvBnAct? expand, ConvBnAct depthwise, SqueezeExcitation? squeezeExcitation, ConvBnAct project,
        ShortcutKind shortcut, ConvBnAct? projection, StochasticDepth? stochasticDepth, bool takesWide, bool passesWide)
        : base(nameof(InvertedResidual))
    {
        Layout = layout;
        Expand = expand;
        Depthwise = depthwise;
        SqueezeExcitation = squeezeExcitation;
        Project = project;
        Shortcut = shortcut;
        Projection = projection;
        StochasticDepth = stochasticDepth;
        TakesWide = takesWide;
        PassesWide = passesWide;

        var stages = new List<nn.Module<Tensor, Tensor>>();
        if (expand is not null) stages.Add(expand);
        stages.Add(depthwise);
        if (squeezeExcitation is not null) stages.Add(squeezeExcitation);
        if (layout == BlockLayout.TorchvisionMobileNetV2)
        {
            // torchvision's MobileNetV2 lists the projection's convolution and BatchNorm as two entries of `conv` (and the
            // ablation's activation as a third, which has no parameters, so the state_dict keys stay torchvision's).
            stages.Add(project.Conv);
            if (project.Norm is not null) stages.Add(project.Norm);
            if (project.ActivationLayer is not null) stages.Add(project.ActivationLayer);
        }
        else
        {
            stages.Add(project);
        }
        branch = new Sequential(stages.ToArray());
        if (takesWide || passesWide) afterExpand = new Sequential(stages.Skip(1).ToArray());

        if (layout == BlockLayout.Kuangliu)
        {
            if (shortcut != ShortcutKind.None)
                shortcutPath = projection is null ? new Sequential() : new Sequential(projection.Layers.ToArray());
            Register("conv1", expand?.Conv);
            Register("bn1", expand?.Norm);
            Register("conv2", depthwise.Conv);
            Register("bn2", depthwise.Norm);
            Register("conv3", project.Conv);
            Register("bn3", project.Norm);
            Register("shortcut", shortcutPath);
        }
        else
        {
            register_module(layout == BlockLayout.TorchvisionMobileNetV2 ? "conv" : "block", branch);
            Register("stochastic_depth", stochasticDepth);
        }
    }

    void Register(string name, nn.Module? module)
    {
        if (module is not null) register_module(name, module);
    }

    /// <summary>Children are registered under the layout's names in the constructor.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>kuangliu's branch is not a registered module, so it follows this block's mode explicitly.</summary>
    public override void train(bool on = true)
    {
        base.train(on);
        branch.train(on);
        afterExpand?.train(on);
    }

    /// <summary>
    /// The block with its wide residual, as the model's forward runs it: <paramref name="wide"/> holds the expanded
    /// tensor the block before passed on (null when it passes none) and is replaced by the one this block passes on
    /// (or null); the incoming one is disposed. A block on no wide residual runs its <c>forward</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The block takes a wide residual and none was given, or none is taken and one was given.</exception>
    public Tensor Forward(Tensor input, ref Tensor? wide)
    {
        if (TakesWide != wide is not null)
            throw new ArgumentException(TakesWide ? "This block adds the wide residual of the block before it, and none was given." : "This block takes no wide residual, and one was given.", nameof(wide));
        if (afterExpand is null) return forward(input);
        var output = Expanded(input, wide, out var passed);
        wide?.Dispose();
        wide = passed;
        return output;
    }

    /// <summary>The branch of a block on the wide residual: expansion, plus <paramref name="incoming"/> (out of place: the activation's gradient may need its output), then the rest.</summary>
    Tensor Expanded(Tensor input, Tensor? incoming, out Tensor? passed)
    {
        var expanded = Expand!.call(input);
        if (incoming is not null)
        {
            var sum = expanded.add(incoming, HeldScalars.One);
            expanded.Dispose();
            expanded = sum;
        }

        passed = PassesWide ? expanded.alias() : null;
        using (expanded) return afterExpand!.call(expanded);
    }

    /// <inheritdoc/>
    public long[]? Walk(long[] input, ConvolutionWalk walk)
    {
        ArgumentNullException.ThrowIfNull(walk);
        bool entering = walk.Flowing;
        var output = walk.Through(branch, input);
        if (output is null || Projection is null) return output;
        bool branchFlowing = walk.Flowing;
        walk.Flowing = entering; // the shortcut's projection sees the block's input
        var projected = walk.Through(Projection, input);
        walk.Flowing |= branchFlowing;
        return projected is null ? null : output;
    }

    /// <summary>The block's forward; a block on the wide residual run alone (as the layout check runs each layer) adds no incoming residual to its expansion.</summary>
    public override Tensor forward(Tensor input)
    {
        if (afterExpand is not null)
        {
            var result = Expanded(input, null, out var passed);
            passed?.Dispose();
            return result;
        }

        var output = branch.call(input);
        switch (Shortcut)
        {
            case ShortcutKind.Identity when shortcutPath is not null:
            case ShortcutKind.Projection:
                using (var shortcut = shortcutPath!.call(input))
                {
                    return Residual(output, shortcut);
                }
            case ShortcutKind.Identity:
                if (StochasticDepth is not null)
                {
                    var dropped = StochasticDepth.call(output);
                    output.Dispose();
                    output = dropped;
                }
                return Residual(output, input);
            default:
                return output;
        }
    }

    /// <summary>
    /// The branch's output plus the shortcut: in place, but after an activation on the projection (the paper's
    /// ablation), whose gradient may need its output (ReLU's does), into a new tensor.
    /// </summary>
    Tensor Residual(Tensor output, Tensor shortcut)
    {
        if (Project.ActivationLayer is null) return output.add_(shortcut, HeldScalars.One);
        using (output) return output.add(shortcut, HeldScalars.One);
    }

    /// <summary>The inference form: every BatchNorm folded into its convolution, no stochastic depth; same layout and forward.</summary>
    public InvertedResidual Fuse() =>
        new(Layout, Expand?.Fuse(), Depthwise.Fuse(), SqueezeExcitation?.Copy(), Project.Fuse(), Shortcut, Projection?.Fuse(), stochasticDepth: null, TakesWide, PassesWide);
}
