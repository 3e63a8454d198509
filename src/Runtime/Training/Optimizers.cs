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
        (List<Parameter> Parameters, double Decay)[] groups;
        if (config.DecayNormAndBias || decay == 0) groups = [(FineTuning.Trainable(model).ToList(), decay)];
        else
        {
            var (decayed, exempt) = SplitForDecay(model);
            groups = [(decayed, decay), (exempt, 0)];
        }
        return config.Optimizer switch
        {
            "sgd" => optim.SGD(groups.Select(g => new SGD.ParamGroup(g.Parameters, lr, momentum: 0.9, weight_decay: g.Decay, nesterov: config.Nesterov)), lr, momentum: 0.9, weight_decay: decay, nesterov: config.Nesterov),
            "adamw" => optim.AdamW(groups.Select(g => new AdamW.ParamGroup(g.Parameters, lr, weight_decay: g.Decay)), lr, weight_decay: decay),
            _ => optim.Adam(groups.Select(g => new Adam.ParamGroup(g.Parameters, lr, weight_decay: g.Decay)), lr, weight_decay: decay),
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
