using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ArchGen.Training;

/// <summary>Builds the optimizer a configuration asks for.</summary>
public static class Optimizers
{
    /// <summary>
    /// <c>adam</c> (L2 weight decay added to the gradient, 0 by default: the reference exercise), <c>adamw</c>
    /// (decoupled weight decay) or <c>sgd</c> (momentum 0.9, nesterov unless turned off: kuangliu). With
    /// <see cref="TrainConfig.DecayNormAndBias"/> off, parameters of one dimension (BatchNorm weights and biases, the
    /// classifier's bias) form a second group without weight decay.
    /// </summary>
    public static OptimizerHelper Create(TrainConfig config, nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(model);
        double lr = config.ResolvedLearningRate, decay = config.ResolvedWeightDecay;
        if (config.DecayNormAndBias || decay == 0)
        {
            return config.Optimizer switch
            {
                "sgd" => optim.SGD(FineTuning.Trainable(model), lr, momentum: 0.9, weight_decay: decay, nesterov: config.Nesterov),
                "adamw" => optim.AdamW(FineTuning.Trainable(model), lr, weight_decay: decay),
                _ => optim.Adam(FineTuning.Trainable(model), lr, weight_decay: decay),
            };
        }

        var (decayed, exempt) = SplitForDecay(model);
        return config.Optimizer switch
        {
            "sgd" => optim.SGD(new[]
            {
                new SGD.ParamGroup(decayed, lr, momentum: 0.9, weight_decay: decay, nesterov: config.Nesterov),
                new SGD.ParamGroup(exempt, lr, momentum: 0.9, weight_decay: 0, nesterov: config.Nesterov),
            }, lr, momentum: 0.9, weight_decay: decay, nesterov: config.Nesterov),
            "adamw" => optim.AdamW(new[] { new AdamW.ParamGroup(decayed, lr, weight_decay: decay), new AdamW.ParamGroup(exempt, lr, weight_decay: 0) }, lr, weight_decay: decay),
            _ => optim.Adam(new[] { new Adam.ParamGroup(decayed, lr, weight_decay: decay), new Adam.ParamGroup(exempt, lr, weight_decay: 0) }, lr, weight_decay: decay),
        };
    }

    /// <summary>Trainable parameters with weight decay (two or more dimensions: convolution and linear weights) and without (one dimension: BatchNorm weights and biases, biases).</summary>
    public static (List<Parameter> Decayed, List<Parameter> Exempt) SplitForDecay(nn.Module model)
    {
        var decayed = new List<Parameter>();
        var exempt = new List<Parameter>();
        foreach (var p in FineTuning.Trainable(model))
            (p.dim() <= 1 ? exempt : decayed).Add(p);
        return (decayed, exempt);
    }

    /// <summary>Sets the learning rate of every parameter group.</summary>
    public static void SetLearningRate(OptimizerHelper optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }
}
