using System.Diagnostics;
using ArchGen.Performance;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ArchGen.Runtime.Tests.Performance;

/// <summary>
/// The layout check's arithmetic survives garbage collections in the middle of its native calls. TorchSharp 0.107
/// leaves the Scalars it makes implicitly (the alpha of <c>add_(Tensor)</c>) to the finalizer, which may free one while
/// LibTorch still reads it, and LibTorch then throws. With collections forced beside it, a control loop of TorchSharp's
/// own <c>add_(Tensor)</c> shows that this happens here; the check's float64 reference, which passes
/// <see cref="HeldScalars"/>, then passes as many Scalars and must not throw once. Runs alone: forced collections pause every thread.
/// </summary>
[Collection(nameof(HeldScalarsTests))]
public class HeldScalarsTests(ITestOutputHelper output)
{
    static readonly TimeSpan Longest = TimeSpan.FromSeconds(20);
    const int ControlFailures = 5;

    /// <summary>The Scalars one run of the reference below passes: 10 sums in the forward (9 taps and the bias), 9 in the input gradient.</summary>
    const int ScalarsPerReference = 19;


    [Fact]
    public void TheChecksArithmeticSurvivesCollectionsDuringItsNativeCalls()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.randn(64);
        var b = torch.randn(64);
        var conv = new ConvStructure(2, 2, 3, 1, 1, 2, true);
        var x = torch.randn([1, 2, 3, 3], ScalarType.Float64);
        var w = torch.randn(conv.WeightShape, ScalarType.Float64);
        var bias = torch.randn([2], ScalarType.Float64);
        var g = torch.randn([1, 2, 3, 3], ScalarType.Float64);

        var (controlTime, controlThrown, controlRuns) = UnderCollections(Longest, ControlFailures, () =>
        {
            using var c = a.clone();
            c.add_(b); // TorchSharp's implicit alpha
        }, () => false);
        output.WriteLine($"control, TorchSharp's implicit Scalars: {controlThrown} of {controlRuns} calls threw in {controlTime.TotalSeconds:F1} s");
        Assert.True(controlThrown > 0,
            $"TorchSharp's implicit Scalars were not freed early in {controlRuns} calls ({controlTime.TotalSeconds:F0} s of forced collections): if TorchSharp now keeps them alive, HeldScalars and this test can go.");

        // As many Scalars as the control passed (at least half as many within the time): unheld, some would throw.
        long target = controlRuns, scalars = 0;
        var (time, thrown, runs) = UnderCollections(Longest + Longest / 2, int.MaxValue, () =>
        {
            scalars += ScalarsPerReference;
            using var y = ConvReference.Forward(x, w, bias, conv);
            using var dx = ConvReference.InputGradient(g, w, x.shape, conv);
        }, () => scalars >= target);
        output.WriteLine($"the check's reference: {thrown} of {runs} runs ({scalars} Scalars) threw in {time.TotalSeconds:F1} s");
        Assert.True(2 * scalars >= target, $"only {scalars} of {target} Scalars in {time.TotalSeconds:F0} s");
        Assert.Equal(0, thrown);
    }

    /// <summary>
    /// Runs <paramref name="work"/> while another thread forces collections of the youngest generation (where the
    /// temporaries are), until <paramref name="time"/>, <paramref name="failures"/> exceptions or <paramref name="enough"/>.
    /// </summary>
    static (TimeSpan Time, int Thrown, long Runs) UnderCollections(TimeSpan time, int failures, Action work, Func<bool> enough)
    {
        bool stop = false;
        var collector = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                GC.WaitForPendingFinalizers();
            }
        }) { IsBackground = true };
        collector.Start();
        int thrown = 0;
        long runs = 0;
        var clock = Stopwatch.StartNew();
        try
        {
            while (clock.Elapsed < time && thrown < failures && !enough())
            {
                try
                {
                    work();
                }
                catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or InvalidOperationException or ArgumentException)
                {
                    thrown++;
                }
                runs++;
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            collector.Join();
        }
        return (clock.Elapsed, thrown, runs);
    }
}

[CollectionDefinition(nameof(HeldScalarsTests), DisableParallelization = true)]
public sealed class HeldScalarsAlone;
