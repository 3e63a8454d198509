using System.CommandLine;
using System.Globalization;
using ArchGen.App.Cli;
using ArchGen.App.Reporting;
using ArchGen.Data;
using ArchGen.Training;
using Spectre.Console;
using TorchSharp;

namespace ArchGen.App.Commands;

/// <summary><c>archgen test</c>: accuracy, per-class accuracy and confusion matrix of a checkpoint, run folder or PyTorch weights file.</summary>
public static class TestCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint", "-c") { Description = "Checkpoint file, run folder (its latest checkpoint) or PyTorch .pt/.pth/.safetensors weights.", Required = true };
        var model = CommonOptions.Model(defaultModel: null);
        var dataset = CommonOptions.Dataset();
        var data = CommonOptions.DataDir();
        var download = CommonOptions.Download();
        var batchSize = CommonOptions.BatchSize();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var testLimit = CommonOptions.TestLimit();
        var flipTta = new Option<bool>("--flip-tta") { Description = "Average each image's logits with its mirror image's (default: as the run was trained with --flip-tta)." };
        var command = new Command("test", "Evaluate a trained model on a test set (a run's moving average of the weights when it kept one).")
        {
            checkpoint, model, dataset, data, download, batchSize, device, threads, testLimit, flipTta,
        };
        command.SetAction(parse => CommandAction.Run(() =>
        {
            var dev = Devices.Resolve(parse.GetValue(device)!);
            Devices.SetThreads(parse.GetValue(threads));
            var source = ModelSource.Open(parse.GetValue(checkpoint)!, parse.GetValue(model));
            using var module = source.Module;
            module.to(dev);

            // The dataset the model was trained on, unless the user names one.
            string datasetName = parse.GetResult(dataset) is { Implicit: false } || source.SavedConfig is null ? parse.GetValue(dataset)! : source.SavedConfig.Dataset;
            string? dataDir = parse.GetValue(data) ?? source.SavedConfig?.DataDir;
            var set = CommonOptions.OpenDataset(datasetName, dataDir, parse.GetValue(download), seed: 0, source.Entry.Facts.InputSize);
            int limit = parse.GetValue(testLimit);
            var test = limit > 0 ? set.Test.Take(limit) : set.Test;
            var facts = source.Entry.Facts;
            var loader = new BatchLoader(test, set.Normalization, parse.GetValue(batchSize), train: false, seed: 0, dev, facts.InputChannels, facts.InputSize);

            bool flip = parse.GetResult(flipTta) is { Implicit: false } ? parse.GetValue(flipTta) : source.SavedConfig?.FlipTta ?? false;
            var result = Evaluator.Evaluate(module, loader, test.ClassNames, flip: flip);
            Console.WriteLine($"{facts.Name} from {source.Path} on {set.Name}{(flip ? " (flip test-time augmentation)" : "")}");
            AnsiConsole.Write(PerClassTable(result));
            AnsiConsole.Write(ConfusionTable(result));
            if (source.RunFolderPath is not null)
            {
                string png = new RunFolder(source.RunFolderPath).ConfusionPlot;
                RunPlots.Confusion(result, png);
                Console.WriteLine($"Confusion matrix: {png}");
            }
            Console.WriteLine(result.ReferenceLine);
            return ExitCodes.Success;
        }));
        return command;
    }

    static Table PerClassTable(EvaluationResult r)
    {
        var table = new Table().Title("Accuracy per class").AddColumns("Class", "Images", "Correct", "Accuracy %");
        for (int c = 0; c < r.ClassNames.Count; c++)
        {
            long n = 0;
            for (int p = 0; p < r.ClassNames.Count; p++) n += r.Confusion[c, p];
            table.AddRow(Markup.Escape(r.ClassNames[c]), n.ToString(CultureInfo.InvariantCulture), r.Confusion[c, c].ToString(CultureInfo.InvariantCulture),
                double.IsNaN(r.ClassAccuracy(c)) ? "-" : r.ClassAccuracy(c).ToString("F2", CultureInfo.InvariantCulture));
        }
        return table;
    }

    static Table ConfusionTable(EvaluationResult r)
    {
        var table = new Table().Title("Confusion matrix (rows: true class, columns: predicted)");
        table.AddColumn("true \\ predicted");
        for (int p = 0; p < r.ClassNames.Count; p++) table.AddColumn(new TableColumn(p.ToString(CultureInfo.InvariantCulture)).RightAligned());
        for (int t = 0; t < r.ClassNames.Count; t++)
        {
            var cells = new List<string> { $"{t} {Markup.Escape(r.ClassNames[t])}" };
            for (int p = 0; p < r.ClassNames.Count; p++)
            {
                string v = r.Confusion[t, p].ToString(CultureInfo.InvariantCulture);
                cells.Add(t == p ? $"[green]{v}[/]" : v);
            }
            table.AddRow(cells.ToArray());
        }
        return table;
    }
}
