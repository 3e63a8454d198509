using ArchGen.Training;
using ScottPlot;

namespace ArchGen.App.Reporting;

/// <summary>A study's <c>accuracy.png</c>: each model's test accuracy per epoch, the mean over its seeds as a line in a band of ± one standard deviation.</summary>
public static class StudyPlot
{
    public static void Write(IReadOnlyList<string> models, IReadOnlyList<(string Model, string RunFolder)> runs, string path)
    {
        var plot = new Plot();
        for (int m = 0; m < models.Count; m++)
        {
            // epoch -> the seeds' test accuracies at its end
            var byEpoch = new SortedDictionary<double, List<double>>();
            foreach (var (_, runFolder) in runs.Where(r => r.Model == models[m]))
            {
                string metrics = new RunFolder(runFolder).Metrics;
                if (!File.Exists(metrics)) continue;
                foreach (var row in MetricsLog.Read(metrics, "epoch"))
                {
                    if (row.TryGetValue("epoch", out double epoch) && row.TryGetValue("test_accuracy", out double accuracy) && double.IsFinite(accuracy))
                    {
                        if (!byEpoch.TryGetValue(epoch, out var list)) byEpoch[epoch] = list = [];
                        list.Add(accuracy);
                    }
                }
            }
            if (byEpoch.Count == 0) continue;
            var xs = byEpoch.Keys.ToArray();
            var stats = byEpoch.Values.Select(v => Studies.Study.MeanAndStd(v)).ToArray();
            var mean = stats.Select(s => s.Mean).ToArray();
            var spread = stats.Select(s => double.IsFinite(s.Std) ? s.Std : 0).ToArray();
            var color = plot.Add.Palette.GetColor(m);
            var band = plot.Add.FillY(xs, mean.Zip(spread, (a, s) => a - s).ToArray(), mean.Zip(spread, (a, s) => a + s).ToArray());
            band.FillColor = color.WithAlpha(0.2);
            band.LineColor = Colors.Transparent;
            var line = plot.Add.ScatterLine(xs, mean);
            line.Color = color;
            line.MarkerSize = 7; // a run of one epoch is one point
            if (xs.Length == 1)
            {
                var bar = plot.Add.ErrorBar(xs, mean, spread);
                bar.Color = color;
            }
            line.LegendText = $"{models[m]} (mean of {runs.Count(r => r.Model == models[m])} seeds, band ± 1 std)";
        }
        plot.Title("Test accuracy per epoch");
        plot.XLabel("epoch");
        plot.YLabel("test accuracy %");
        plot.ShowLegend();
        RunPlots.SavePng(plot, path, 900, 550);
    }
}
