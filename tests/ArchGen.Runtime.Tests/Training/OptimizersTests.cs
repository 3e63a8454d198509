using ArchGen.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Runtime.Tests.Training;

public class OptimizersTests
{
    [Theory]
    [InlineData("adamw")]
    [InlineData("sgd")]
    [InlineData("adam")]
    public void WithoutNormAndBiasDecayOnlyConvolutionAndLinearWeightsShrink(string optimizer)
    {
        torch.manual_seed(1);
        using var model = ModelCatalog.Get(nameof(TinyTrainingModel)).Create();
        var config = new TrainConfig { Model = nameof(TinyTrainingModel), Optimizer = optimizer, LearningRate = 0.1, WeightDecay = 0.5, DecayNormAndBias = false };
        using var opt = Optimizers.Create(config, model);
        Assert.Equal(2, opt.ParamGroups.Count());

        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        foreach (var p in model.parameters()) p.grad = torch.zeros_like(p); // no gradient: only weight decay can move a weight
        opt.step();

        foreach (var (name, p) in model.named_parameters())
        {
            bool moved = !p.detach().Equals(before[name]);
            if (p.dim() <= 1) Assert.False(moved, $"{name} ({optimizer}) should not decay");
            else Assert.True(moved, $"{name} ({optimizer}) should decay");
        }
    }

    [Fact]
    public void DecayingEverythingIsOneGroup()
    {
        using var model = ModelCatalog.Get(nameof(TinyTrainingModel)).Create();
        using var opt = Optimizers.Create(new TrainConfig { Optimizer = "sgd" }, model);
        Assert.Single(opt.ParamGroups);
        var (decayed, exempt) = Optimizers.SplitForDecay(model);
        Assert.All(decayed, p => Assert.True(p.dim() >= 2));
        Assert.Contains(exempt, p => p.dim() == 1);
        Assert.Equal(model.parameters().Count(), decayed.Count + exempt.Count);
    }
}
