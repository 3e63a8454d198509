using ArchGen.Checkpoints;
using ArchGen.Training;
using ScottPlot;

namespace ArchGen.App.Reporting;

/// <summary>The PNG pictures of a run folder: loss, accuracy and resident-memory curves from metrics.csv, and the confusion matrix.</summary>
public static class RunPlots
{
    public static void Write(RunFolder run, EvaluationResult? evaluation)
    {
        if (File.Exists(run.Metrics)) Curves(run);
        if (evaluation is not null) Confusion(evaluation, run.ConfusionPlot);
    }

    static void Curves(RunFolder run)
    {
        var steps = MetricsLog.Read(run.Metrics, "step");
        var epochs = MetricsLog.Read(run.Metrics, "epoch");

        Chart("Loss", run.LossPlot,
            (steps, "loss", "train loss (step)"), (epochs, "val_loss", "held-out loss (epoch)"), (epochs, "test_loss", "test loss (epoch)"));
        Chart("Accuracy per epoch", run.AccuracyPlot,
            (epochs, "accuracy", "train accuracy %"), (epochs, "val_accuracy", "held-out accuracy %"), (epochs, "test_accuracy", "test accuracy %"));
        Chart("Resident memory", run.MemoryPlot,
            (steps, "rss_mb", "resident memory, MiB (step)"), (epochs, "rss_mb", "after each epoch's training, MiB"), (epochs, "peak_rss_mb", "peak so far, MiB"));
    }

    /// <summary>One PNG of curves over the training step, a line per (rows, column, legend).</summary>
    static void Chart(string title, string path, params (IReadOnlyList<IReadOnlyDictionary<string, double>> Rows, string Column, string Legend)[] lines)
    {
        var plot = new Plot();
        foreach (var (rows, column, legend) in lines) Line(plot, rows, "step", column, legend);
        plot.Title(title);
        plot.XLabel("step");
        plot.ShowLegend();
        SavePng(plot, path, 800, 500);
    }

    /// <summary>Adds the rows' (x, y) points where both are numbers (a column may be empty in some rows, or missing from an older file).</summary>
    static void Line(Plot plot, IReadOnlyList<IReadOnlyDictionary<string, double>> rows, string x, string y, string legend)
    {
        var points = rows.Where(r => r.TryGetValue(x, out double a) && r.TryGetValue(y, out double b) && double.IsFinite(a) && double.IsFinite(b)).ToArray();
        if (points.Length == 0) return;
        plot.Add.ScatterLine(points.Select(r => r[x]).ToArray(), points.Select(r => r[y]).ToArray()).LegendText = legend;
    }

    /// <summary>Rows: true class, columns: predicted class; each cell coloured by the share of its row.</summary>
    public static void Confusion(EvaluationResult evaluation, string path)
    {
        int k = evaluation.ClassNames.Count;
        var share = new double[k, k];
        for (int t = 0; t < k; t++)
        {
            long n = 0;
            for (int p = 0; p < k; p++) n += evaluation.Confusion[t, p];
            for (int p = 0; p < k; p++) share[t, p] = n == 0 ? 0 : (double)evaluation.Confusion[t, p] / n;
        }
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(share);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(heatmap);
        for (int t = 0; t < k; t++)
        for (int p = 0; p < k; p++)
        {
            var text = plot.Add.Text(evaluation.Confusion[t, p].ToString(System.Globalization.CultureInfo.InvariantCulture), p, k - 1 - t);
            text.LabelFontColor = share[t, p] > 0.5 ? Colors.Black : Colors.White;
            text.LabelAlignment = Alignment.MiddleCenter;
        }
        var ticks = Enumerable.Range(0, k).Select(i => (double)i).ToArray();
        // Columns by class number (names would collide), rows by number and name.
        plot.Axes.Bottom.SetTicks(ticks, Enumerable.Range(0, k).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        plot.Axes.Left.SetTicks(ticks, evaluation.ClassNames.Select((name, i) => $"{i} {name}").Reverse().ToArray());
        plot.XLabel("predicted class");
        plot.YLabel("true class");
        plot.Title($"Confusion matrix (rows: true, columns: predicted), accuracy {evaluation.Accuracy:F2}%");
        SavePng(plot, path, 900, 800);
    }

    /// <summary>Renders in memory, then replaces the file atomically (a reader never sees half a picture).</summary>
    /// <summary>Writes <paramref name="plot"/> as a PNG, atomically.</summary>
    internal static void SavePng(Plot plot, string path, int width, int height)
    {
        using var image = plot.GetImage(width, height);
        AtomicFile.WriteAllBytes(path, image.GetImageBytes(ImageFormat.Png));
    }
}
