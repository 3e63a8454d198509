using ArchGen.Blocks;
using TorchSharp;
using static ArchGen.Runtime.Tests.Blocks.BlockTestKit;
using static TorchSharp.torch;

namespace ArchGen.Runtime.Tests.Blocks;

public class InvertedResidualTests
{
    [Fact]
    public void TorchvisionMobileNetV2NamesItsLayersLikeTorchvision()
    {
        using var expanding = new InvertedResidual(BlockLayout.TorchvisionMobileNetV2, 16, 96, 24, 3, 2, Activation.ReLU6, expand: true);
        Assert.Equal(
            new[] { "conv", "conv.0", "conv.1", "conv.2", "conv.3", "conv.0.0", "conv.0.1", "conv.0.2", "conv.1.0", "conv.1.1", "conv.1.2" },
            Paths(expanding));
        using var plain = new InvertedResidual(BlockLayout.TorchvisionMobileNetV2, 32, 32, 16, 3, 1, Activation.ReLU6, expand: false);
        Assert.Contains("conv.1.weight", Keys(plain)); // the projection conv follows the depthwise one directly
        Assert.Contains("conv.2.running_var", Keys(plain));
    }

    /// <summary>The residual between expansions: the giver passes its expanded tensor, the taker adds it to its own expansion, by hand.</summary>
    [Theory]
    [InlineData(BlockLayout.Kuangliu)]
    [InlineData(BlockLayout.TorchvisionMobileNetV2)]
    public void TheWideResidualIsAddedToTheNextExpansionAndPassedOn(BlockLayout layout)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        using var giver = new InvertedResidual(layout, 8, 16, 8, 3, 1, Activation.ReLU, expand: true, passesWide: true);
        using var taker = new InvertedResidual(layout, 8, 16, 12, 3, 2, Activation.ReLU, expand: true, takesWide: true);
        giver.eval();
        taker.eval();
        using var noGrad = torch.no_grad();
        var x = torch.randn(2, 8, 6, 6);
        Tensor? wide = null;
        var y = giver.Forward(x, ref wide);
        var expanded = giver.Expand!.call(x);
        Assert.True(torch.allclose(expanded, wide!, rtol: 0, atol: 0));
        Assert.True(torch.allclose(giver.forward(x), y, rtol: 0, atol: 0)); // the giver adds nothing to its own output

        var z = taker.Forward(y, ref wide);
        Assert.Null(wide);
        var expected = taker.Project.call(taker.Depthwise.call(taker.Expand!.call(y) + expanded));
        Assert.True(torch.allclose(expected, z, rtol: 1e-5, atol: 1e-6));
        Assert.False(torch.allclose(taker.forward(y), z, rtol: 1e-3, atol: 1e-4)); // alone, the taker adds nothing: the residual matters

