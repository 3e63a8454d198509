using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ArchGen.App.Cli;
using ArchGen.App.Reporting;
using ArchGen.Data;
using ArchGen.Studies;
using Spectre.Console;

namespace ArchGen.App.Commands;

/// <summary><c>archgen manifold</c>: the MobileNetV2 paper's Figure 1 (a spiral through ReLU in n dimensions), computed and drawn.</summary>
public static class ManifoldCommand
{
    public const string FigureName = "manifold.png";

    public static Command Create()
    {
        var dims = new Option<string>("--dims")
        {
            Description = $"Dimensions n the 2-D spiral is embedded into, comma-separated (1 to {ManifoldOptions.MaxDim}, at most {ManifoldOptions.MaxDims}).",
            DefaultValueFactory = _ => string.Join(",", ManifoldOptions.PaperDims),
        };
        var points = new Option<int>("--points") { Description = $"Points on the spiral (3 to {ManifoldOptions.MaxPoints}).", DefaultValueFactory = _ => 1000 };
        var trials = new Option<int>("--trials") { Description = $"Random embeddings T per dimension, averaged (1 to {ManifoldOptions.MaxTrials}).", DefaultValueFactory = _ => 100 };
        var seed = new Option<long>("--seed") { Description = "Seed of the embeddings.", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out", "-o") { Description = $"Folder the figure ({FigureName}) is written to (created when missing).", DefaultValueFactory = _ => "." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object {\"dims\", \"readout_error\", \"pinv_error\"} instead of a table." };
        var command = new Command("manifold",
            "The MobileNetV2 paper's Figure 1, computed: a spiral embedded into n dimensions by a random T, passed through ReLU and read back. " +
            "Prints how much of the spiral the best linear read-out still recovers (relative error; ~0 when n is large, large when n is 2 or 3) and draws T⁺·ReLU(T x) per n.")
        {
            dims, points, trials, seed, output, json,
        };
        command.SetAction(parse => CommandAction.Run(() =>
        {
            var options = new ManifoldOptions(ParseDims(parse.GetValue(dims)!), parse.GetValue(points), parse.GetValue(trials), parse.GetValue(seed));
            Check(options);
            string folder = OutputFile.RequireFolder(parse.GetValue(output)!, "--out");
            string figure = Path.Combine(folder, FigureName);
            if (Directory.Exists(figure)) throw new ArgumentException($"--out {folder} holds a folder named {FigureName}, which the figure would replace; give another --out.");
            OutputFile.Require(figure, "--out");

            var result = ReluManifold.Run(options, Interruption.Token);
            Directory.CreateDirectory(folder);
            ManifoldPlot.Write(result, figure);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["dims"] = result.Dimensions.Select(d => d.Dim).ToArray(),
                    ["readout_error"] = result.Dimensions.Select(d => d.ReadoutError).ToArray(),
                    ["pinv_error"] = result.Dimensions.Select(d => d.PinvError).ToArray(),
                }));
                Console.Error.WriteLine($"Figure: {Printable.Text(figure)}");
            }
            else
            {
                Print(result, options);
                Console.WriteLine($"Figure: {Printable.Text(figure)}");
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    static IReadOnlyList<int> ParseDims(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var result = new List<int>();
        foreach (string part in parts)
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
                throw new ArgumentException($"--dims '{text}' is not a comma-separated list of whole numbers, e.g. 2,3,5,15,30.");
            if (result.Contains(n)) throw new ArgumentException($"--dims '{text}' names {n.ToString(CultureInfo.InvariantCulture)} twice.");
            result.Add(n);
        }
        return result;
    }

    /// <summary>The runtime's bounds, said with the flags' names.</summary>
    static void Check(ManifoldOptions options)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            string flag = e.ParamName switch { nameof(ManifoldOptions.Points) => "--points", nameof(ManifoldOptions.Trials) => "--trials", _ => "--dims" };
            throw new ArgumentException($"{flag} {Convert.ToString(e.ActualValue, CultureInfo.InvariantCulture)}: {e.Message.Split(" (Parameter", 2)[0].Split(Environment.NewLine)[0]}.");
        }
    }

    static void Print(ManifoldResult result, ManifoldOptions options)
    {
        string I(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        var table = new Table()
            .Title($"Spiral of {I(options.Points)} points, mean of {I(options.Trials)} T per n")
            .AddColumn(new TableColumn("n").RightAligned())
            .AddColumn(new TableColumn("read-out error").RightAligned())
            .AddColumn(new TableColumn("T⁺y error").RightAligned());
        foreach (var d in result.Dimensions)
            table.AddRow(d.Dim.ToString(CultureInfo.InvariantCulture), d.ReadoutError.ToString("0.0000", CultureInfo.InvariantCulture), d.PinvError.ToString("0.0000", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        Console.WriteLine("read-out error: mean ‖x̂ − x‖ / mean ‖x‖ of the best affine read-out x̂ = A·[y, 1] (least squares); T⁺y error: the same for the paper's pseudo-inverse.");
    }
}
