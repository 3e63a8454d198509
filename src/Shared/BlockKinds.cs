// The kinds the generator plans with and the runtime builds: one definition, compiled into both. The runtime's copy
// is public (ArchGen.Blocks); the generator (netstandard2.0, no TorchSharp) links this file with ARCHGEN_GENERATOR
// defined and gets an internal copy, so the generated code names the runtime's members by the generator's values
// and the two cannot drift apart.
#if ARCHGEN_GENERATOR
namespace ArchGen.Generator.Planning;
#else
namespace ArchGen.Blocks;
#endif

/// <summary>The nonlinearities the generated networks use.</summary>
#if ARCHGEN_GENERATOR
internal
#else
public
#endif
enum Activation
{
    /// <summary>No activation (a linear bottleneck).</summary>
    None,

    /// <summary>max(0, x).</summary>
    ReLU,

    /// <summary>min(max(0, x), 6): MobileNetV2.</summary>
    ReLU6,

    /// <summary>x · ReLU6(x + 3) / 6: MobileNetV3.</summary>
    HardSwish,

    /// <summary>x · sigmoid(x), also called swish: EfficientNet.</summary>
    SiLU,

    /// <summary>ReLU6(x + 3) / 6: the gate of MobileNetV3's squeeze-and-excitation.</summary>
    HardSigmoid,

    /// <summary>1 / (1 + e^-x): the gate of EfficientNet's squeeze-and-excitation.</summary>
    Sigmoid,
}

/// <summary>Whose state_dict names an inverted-residual block registers its layers under.</summary>
#if ARCHGEN_GENERATOR
internal
#else
public
#endif
enum BlockLayout
{
    /// <summary>torchvision's <c>mobilenetv2.InvertedResidual</c>: <c>conv.{i}</c> = [expansion], depthwise, projection conv, projection BN.</summary>
    TorchvisionMobileNetV2,

    /// <summary>torchvision's <c>mobilenetv3.InvertedResidual</c>: <c>block.{i}</c> = [expansion], depthwise, [squeeze-excitation], projection.</summary>
    TorchvisionMobileNetV3,

    /// <summary>torchvision's <c>efficientnet.MBConv</c>: <c>block.{i}</c> as MobileNetV3's, plus <c>stochastic_depth</c>.</summary>
    TorchvisionEfficientNet,

    /// <summary>kuangliu/pytorch-cifar's <c>Block</c>: <c>conv1</c>, <c>bn1</c>, <c>conv2</c>, <c>bn2</c>, <c>conv3</c>, <c>bn3</c>, and <c>shortcut</c> on stride-1 blocks.</summary>
    Kuangliu,
}

/// <summary>How an inverted-residual block's input reaches its output besides the main branch.</summary>
#if ARCHGEN_GENERATOR
internal
#else
public
#endif
enum ShortcutKind
{
    /// <summary>No residual.</summary>
    None,

    /// <summary>The input is added to the branch's output (after stochastic depth, when there is one).</summary>
    Identity,

    /// <summary>A 1x1 convolution + BatchNorm of the input is added (kuangliu's stride-1 blocks whose channels change).</summary>
    Projection,
}

/// <summary>How a generated network initializes its weights: as the original it reproduces does.</summary>
#if ARCHGEN_GENERATOR
internal
#else
public
#endif
enum WeightInit
{
    /// <summary>PyTorch's per-layer defaults (kuangliu/pytorch-cifar).</summary>
    PyTorchDefault,

    /// <summary>torchvision's MobileNetV2/V3: convolutions Kaiming-normal (fan-out), biases 0, BatchNorm 1/0, Linear N(0, 0.01).</summary>
    Torchvision,

    /// <summary>torchvision's EfficientNet: as <c>Torchvision</c>, but Linear uniform in ±1/√out_features.</summary>
    EfficientNet,
}