        Tensor? none = null;
        Assert.Throws<ArgumentException>(() => taker.Forward(y, ref none));
        Tensor? stray = expanded.alias();
        using var plain = new InvertedResidual(layout, 8, 16, 8, 3, 1, Activation.ReLU, expand: true);
        Assert.Throws<ArgumentException>(() => plain.Forward(x, ref stray));
        Assert.Throws<ArgumentException>(() => new InvertedResidual(layout, 8, 16, 8, 3, 2, Activation.ReLU, expand: true, passesWide: true));
        Assert.Throws<ArgumentException>(() => new InvertedResidual(layout, 8, 16, 8, 3, 1, Activation.ReLU, expand: true, ShortcutKind.Identity, takesWide: true));
    }

    [Fact]
    public void TorchvisionMobileNetV3AndEfficientNetNestTheProjectionAndTheSqueezeExcitation()
    {
        using var v3 = new InvertedResidual(BlockLayout.TorchvisionMobileNetV3, 24, 72, 40, 5, 2, Activation.ReLU, expand: true,
            squeezeChannels: 24, squeezeActivation: Activation.ReLU, gate: Activation.HardSigmoid, eps: 1e-3, momentum: 0.01);
        var keys = Keys(v3);
        Assert.Contains("block.2.fc1.weight", keys);
        Assert.Contains("block.2.fc2.bias", keys);
        Assert.Contains("block.3.1.running_mean", keys);
        Assert.Contains("block.2.scale_activation", Paths(v3));
        Assert.Equal(1e-3, v3.Depthwise.Norm!.eps);

        using var mb = new InvertedResidual(BlockLayout.TorchvisionEfficientNet, 16, 96, 16, 3, 1, Activation.SiLU, expand: true,
            ShortcutKind.Identity, squeezeChannels: 4, squeezeActivation: Activation.SiLU, gate: Activation.Sigmoid, dropPath: 0.1);
        Assert.Contains("stochastic_depth", Paths(mb));
        Assert.Equal(0.1, mb.StochasticDepth!.P);
    }

    [Fact]
    public void KuangliuRegistersFlatLayersAndAShortcutOnStrideOneBlocks()
    {
        using var projecting = new InvertedResidual(BlockLayout.Kuangliu, 16, 96, 24, 3, 1, Activation.ReLU, expand: true, ShortcutKind.Projection);
        Assert.Equal(new[] { "conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "shortcut", "shortcut.0", "shortcut.1" }, Paths(projecting));
        using var identity = new InvertedResidual(BlockLayout.Kuangliu, 24, 144, 24, 3, 1, Activation.ReLU, expand: true, ShortcutKind.Identity);
        Assert.Contains("shortcut", Paths(identity));
        using var strided = new InvertedResidual(BlockLayout.Kuangliu, 24, 144, 32, 3, 2, Activation.ReLU, expand: true);
        Assert.DoesNotContain("shortcut", Paths(strided));
    }

    [Theory]
    [InlineData(BlockLayout.TorchvisionMobileNetV2, false, 0)]
    [InlineData(BlockLayout.TorchvisionMobileNetV3, true, 8)]
    [InlineData(BlockLayout.TorchvisionEfficientNet, true, 4)]
    [InlineData(BlockLayout.Kuangliu, true, 0)]
    public void ForwardIsExpandDepthwiseSqueezeProjectPlusInput(BlockLayout layout, bool expand, int squeeze)
    {
        torch.manual_seed(4);
        long hidden = expand ? 48 : 16;
        using var block = new InvertedResidual(layout, 16, hidden, 16, 3, 1, Activation.HardSwish, expand, ShortcutKind.Identity,
            squeezeChannels: squeeze, squeezeActivation: Activation.ReLU, gate: Activation.HardSigmoid,
            dropPath: layout == BlockLayout.TorchvisionEfficientNet ? 0.5 : 0);
        RandomizeBatchNorms(block);
        block.eval(); // no stochastic depth in evaluation
        using var x = torch.randn(2, 16, 8, 8);
        using var y = block.call(x);

        using var noGrad = torch.no_grad();
        var h = block.Expand is null ? x.alias() : block.Expand.call(x);
        var d = block.Depthwise.call(h);
        var s = block.SqueezeExcitation is null ? d.alias() : block.SqueezeExcitation.call(d);
        using var p = block.Project.call(s);
        using var expected = p + x;
        Assert.True(MaxDifference(y, expected) < 1e-5);
        Assert.False(x.IsInvalid);

        using var fused = block.Fuse();
        using var z = fused.call(x);
        Assert.True(MaxDifference(y, z) < 1e-4);
    }

    [Fact]
    public void ProjectionShortcutAddsTheProjectedInput()
    {
        torch.manual_seed(5);
        using var block = new InvertedResidual(BlockLayout.Kuangliu, 8, 16, 12, 3, 1, Activation.ReLU, expand: true, ShortcutKind.Projection);
        RandomizeBatchNorms(block);
        block.eval();
        using var x = torch.randn(2, 8, 5, 5);
        using var y = block.call(x);
        using var branch = block.Project.call(block.Depthwise.call(block.Expand!.call(x)));
        using var shortcut = block.Projection!.call(x);
        using var expected = branch + shortcut;
        Assert.True(MaxDifference(y, expected) < 1e-5);
    }

    [Fact]
    public void RejectsInconsistentNumbers()
    {
        Assert.Throws<ArgumentException>(() => new InvertedResidual(BlockLayout.TorchvisionMobileNetV2, 16, 32, 16, 3, 1, Activation.ReLU6, expand: false));
        Assert.Throws<ArgumentException>(() => new InvertedResidual(BlockLayout.TorchvisionMobileNetV2, 16, 32, 24, 3, 1, Activation.ReLU6, expand: true, ShortcutKind.Identity));
        Assert.Throws<ArgumentException>(() => new InvertedResidual(BlockLayout.TorchvisionMobileNetV3, 16, 32, 16, 3, 1, Activation.ReLU, expand: true, dropPath: 0.1));
    }

    [Fact]
    public void KuangliuBranchFollowsTheBlocksTrainingMode()
    {
        using var block = new InvertedResidual(BlockLayout.Kuangliu, 8, 16, 8, 3, 1, Activation.ReLU, expand: true, ShortcutKind.Identity);
        block.eval();
        Assert.All(block.named_modules(), m => Assert.False(m.module.training));
        Assert.False(block.Expand!.training);
        block.train();
        Assert.True(block.Expand!.training);
    }
}
