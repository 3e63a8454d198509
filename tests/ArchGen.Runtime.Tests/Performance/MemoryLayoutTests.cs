using ArchGen.Performance;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Runtime.Tests.Performance;

public class MemoryLayoutTests
{
    /// <summary>A write through <paramref name="b"/> shows in <paramref name="a"/>: no copy was made.</summary>
    private static void AssertSharesData(Tensor a, Tensor b)
    {
        using var before = a.clone();
        b.add_(1);
        using var expected = before + 1;
        Assert.True(a.equal(expected).all().item<bool>());
    }

    [Fact]
    public void ChannelsLastKeepsShapeAndValuesAndStoresChannelsInnermost()
    {
        using var x = torch.arange(2 * 3 * 4 * 5, dtype: ScalarType.Float32).reshape(2, 3, 4, 5);
        using var y = MemoryLayout.ChannelsLast(x);
        Assert.Equal(x.shape, y.shape);
        Assert.True(x.equal(y).all().item<bool>());
        Assert.Equal(new long[] { 60, 1, 15, 3 }, y.stride());
        Assert.True(MemoryLayout.IsChannelsLast(y));
        Assert.False(MemoryLayout.IsChannelsLast(x));
    }

    [Fact]
    public void DisposingTheResultLeavesTheInputAlive()
    {
        using var x = torch.randn(2, 3, 4, 4);
        using (var copy = MemoryLayout.ChannelsLast(x)) { }
        using var packed = MemoryLayout.ChannelsLast(x);
        using (var same = MemoryLayout.ChannelsLast(packed)) { }
        Assert.True(packed.equal(x).all().item<bool>()); // both still readable after the other handles were disposed
        Assert.True(MemoryLayout.IsChannelsLast(packed));
    }

    [Fact]
    public void AlreadyChannelsLastInputIsNotCopied()
    {
        using var x = MemoryLayout.ChannelsLast(torch.randn(2, 3, 4, 4));
        using var y = MemoryLayout.ChannelsLast(x);
        AssertSharesData(x, y);
    }

    [Fact]
    public void OtherRanksPassThroughUnchanged()
    {
        using var x = torch.randn(3, 4, 4);
        using var y = MemoryLayout.ChannelsLast(x);
        AssertSharesData(x, y);
        Assert.Equal(x.stride(), y.stride());
        Assert.False(MemoryLayout.IsChannelsLast(x));
    }

    [Fact]
    public void GradientsFlowThroughTheConversion()
    {
        using var x = torch.randn(2, 3, 4, 4, requires_grad: true);
        using var y = MemoryLayout.ChannelsLast(x);
        using var loss = (y * y).sum();
        loss.backward();
        using var expected = x.detach() * 2;
        Assert.True(x.grad!.allclose(expected));
    }

    /// <summary>
    /// A 1-channel image (Fashion-MNIST at 28x28) is stored the same way in both orders, and permuting it keeps the plain
    /// strides, which LibTorch reads as the plain layout: then the first convolution's output, and with it the whole
    /// network, ran in the plain layout. The conversion must give the canonical channels-last strides.
    /// </summary>
    [Fact]
    public void OneChannelImagesGetChannelsLastStridesThatTheNextConvolutionKeeps()
    {
        using var x = torch.randn(2, 1, 5, 6);
        using var y = MemoryLayout.ChannelsLast(x);
        Assert.Equal(new long[] { 30, 1, 6, 1 }, y.stride());
        Assert.True(y.equal(x).all().item<bool>());
        Assert.True(MemoryLayout.IsChannelsLast(y));
        Assert.False(MemoryLayout.IsChannelsLast(x));

        using var conv = nn.Conv2d(1, 4, 3, padding: 1, bias: false);
        using var z = conv.call(y);
        Assert.True(MemoryLayout.IsChannelsLast(z), $"the convolution's output has strides {string.Join(",", z.stride())}");
        using var plain = conv.call(x);
        Assert.True(z.allclose(plain, 1e-5, 1e-6));
    }

    [Fact]
    public void OneChannelGradientsFlowThroughTheConversion()
    {
        using var x = torch.randn(2, 1, 4, 4, requires_grad: true);
        using var y = MemoryLayout.ChannelsLast(x);
        using var loss = (y * y).sum();
        loss.backward();
        using var expected = x.detach() * 2;
        Assert.True(x.grad!.allclose(expected));
    }
}
