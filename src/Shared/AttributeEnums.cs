// The enums users write in the model attributes' arguments. Compiled into the runtime (public, ArchGen) and linked
// into the generator (internal, ARCHGEN_GENERATOR): an attribute's enum and the generator's reading of it are one
// definition.
#if ARCHGEN_GENERATOR
namespace ArchGen.Generator.Model;
#else
namespace ArchGen;
#endif

/// <summary>Which original a generated MobileNetV2 reproduces.</summary>
#if ARCHGEN_GENERATOR
internal
#else
public
#endif
enum MobileNetV2Flavor
{
    /// <summary>torchvision's <c>mobilenet_v2</c> (Sandler et al. 2018): stride-2 stem, ReLU6, no expansion conv when t = 1, identity residuals only.</summary>
    Paper = 0,

    /// <summary>The classic PyTorch CIFAR-10 MobileNetV2 (kuangliu/pytorch-cifar): stride-1 stem, ReLU, expansion conv in every block, shortcut on every stride-1 block.</summary>
    Cifar = 1,
}

/// <summary>The nonlinearity column (NL) of the MobileNetV3 paper's tables.</summary>
#if ARCHGEN_GENERATOR
internal
#else
public
#endif
enum Nonlinearity
{
    /// <summary>RE: ReLU.</summary>
    ReLU = 0,

    /// <summary>HS: hard-swish, x · ReLU6(x + 3) / 6.</summary>
    HardSwish = 1,
}

/// <summary>Where a MobileNetV2's residual connections go: the paper's ablation of Figure 6b.</summary>
#if ARCHGEN_GENERATOR
internal
#else
public
#endif
enum ShortcutPlacement
{
    /// <summary>Between the thin bottlenecks, as the paper builds it (and as both flavors do): an identity residual on every stride-1 block whose input and output widths match (the Cifar flavor adds a 1x1 convolution where they differ).</summary>
    Bottleneck = 0,

    /// <summary>No residual connection anywhere (the Cifar flavor then has no 1x1 shortcut convolutions either).</summary>
    None = 1,

    /// <summary>Between the wide expansions, the classical (ResNet) placement: where a block expands and the block before it has stride 1 and expanded to the same width, the earlier block's expanded tensor is added to this block's expansion output (after its activation), so consecutive such blocks carry a residual stream in the wide space. Parameter-free; no residual joins the bottlenecks (and the Cifar flavor has no 1x1 shortcut convolutions).</summary>
    Expansion = 2,
}
