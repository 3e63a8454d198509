using ArchGen.Studies;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Runtime.Tests.Studies;

/// <summary>The paper's Figure 1, computed: against NumPy for fixed embeddings, and the trend the paper claims.</summary>
public class ReluManifoldTests
{
    [Fact]
    public void TheSpiralRunsFromTheOriginToOneOverTwoTurns()
    {
        using var x = ReluManifold.Spiral(201);
        Assert.Equal([2L, 201L], x.shape);
        Assert.Equal(0.0, x[0, 0].item<double>(), 15);
        Assert.Equal(0.0, x[1, 0].item<double>(), 15);
        Assert.Equal(1.0, x[0, 200].item<double>(), 12); // θ = 4π: (4π cos 4π, 4π sin 4π) / 4π = (1, 0)
        Assert.Equal(0.0, x[1, 200].item<double>(), 12);
        Assert.Equal(0.5, x[0, 100].item<double>(), 12); // θ = 2π: (1/2, 0)
        Assert.Equal(-0.25, x[0, 50].item<double>(), 12); // θ = π: (-1/4, 0)
    }

    // From `/usr/bin/python3 tools/reference/manifold.py` (NumPy lstsq and pinv): n, read-out error, T⁺y error.
    [Theory]
    [InlineData(new[] { 1.0, 0.0, 0.0, 1.0 }, 0.556835307610, 0.636123488720)]
    [InlineData(new[] { 0.5, -1.2, 1.5, 0.3, -0.7, 0.9 }, 0.343041875847, 0.550129336024)]
    [InlineData(new[] { 0.2, 1.1, -1.3, 0.4, 0.8, -0.6, 1.7, 1.2, -0.5, -1.9 }, 0.053999150197, 0.517234021651)]
    public void ErrorsOfAFixedEmbeddingEqualNumPys(double[] embedding, double readout, double pinv)
    {
        using var x = ReluManifold.Spiral(200);
        using var t = tensor(embedding, dtype: float64).reshape(embedding.Length / 2, 2);
        var (r, p, reconstruction) = ReluManifold.Errors(t, x);
        reconstruction.Dispose();
        Assert.Equal(readout, r, 9);
        Assert.Equal(pinv, p, 9);
    }

    [Fact]
    public void ReluLosesTheSpiralInFewDimensionsAndKeepsItInMany()
    {
        var result = ReluManifold.Run(new ManifoldOptions(ManifoldOptions.PaperDims, Points: 500, Trials: 20, Seed: 3));
        var errors = result.Dimensions.Select(d => d.ReadoutError).ToArray();
        Assert.Equal(ManifoldOptions.PaperDims, result.Dimensions.Select(d => d.Dim));
        for (int i = 1; i < errors.Length; i++) Assert.True(errors[i] < errors[i - 1], $"read-out error {string.Join(", ", errors)} does not fall with n");
        Assert.True(errors[0] > 0.3, $"n = 2: {errors[0]}");
        Assert.True(errors[^1] < 0.01, $"n = 30: {errors[^1]}");
        Assert.All(result.Dimensions, d => Assert.Equal(2 * 500, d.Example.Length));
        Assert.Equal(2 * 500, result.Spiral.Length);
    }

    /// <summary>
    /// With as many features as points (or more) an affine read-out fits the spiral exactly: the error is 0, not what a
    /// least-squares solver that assumes full rank makes of ReLU's zero columns (0.63 at n = 30 with 3 points, 1.0 at
    /// n = 30 with 3 points and 2 trials).
    /// </summary>
    [Theory]
    [InlineData(30, 3)]
    [InlineData(30, 10)]
    [InlineData(30, 31)]
    [InlineData(15, 16)]
    public void WithNoMorePointsThanFeaturesTheReadOutIsExact(int dim, int points)
    {
        var result = ReluManifold.Run(new ManifoldOptions([dim], Points: points, Trials: 5, Seed: 1));
        Assert.True(result.Dimensions[0].ReadoutError < 1e-9, $"n = {dim}, {points} points: read-out error {result.Dimensions[0].ReadoutError}");
    }

    [Fact]
    public void ADimensionsNumbersDependOnlyOnTheSeedAndTheDimension()
    {
        var both = ReluManifold.Run(new ManifoldOptions([30, 3], Points: 100, Trials: 4, Seed: 9));
        var alone = ReluManifold.Run(new ManifoldOptions([3], Points: 100, Trials: 4, Seed: 9));
        // The same draws give the same numbers, up to the last bits LAPACK's least squares may round differently
        // with the process-wide thread count other tests set (0.37847060084925399 against ...405 once in CI).
        Assert.Equal(alone.Dimensions[0].ReadoutError, both.Dimensions[1].ReadoutError, 1e-12);
        Assert.Equal(alone.Dimensions[0].Example.Cast<double>(), both.Dimensions[1].Example.Cast<double>(), (a, b) => Math.Abs(a - b) <= 1e-12);
        var other = ReluManifold.Run(new ManifoldOptions([3], Points: 100, Trials: 4, Seed: 10));
        Assert.True(Math.Abs(alone.Dimensions[0].ReadoutError - other.Dimensions[0].ReadoutError) > 1e-6, "another seed, other draws");
    }

    [Theory]
    [InlineData(new int[0], 100, 1)]
    [InlineData(new[] { 0 }, 100, 1)]
    [InlineData(new[] { 2, 1025 }, 100, 1)]
    [InlineData(new[] { 2 }, 2, 1)]
    [InlineData(new[] { 2 }, 20_001, 1)]
    [InlineData(new[] { 2 }, 100, 0)]
    [InlineData(new[] { 2 }, 100, 10_001)]
    public void ValuesOutOfRangeAreRefusedBeforeAnyWork(int[] dims, int points, int trials)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ReluManifold.Run(new ManifoldOptions(dims, points, trials)));
    }

    [Fact]
    public void AStopRequestEndsTheRun()
    {
        using var stop = new CancellationTokenSource();
        stop.Cancel();
        Assert.Throws<OperationCanceledException>(() => ReluManifold.Run(new ManifoldOptions([2], Points: 100, Trials: 3), stop.Token));
    }
}
