namespace ArchGen.Training;

/// <summary>Test-set results: overall and per-class accuracy, mean loss and the confusion matrix (rows: true class, columns: predicted).</summary>
public sealed class EvaluationResult
{
    public EvaluationResult(IReadOnlyList<string> classNames, long[,] confusion, double meanLoss)
    {
        ClassNames = classNames;
        Confusion = confusion;
        MeanLoss = meanLoss;
        for (int t = 0; t < classNames.Count; t++)
        for (int p = 0; p < classNames.Count; p++)
        {
            Total += confusion[t, p];
            if (t == p) Correct += confusion[t, p];
        }
    }

    public IReadOnlyList<string> ClassNames { get; }
    public long[,] Confusion { get; }
    public double MeanLoss { get; }
    public long Total { get; }
    public long Correct { get; }

    /// <summary>Images whose logits held NaN or an infinity: their "prediction" means nothing (the weights are damaged).</summary>
    public long NonFinite { get; init; }

    /// <summary>Accuracy in percent.</summary>
    public double Accuracy => Total == 0 ? 0 : 100.0 * Correct / Total;

    /// <summary>Accuracy of one true class in percent (NaN when the class has no test images).</summary>
    public double ClassAccuracy(int c)
    {
        long n = 0;
        for (int p = 0; p < ClassNames.Count; p++) n += Confusion[c, p];
        return n == 0 ? double.NaN : 100.0 * Confusion[c, c] / n;
    }

    /// <summary>The reference exercise's closing line.</summary>
    public string ReferenceLine => $"Accuracy of the network on the {Total} test images: {Accuracy.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)} %";
}

