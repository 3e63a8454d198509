using System.Globalization;
using ArchGen.Checkpoints;
using ArchGen.Studies;
using ScottPlot;

namespace ArchGen.App.Reporting;

/// <summary>The paper's Figure 1 as a PNG: the input spiral, then T⁺·ReLU(T x) of one embedding per dimension n.</summary>
public static class ManifoldPlot
{
    public static void Write(ManifoldResult result, string path)
    {
        var multiplot = new Multiplot();
        int panels = result.Dimensions.Count + 1;
        multiplot.AddPlots(panels);
        int columns = Math.Min(panels, 6), rows = (panels + columns - 1) / columns;
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        Panel(multiplot.GetPlot(0), result.Spiral, "Input");
        for (int i = 0; i < result.Dimensions.Count; i++)
        {
            var d = result.Dimensions[i];
            Panel(multiplot.GetPlot(i + 1), d.Example,
                $"n = {d.Dim.ToString(CultureInfo.InvariantCulture)}: read-out error {d.ReadoutError.ToString("0.000", CultureInfo.InvariantCulture)}");
        }
        using var image = multiplot.Render(300 * columns, 320 * rows);
        AtomicFile.WriteAllBytes(path, image.GetImageBytes(ImageFormat.Png));
    }

    /// <summary>The 2 x points curve in θ order, on equal axes.</summary>
    static void Panel(Plot plot, double[,] points, string title)
    {
        int n = points.GetLength(1);
        var xs = new double[n];
        var ys = new double[n];
        for (int k = 0; k < n; k++)
        {
            xs[k] = points[0, k];
            ys[k] = points[1, k];
        }
        var line = plot.Add.ScatterLine(xs, ys);
        line.MarkerSize = 2;
        plot.Title(title, size: 12);
        plot.Axes.SquareUnits();
    }
}
