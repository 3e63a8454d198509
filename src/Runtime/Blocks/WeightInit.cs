using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ArchGen.Blocks;

/// <summary>Applies a <see cref="WeightInit"/> to every layer of a module, as torchvision's constructors do.</summary>
public static class WeightInitialization
{
    /// <summary>Initializes every convolution, BatchNorm2d and Linear reachable from <paramref name="model"/>.</summary>
    public static void Apply(nn.Module model, WeightInit init)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (init == WeightInit.PyTorchDefault) return;
        using var noGrad = torch.no_grad();
        foreach (var (_, module) in model.named_modules())
        {
            switch (module)
            {
                case Convolution conv:
                    nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut);
                    if (conv.bias is { } convBias) nn.init.zeros_(convBias);
                    break;
                case BatchNorm2d norm:
                    nn.init.ones_(norm.weight!);
                    nn.init.zeros_(norm.bias!);
                    break;
                case Linear linear when init == WeightInit.EfficientNet:
                    double range = 1.0 / Math.Sqrt(linear.weight!.shape[0]);
                    nn.init.uniform_(linear.weight!, -range, range);
                    if (linear.bias is { } efficientBias) nn.init.zeros_(efficientBias);
                    break;
                case Linear linear:
                    nn.init.normal_(linear.weight!, 0, 0.01);
                    if (linear.bias is { } bias) nn.init.zeros_(bias);
                    break;
            }
        }
    }
}
