namespace ArchGen.Training;

/// <summary>
/// The learning rate of every step of a run, from its 0-based global step alone (so a resumed run continues on the
/// same curve):
/// <list type="bullet">
/// <item><c>constant</c>: the peak rate throughout (the reference exercise).</item>
/// <item><c>epoch-cosine</c>: cosine annealing from the peak towards 0 over the epochs, stepped once per epoch (kuangliu's SGD recipe).</item>
/// <item><c>cosine</c>: per step, a linear warm-up to the peak over the warm-up share of the run, then cosine annealing to 0.</item>
/// <item><c>one-cycle</c>: per step, PyTorch's <c>OneCycleLR</c> (cosine phases, <c>div_factor</c> 25,
/// <c>final_div_factor</c> 1e4, <c>pct_start</c> = the warm-up share): up from peak/25 to the peak, then down to peak/25/1e4.</item>
/// </list>
/// </summary>
public sealed class LearningRateSchedule
{
    /// <summary>The schedules by name.</summary>
    public static IReadOnlyList<string> Names { get; } = ["constant", "epoch-cosine", "cosine", "one-cycle"];

    /// <summary>One-cycle starts at peak / <see cref="OneCycleDivFactor"/>.</summary>
    public const double OneCycleDivFactor = 25;

    /// <summary>One-cycle ends at its start / <see cref="OneCycleFinalDivFactor"/>.</summary>
    public const double OneCycleFinalDivFactor = 1e4;

    readonly string kind;
    readonly double peak;
    readonly double epochs;
    readonly int stepsPerEpoch;
    readonly double warmup;

    /// <param name="kind">One of <see cref="Names"/>.</param>
    /// <param name="peak">The peak (or constant) rate.</param>
    /// <param name="epochs">Epochs of the run (a fraction ends the last epoch early).</param>
    /// <param name="stepsPerEpoch">Optimizer steps per epoch.</param>
    /// <param name="warmup">Share of the run's steps spent warming up (<c>cosine</c>, <c>one-cycle</c>), in [0, 1).</param>
    public LearningRateSchedule(string kind, double peak, double epochs, int stepsPerEpoch, double warmup)
    {
        if (!Names.Contains(kind)) throw new ArgumentException($"Unknown schedule '{kind}'; expected one of {string.Join(", ", Names)}.", nameof(kind));
        if (!(epochs > 0)) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "Epochs must be above 0.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepsPerEpoch);
        if (!(warmup >= 0 && warmup < 1)) throw new ArgumentOutOfRangeException(nameof(warmup), warmup, "The warm-up share must be in [0, 1).");
        this.kind = kind;
        this.peak = peak;
        this.epochs = epochs;
        this.stepsPerEpoch = stepsPerEpoch;
        this.warmup = warmup;
    }

    /// <summary>The schedule a configuration asks for.</summary>
    public static LearningRateSchedule For(TrainConfig config, int stepsPerEpoch) =>
        new(config.ResolvedSchedule, config.ResolvedLearningRate, config.Epochs, stepsPerEpoch, config.ResolvedWarmup);

    /// <summary>The warm-up share a schedule uses when none is given: 0.3 for one-cycle (PyTorch's <c>pct_start</c>), 0.05 for cosine, else 0.</summary>
    public static double DefaultWarmup(string kind) => kind switch
    {
        "one-cycle" => 0.3,
        "cosine" => 0.05,
        _ => 0,
    };

    /// <summary>Steps in the whole run: the epochs' batches, a fractional last epoch's rounded half away from zero (at least one step).</summary>
    public long TotalSteps => Math.Max(1, (long)Math.Round(epochs * stepsPerEpoch, MidpointRounding.AwayFromZero));

    /// <summary>Epochs the run enters, the last one possibly cut short.</summary>
    public int EpochCount => (int)((TotalSteps - 1) / stepsPerEpoch) + 1;

    /// <summary>Batches run in epoch <paramref name="epoch"/> (0-based): all of them but in a last, fractional epoch.</summary>
    public int BatchesIn(int epoch) => (int)Math.Clamp(TotalSteps - (long)epoch * stepsPerEpoch, 0, stepsPerEpoch);

    /// <summary>The rate of the step with 0-based global index <paramref name="step"/>.</summary>
    public double At(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        switch (kind)
        {
            case "constant":
                return peak;
            case "epoch-cosine":
            {
                int epoch = (int)Math.Min(step / stepsPerEpoch, EpochCount - 1);
                return peak * 0.5 * (1 + Math.Cos(Math.PI * epoch / epochs)); // as the per-epoch loop computed it
            }
            case "cosine":
            {
                long total = TotalSteps;
                long warm = (long)Math.Round(warmup * total);
                if (step < warm) return peak * (step + 1) / warm;
                double progress = Math.Min(1.0, (double)(step - warm) / Math.Max(1, total - warm));
                return peak * 0.5 * (1 + Math.Cos(Math.PI * progress));
            }
            default: // one-cycle, as torch.optim.lr_scheduler.OneCycleLR computes it
            {
                double initial = peak / OneCycleDivFactor, final = initial / OneCycleFinalDivFactor;
                double end1 = warmup * TotalSteps - 1, end2 = TotalSteps - 1;
                double s = Math.Min(step, end2);
                if (s <= end1) return Cosine(initial, peak, end1 <= 0 ? 1 : s / end1);
                return Cosine(peak, final, (s - end1) / (end2 - end1));
            }
        }
    }

    /// <summary>PyTorch's <c>_annealing_cos</c>: from <paramref name="start"/> at 0 to <paramref name="end"/> at 1.</summary>
    static double Cosine(double start, double end, double pct) => end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1);
}
