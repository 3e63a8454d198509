using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Performance;

/// <summary>
/// Inputs, weights and gradients for the checks of <see cref="VerifiedLayout"/>: standard normal values from a pool drawn
/// once from a generator of its own (never the global one), laid end to end. The pool's length is a prime, so no
/// image, channel or row of any shape repeats another, and a tensor of any size costs one copy rather than a draw.
/// </summary>
internal static class CheckData
{
    const long PoolSize = 1_000_003;
    const ulong Seed = 0x5EEDCAFE;

    static readonly Lazy<Tensor> Pool = new(() =>
    {
        using var random = new Generator(Seed);
        return torch.randn([PoolSize], ScalarType.Float32, generator: random).DetachFromDisposeScope();
    });

    /// <summary>A new float32 tensor of <paramref name="shape"/> on <paramref name="device"/>; <paramref name="salt"/> chooses where in the pool it starts.</summary>
    public static Tensor Fill(long[] shape, Device device, long salt)
    {
        long count = shape.Aggregate(1L, (a, d) => a * d);
        long start = salt * 104_729 % PoolSize;
        long repeats = (start + count + PoolSize - 1) / PoolSize;
        using var tiled = Pool.Value.repeat(repeats);
        using var slice = tiled.narrow(0, start, count);
        return slice.view(shape).to(device, copy: true);
    }
}
