using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Studies;

/// <summary>What <see cref="ReluManifold.Run"/> computes: the dimensions, how many points and random embeddings.</summary>
/// <param name="Dims">The dimensions n the spiral is embedded into (each at most <see cref="MaxDim"/>, at most <see cref="MaxDims"/> of them).</param>
/// <param name="Points">Points on the spiral (at least 3, at most <see cref="MaxPoints"/>).</param>
/// <param name="Trials">Random embeddings T per dimension (at most <see cref="MaxTrials"/>).</param>
/// <param name="Seed">Seed of the embeddings; a dimension's embeddings depend only on it and the dimension.</param>
public sealed record ManifoldOptions(IReadOnlyList<int> Dims, int Points = 1000, int Trials = 100, long Seed = 0)
{
    public const int MaxDim = 1024;
    public const int MaxDims = 16;
    public const int MaxPoints = 20_000;
    public const int MaxTrials = 10_000;

    /// <summary>The paper's Figure 1 dimensions.</summary>
    public static readonly IReadOnlyList<int> PaperDims = [2, 3, 5, 15, 30];

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a value out of range.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Dims);
        if (Dims.Count is 0 or > MaxDims) throw new ArgumentOutOfRangeException(nameof(Dims), Dims.Count, $"give 1 to {MaxDims} dimensions");
        foreach (int n in Dims)
            if (n is < 1 or > MaxDim) throw new ArgumentOutOfRangeException(nameof(Dims), n, $"every dimension must be 1 to {MaxDim}");
        if (Points is < 3 or > MaxPoints) throw new ArgumentOutOfRangeException(nameof(Points), Points, $"must be 3 to {MaxPoints}");
        if (Trials is < 1 or > MaxTrials) throw new ArgumentOutOfRangeException(nameof(Trials), Trials, $"must be 1 to {MaxTrials}");
    }
}

/// <summary>The result for one dimension n.</summary>
/// <param name="Dim">n.</param>
/// <param name="ReadoutError">Mean over the trials of the best affine read-out's relative error (<see cref="ReluManifold.Errors"/>).</param>
/// <param name="PinvError">Mean over the trials of the relative error of T⁺y, the paper's reconstruction.</param>
/// <param name="Example">T⁺y of the first trial, 2 x points: what the figure draws.</param>
public sealed record ManifoldDimension(int Dim, double ReadoutError, double PinvError, double[,] Example);

/// <summary>The spiral (2 x points) and one result per dimension, in the order asked.</summary>
public sealed record ManifoldResult(double[,] Spiral, IReadOnlyList<ManifoldDimension> Dimensions, int Trials);

/// <summary>
/// The MobileNetV2 paper's Figure 1, computed. A 2-D spiral x is embedded into n dimensions by a random matrix T
/// (n x 2, i.i.d. N(0, 1)), passed through ReLU, y = ReLU(T x), and read back. The paper draws T⁺y (Moore–Penrose
/// pseudo-inverse); the number behind the picture is how much of x a linear read-out of y still recovers: the affine
/// map A fitted by least squares to x̂ = A·[y, 1] over all points, with error mean‖x̂ − x‖ / mean‖x‖. When n is large
/// ReLU keeps the information (the error goes to 0); when n is 2 or 3 it collapses parts of the spiral onto each other
/// and no read-out recovers them. All in float64.
/// </summary>
public static class ReluManifold
{
    /// <summary>θ evenly spaced in [0, 4π] (both ends included), x = (θ cos θ, θ sin θ) / 4π: 2 x <paramref name="points"/>.</summary>
    public static Tensor Spiral(int points)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(points, 2);
        using var scope = NewDisposeScope();
        var theta = linspace(0, 4 * Math.PI, points, dtype: float64);
        return stack([theta * cos(theta), theta * sin(theta)]).div_(4 * Math.PI).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One embedding <paramref name="t"/> (n x 2) of <paramref name="x"/> (2 x points): the read-out and T⁺y errors,
    /// and T⁺y itself (2 x points; the caller disposes it).
    /// </summary>
    public static (double Readout, double Pinv, Tensor Reconstruction) Errors(Tensor t, Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = nn.functional.relu(t.matmul(x));                                       // n x points
        var features = cat([y, ones(1, x.shape[1], dtype: float64)]).t();             // points x (n + 1)
        // The least-squares read-out through the pseudo-inverse (SVD): exact when the features span the points, and
        // right when ReLU leaves columns of zeros (a solver that assumes full rank is not: 0.63 where 0 is right).
        var readout = features.matmul(linalg.pinv(features).matmul(x.t())).t();      // 2 x points
        var reconstruction = linalg.pinv(t).matmul(y);                               // 2 x points
        double scale = x.norm(0).mean().item<double>();
        double Error(Tensor estimate) => (estimate - x).norm(0).mean().item<double>() / scale;
        return (Error(readout), Error(reconstruction), reconstruction.MoveToOuterDisposeScope());
    }

    /// <summary>Every dimension's mean errors over the trials, and the first trial's T⁺y; stops at <paramref name="cancel"/>.</summary>
    public static ManifoldResult Run(ManifoldOptions options, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using var x = Spiral(options.Points);
        var dimensions = new List<ManifoldDimension>();
        foreach (int n in options.Dims)
        {
            using var generator = new Generator(unchecked((ulong)options.Seed * 1_000_003UL + (ulong)n));
            double readout = 0, pinv = 0;
            double[,]? example = null;
            for (int trial = 0; trial < options.Trials; trial++)
            {
                cancel.ThrowIfCancellationRequested();
                using var t = randn(n, 2, dtype: float64, generator: generator);
                var (r, p, reconstruction) = Errors(t, x);
                using (reconstruction)
                {
                    readout += r;
                    pinv += p;
                    example ??= ToArray(reconstruction);
                }
            }
            dimensions.Add(new ManifoldDimension(n, readout / options.Trials, pinv / options.Trials, example!));
        }
        return new ManifoldResult(ToArray(x), dimensions, options.Trials);
    }

    static double[,] ToArray(Tensor matrix)
    {
        var values = matrix.contiguous().data<double>().ToArray();
        int rows = (int)matrix.shape[0], columns = (int)matrix.shape[1];
        var result = new double[rows, columns];
        Buffer.BlockCopy(values, 0, result, 0, values.Length * sizeof(double));
        return result;
    }
}
