using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Runtime.Tests.Torch;

/// <summary>Proves the native TorchSharp library loads on this machine (on Debian 12 only after the build's libstdc++ step).</summary>
public class TorchSharpLoadsTests
{
    [Fact]
    public void SmallConvNetRunsAForwardPass()
    {
        torch.manual_seed(1);
        using var net = nn.Sequential(
            ("conv", nn.Conv2d(3, 8, 3, padding: 1)),
            ("bn", nn.BatchNorm2d(8)),
            ("relu", nn.ReLU()),
            ("pool", nn.AdaptiveAvgPool2d(1)),
            ("flat", nn.Flatten()),
            ("fc", nn.Linear(8, 10)));
        using var x = torch.randn(4, 3, 16, 16);
        using var y = net.forward(x);
        Assert.Equal(new long[] { 4, 10 }, y.shape);
        Assert.True(torch.isfinite(y).all().item<bool>());
    }
}
