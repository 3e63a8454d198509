using ArchGen.Blocks;
using ArchGen.Performance;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Runtime.Tests.Performance;

/// <summary>
/// The reference the checks compare with is the definition of a convolution (it equals LibTorch's float64 convolution
/// and its autograd), the GEMM path is right on this machine, and the path each convolution is given here, for shapes
/// whose channels-last kernels are wrong on some AVX-512 CPUs among others, matches the reference, forward and backward.
/// </summary>
[Trait("Category", "Parity")]
public class ConvPathsTests
{
    public static TheoryData<ConvStructure> Structures => new()
    {
        new ConvStructure(3, 8, 3, 1, 1, 1, true),    // a stem
        new ConvStructure(6, 6, 3, 2, 1, 6, false),   // depthwise, stride 2
        new ConvStructure(5, 5, 5, 1, 2, 5, true),    // depthwise 5x5 with bias
        new ConvStructure(8, 4, 1, 1, 0, 1, false),   // pointwise
        new ConvStructure(8, 16, 3, 2, 1, 2, true),   // grouped
        new ConvStructure(4, 8, 3, 1, 1, 4, false),   // depthwise with a channel multiplier of 2
    };

    [Theory]
    [MemberData(nameof(Structures))]
    public void TheReferenceIsLibTorchsFloat64ConvolutionAndItsGradients(ConvStructure conv)
    {
        using var scope = torch.NewDisposeScope();
        using var random = new Generator(17);
        var x = torch.randn([3, conv.In, 9, 7], ScalarType.Float64, generator: random).requires_grad_(true);
        var w = torch.randn(conv.WeightShape, ScalarType.Float64, generator: random).requires_grad_(true);
        var b = conv.Bias ? torch.randn([conv.Out], ScalarType.Float64, generator: random).requires_grad_(true) : null;
        var y = nn.functional.conv2d(x, w, b, [conv.Stride, conv.Stride], [conv.Padding, conv.Padding], [1, 1], conv.Groups);
        var g = torch.randn(y.shape, ScalarType.Float64, generator: random);
        y.backward([g]);

        using var noGrad = torch.no_grad();
        var xd = x.detach();
        var wd = w.detach();
        Assert.True(Exactness.RelativeError(ConvReference.Forward(xd, wd, b?.detach(), conv), y) < 1e-12);
        Assert.True(Exactness.RelativeError(ConvReference.InputGradient(g, wd, xd.shape, conv), x.grad!) < 1e-12);
        Assert.True(Exactness.RelativeError(ConvReference.WeightGradient(xd, g, conv), w.grad!) < 1e-12);
        if (b is not null) Assert.True(Exactness.RelativeError(ConvReference.BiasGradient(g), b.grad!) < 1e-12);
    }

    /// <summary>A convolution's float32 output and gradients through <paramref name="path"/>, and their largest relative error against the reference.</summary>
    static double ErrorOf(ConvPath path, ConvStructure conv, long[] inputShape, bool channelsLastInput)
    {
        using var scope = torch.NewDisposeScope();
        using var random = new Generator(23);
        var x = torch.randn(inputShape, generator: random);
        var w = torch.randn(conv.WeightShape, generator: random).mul_(0.3);
        var b = conv.Bias ? torch.randn([conv.Out], generator: random) : null;
        var input = (channelsLastInput ? MemoryLayout.ChannelsLast(x) : x.alias()).requires_grad_(true);
        var wi = w.detach().requires_grad_(true);
        var bi = b?.detach().requires_grad_(true);
        var y = ConvPaths.Compute(path, input, wi, bi, conv);
        var g = torch.randn(y.shape, generator: random);
        y.backward([g]);

        var x64 = x.to_type(ScalarType.Float64);
        var w64 = w.to_type(ScalarType.Float64);
        var g64 = g.to_type(ScalarType.Float64);
        double worst = Math.Max(
            Exactness.RelativeError(y, ConvReference.Forward(x64, w64, b?.to_type(ScalarType.Float64), conv)),
            Exactness.RelativeError(input.grad!, ConvReference.InputGradient(g64, w64, inputShape, conv)));
        worst = Math.Max(worst, Exactness.RelativeError(wi.grad!, ConvReference.WeightGradient(x64, g64, conv)));
        if (bi is not null) worst = Math.Max(worst, Exactness.RelativeError(bi.grad!, ConvReference.BiasGradient(g64)));
        return worst;
    }

    /// <summary>The matrix-product path of 1x1 convolutions, from plain and channels-last inputs, on maps down to 1x1 and one channel.</summary>
    [Theory]
    [InlineData(2, 144, 40, 6, false)]
    [InlineData(2, 160, 640, 3, true)]
    [InlineData(8, 320, 1280, 4, true)]
    [InlineData(5, 240, 60, 1, true)] // squeeze-and-excitation
    [InlineData(3, 1, 16, 8, false)]
    [InlineData(4, 16, 96, 16, true)]
    public void TheGemmPathIsAConvolution(long n, long cin, long cout, long size, bool bias)
    {
        var conv = new ConvStructure(cin, cout, 1, 1, 0, 1, bias);
        foreach (bool channelsLast in new[] { false, true })
        {
            double error = ErrorOf(ConvPath.Gemm, conv, [n, cin, size, size], channelsLast);
            Assert.True(error < 1e-5, $"{conv} at {size}x{size}, {(channelsLast ? "channels-last" : "plain")} input: {error:E1}");
        }
    }

    /// <summary>
    /// Whatever path a convolution is given on this machine, it matches the reference within the check's tolerance, in
    /// training and in inference; the 1x1 shapes listed are among those whose channels-last forward is off by 0.1-0.3 on
    /// some AMD EPYC VMs with AVX-512 (there, they run GEMM).
    /// </summary>
    [Theory]
    [InlineData(2, 144, 40, 1, 1, 6)]
    [InlineData(2, 160, 640, 1, 1, 3)]
    [InlineData(8, 320, 1280, 1, 1, 4)]
    [InlineData(8, 960, 320, 1, 1, 4)]
    [InlineData(8, 240, 60, 1, 1, 1)]
    [InlineData(8, 3, 32, 3, 1, 32)]
    [InlineData(8, 144, 144, 3, 144, 16)]
    [InlineData(5, 96, 96, 5, 96, 7)]
    public void ThePathGivenHereMatchesTheDefinition(long n, long cin, long cout, long kernel, long groups, long size)
    {
        using var layer = new VerifiedConv2d(cin, cout, kernel, padding: (kernel - 1) / 2, groups: groups, bias: false);
        foreach (bool training in new[] { false, true })
        {
            using var x = torch.randn(n, cin, size, size, requires_grad: training);
            ConvVerdict verdict;
            using (var mode = training ? torch.enable_grad() : torch.no_grad()) verdict = VerifiedLayout.Decide(layer, x);
            double error = ErrorOf(verdict.Path, layer.Structure, x.shape, channelsLastInput: verdict.Path != ConvPath.Plain);
            Assert.True(error <= VerifiedLayout.Tolerance, $"{layer.Structure} at {size}x{size} ({(training ? "training" : "inference")}) took {verdict.Path} ({verdict.Why}), {error:E1} from the definition");
        }
    }
}
