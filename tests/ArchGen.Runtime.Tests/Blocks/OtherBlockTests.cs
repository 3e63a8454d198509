using ArchGen.Blocks;
using TorchSharp;
using static ArchGen.Runtime.Tests.Blocks.BlockTestKit;
using static TorchSharp.torch;

namespace ArchGen.Runtime.Tests.Blocks;

public class OtherBlockTests
{
    [Fact]
    public void SequentialNamesChildrenByIndexAppliesThemInOrderAndKeepsTheInput()
    {
        using var seq = new ArchGen.Blocks.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2));
        Assert.Equal(new[] { "0.weight", "0.bias", "2.weight", "2.bias" }, Keys(seq));
        using var x = torch.randn(5, 3);
        using var y = seq.call(x);
        using var expected = ((nn.Module<Tensor, Tensor>)seq.Layers[2]).call(((nn.Module<Tensor, Tensor>)seq.Layers[0]).call(x).relu());
        Assert.True(MaxDifference(y, expected) < 1e-6);
        Assert.False(x.IsInvalid);

        using var empty = new ArchGen.Blocks.Sequential();
        using var same = empty.call(x);
        Assert.True(MaxDifference(same, x) == 0);
    }

    [Fact]
    public void SqueezeExcitationScalesEachChannelByItsGate()
    {
        torch.manual_seed(6);
        using var se = new SqueezeExcitation(8, 2, Activation.SiLU, Activation.Sigmoid);
        Assert.Equal(new[] { "avgpool", "fc1", "fc2", "activation", "scale_activation" }, Paths(se));
        using var x = torch.randn(2, 8, 5, 5);
        using var y = se.call(x);
        using var mean = x.mean(new long[] { 2, 3 }, keepdim: true);
        using var s = nn.functional.silu(se.Fc1.call(mean));
        using var gate = se.Fc2.call(s).sigmoid();
        using var expected = x * gate;
        Assert.True(MaxDifference(y, expected) < 1e-6);
    }

    [Fact]
    public void StochasticDepthDropsWholeImagesInTrainingOnly()
    {
        torch.manual_seed(7);
        using var drop = new StochasticDepth(0.5);
        using var x = torch.ones(64, 3, 2, 2);
        drop.train();
        using var y = drop.call(x);
        using var perImage = y.amax(new long[] { 1, 2, 3 });
        var values = perImage.data<float>().ToArray();
        Assert.All(values, v => Assert.True(v == 0 || v == 2, $"{v}"));   // dropped, or kept and scaled by 1/(1-p)
        Assert.Contains(0f, values);
        Assert.Contains(2f, values);
        using var sameRows = (y == y.amax(new long[] { 1, 2, 3 }, keepdim: true)).all();
        Assert.True(sameRows.item<bool>()); // a row is dropped whole

        drop.eval();
        using var z = drop.call(x);
        Assert.True(MaxDifference(z, x) == 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => new StochasticDepth(1.5));
    }

    [Fact]
    public void ClassifierSequencesLikeTorchvision()
    {
        using var v2 = new Classifier(1280, 10, dropout: 0.2, dropoutLayer: true);
        Assert.Equal(new[] { "0", "1" }, Paths(v2));
        Assert.IsType<TorchSharp.Modules.Dropout>(v2.Layers[0]);
        using var v3 = new Classifier(960, 7, dropout: 0.2, dropoutLayer: true, hidden: 1280, hiddenActivation: Activation.HardSwish);
        Assert.Equal(new[] { "0.weight", "0.bias", "3.weight", "3.bias" }, Keys(v3));
        Assert.IsType<TorchSharp.Modules.Hardswish>(v3.Layers[1]);
        using var kuangliu = new Classifier(1280, 10, dropout: 0, dropoutLayer: false);
        Assert.Null(kuangliu.Dropout);

        torch.manual_seed(8);
        v3.eval();
        using var x = torch.randn(4, 960);
        using var y = v3.call(x);
        using var fused = v3.Fuse();
        Assert.Null(fused.Dropout);
        using var z = fused.call(x);
        Assert.True(MaxDifference(y, z) < 1e-6);
    }

    [Fact]
    public void WeightInitializationFollowsTheOriginals()
    {
        torch.manual_seed(9);
        using var model = new ArchGen.Blocks.Sequential(new ConvBnAct(3, 64, 3), new Classifier(64, 1000, 0.2, true));
        WeightInitialization.Apply(model, WeightInit.Torchvision);
        var output = ((Classifier)model.Layers[1]).Output;
        Assert.InRange(output.weight!.std().ToDouble(), 0.009, 0.011);
        Assert.Equal(0, output.bias!.abs().sum().ToDouble());
        var conv = ((ConvBnAct)model.Layers[0]).Conv;
        // Kaiming normal, fan-out: std = sqrt(2 / (64 * 3 * 3)) = 0.0589.
        Assert.InRange(conv.weight!.std().ToDouble(), 0.052, 0.066);

        WeightInitialization.Apply(model, WeightInit.EfficientNet);
        double bound = 1 / Math.Sqrt(1000);
        Assert.True(output.weight!.abs().max().ToDouble() <= bound);
        Assert.True(output.weight!.abs().max().ToDouble() > bound * 0.9);
    }
}
