using ArchGen.Blocks;
using TorchSharp;
using static ArchGen.Runtime.Tests.Blocks.BlockTestKit;
using static TorchSharp.torch;

namespace ArchGen.Runtime.Tests.Blocks;

public class ConvBnActTests
{
    [Fact]
    public void IsTorchvisionsConv2dNormActivation()
    {
        using var block = new ConvBnAct(4, 8, 3, stride: 2, activation: Activation.ReLU6);
        Assert.Equal(new[] { "0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked" }, Keys(block));
        Assert.Equal(new[] { "0", "1", "2" }, Paths(block));
        Assert.IsType<TorchSharp.Modules.ReLU6>(block.ActivationLayer);
        Assert.Null(block.Conv.bias);
        Assert.Equal(new long[] { 1, 1 }, block.Conv.padding!);

        using var linear = new ConvBnAct(4, 8, 1);
        Assert.Equal(new[] { "0", "1" }, Paths(linear));
        Assert.Null(linear.ActivationLayer);
    }

    [Theory]
    [InlineData(Activation.ReLU)]
    [InlineData(Activation.ReLU6)]
    [InlineData(Activation.HardSwish)]
    [InlineData(Activation.SiLU)]
    [InlineData(Activation.None)]
    public void ComputesConvolutionBatchNormActivation(Activation activation)
    {
        torch.manual_seed(1);
        using var block = new ConvBnAct(3, 6, 5, stride: 2, groups: 3, activation: activation, eps: 1e-3, momentum: 0.01);
        RandomizeBatchNorms(block);
        block.eval();
        using var x = torch.randn(2, 3, 9, 9);
        using var y = block.call(x);
        using var c = block.Conv.call(x);
        using var n = nn.functional.batch_norm(c, block.Norm!.running_mean, block.Norm.running_var, block.Norm.weight, block.Norm.bias, training: false, eps: 1e-3);
        using var expected = activation switch
        {
            Activation.ReLU => n.relu(),
            Activation.ReLU6 => n.clamp(0, 6),
            Activation.HardSwish => n * (n + 3).clamp(0, 6) / 6,
            Activation.SiLU => n * n.sigmoid(),
            _ => n.alias(),
        };
        Assert.Equal(new long[] { 2, 6, 5, 5 }, y.shape);
        Assert.True(MaxDifference(y, expected) < 1e-5);
        Assert.False(x.IsInvalid); // the caller's input is left alone
    }

    [Fact]
    public void FusedFormAgreesWithEvalModeAndHasNoBatchNorm()
    {
        torch.manual_seed(2);
        using var block = new ConvBnAct(4, 8, 3, activation: Activation.HardSwish);
        RandomizeBatchNorms(block);
        block.eval();
        using var fused = block.Fuse();
        Assert.Null(fused.Norm);
        Assert.NotNull(fused.Conv.bias);
        using var x = torch.randn(3, 4, 7, 7);
        using var expected = block.call(x);
        using var actual = fused.call(x);
        Assert.True(MaxDifference(expected, actual) < 1e-5);

        // The fused copy owns its parameters: training the original later does not change it.
        using (torch.no_grad()) block.Conv.weight!.add_(1);
        using var again = fused.call(x);
        Assert.True(MaxDifference(actual, again) == 0);
    }

    [Fact]
    public void FoldingKeepsAConvolutionsOwnBias()
    {
        torch.manual_seed(3);
        using var conv = new VerifiedConv2d(3, 5, 3, padding: 1, bias: true);
        using var bn = nn.BatchNorm2d(5);
        RandomizeBatchNorms(bn);
        bn.eval();
        using var folded = BatchNormFolding.Fold(conv, bn);
        using var x = torch.randn(2, 3, 6, 6);
        using var c = conv.call(x);
        using var expected = bn.call(c);
        using var actual = folded.call(x);
        Assert.True(MaxDifference(expected, actual) < 1e-5);
    }
}
