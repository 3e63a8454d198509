using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Runtime.Tests.Blocks;

/// <summary>Helpers the block tests share.</summary>
internal static class BlockTestKit
{
    /// <summary>Randomizes every BatchNorm's affine parameters and running statistics, so folding or eval-mode mistakes show.</summary>
    public static void RandomizeBatchNorms(nn.Module module)
    {
        using var noGrad = torch.no_grad();
        foreach (var (_, m) in module.named_modules().Append(("", module)))
        {
            if (m is TorchSharp.Modules.BatchNorm2d bn)
            {
                bn.weight!.uniform_(0.5, 1.5);
                bn.bias!.normal_(0, 0.2);
                bn.running_mean!.normal_(0, 0.2);
                bn.running_var!.uniform_(0.5, 1.5);
            }
        }
    }

    public static string[] Keys(nn.Module module) => module.state_dict().Keys.ToArray();

    public static string[] Paths(nn.Module module) => module.named_modules().Select(m => m.name).Where(n => n.Length > 0).ToArray();

    public static double MaxDifference(Tensor a, Tensor b)
    {
        using var diff = (a - b).abs().max();
        return diff.ToDouble();
    }
}
