using System.CommandLine;
using System.Globalization;
using ArchGen.App.Cli;
using ArchGen.Inference;
using ArchGen.App.Reporting;
using ArchGen.Data;
using ArchGen.Data.Images;
using ArchGen.Training;
using Spectre.Console;
using TorchSharp;

namespace ArchGen.App.Commands;

/// <summary><c>archgen test</c>: accuracy, per-class accuracy and confusion matrix of a checkpoint, run folder or PyTorch weights file.</summary>
public static class TestCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint", "-c", "--model-file") { Description = "Checkpoint file, run folder (its latest checkpoint), PyTorch .pt/.pth/.safetensors weights or an exported .onnx model (run by ONNX Runtime).", Required = true };
        var model = CommonOptions.Model(defaultModel: null);
        var dataset = CommonOptions.Dataset();
        var data = CommonOptions.DataDir();
        var download = CommonOptions.Download();
        var batchSize = CommonOptions.BatchSize();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var testLimit = CommonOptions.TestLimit();
        var skipBadImages = CommonOptions.SkipBadImages();
        var flipTta = CommonOptions.FlipTta();
        var output = new Option<string?>("--out", "-o") { Description = "Folder to write the confusion matrix plot to (a run's own checkpoint writes it into its run folder; any other file writes no plot without --out)." };
        var byIndex = new Option<bool>("--classes-by-index") { Description = "Test on a dataset whose class names differ from those the model was trained on, matching classes by position." };
        var command = new Command("test", "Evaluate a trained model on a test set (a run's moving average of the weights when it kept one).")
        {
            checkpoint, model, dataset, data, download, batchSize, device, threads, testLimit, skipBadImages, flipTta, output, byIndex,
        };
        command.SetAction(parse => CommandAction.Run(() =>
        {
            var dev = Devices.Resolve(parse.GetValue(device)!);
            int usedThreads = Devices.SetThreads(parse.GetValue(threads));
            var source = ModelSource.Open(parse.GetValue(checkpoint)!, parse.GetValue(model), usedThreads);
            using var module = source.Module;
            module.to(dev);

            // The dataset the model was trained on, unless the user names one.
            string datasetName = parse.GetResult(dataset) is { Implicit: false } || source.SavedConfig is null ? parse.GetValue(dataset)! : source.SavedConfig.Dataset;
            string? dataDir = parse.GetValue(data) ?? source.SavedConfig?.DataDir;
            var images = new ImageFolderOptions(SkipBadImages: parse.GetValue(skipBadImages) || source.SavedConfig?.SkipBadImages == true,
                AllowEmptyClasses: source.SavedConfig?.AllowEmptyClasses == true);
            var set = CommonOptions.OpenDataset(datasetName, dataDir, parse.GetValue(download), seed: 0, source.InputSize, images);
            int limit = parse.GetValue(testLimit);
            var test = limit > 0 ? set.Test.Take(limit) : set.Test;
            ClassCount.Check(ClassCount.Outputs(module, source.InputChannels, source.InputSize, dev), $"{source.Name} from {source.Path}", test.ClassNames, $"'{set.Name}'");
            if (source.ClassNamesRecorded)
                ClassCount.CheckNames(source.ClassNames, $"{source.Name} from {source.Path}", test.ClassNames, $"'{set.Name}'", parse.GetValue(byIndex));
            // The statistics the model was trained with (the dataset open here is its training data unless the user named another).
            bool ownData = source.SavedConfig is { } saved && saved.Dataset == datasetName && saved.DataDir == dataDir;
            var normalization = source.InputNormalization(ownData ? set : null);
            var loader = test.CreateLoader(new LoaderOptions(normalization, parse.GetValue(batchSize), Train: false, Seed: 0, dev, source.InputChannels, source.InputSize));

            bool flip = CommonOptions.FlipTta(parse, flipTta, source);
            var result = Evaluator.Evaluate(module, loader, test.ClassNames, cancel: Interruption.Token, flip: flip);
            if (result.NonFinite > 0)
                throw new DataException($"the model's logits are not finite (NaN or infinite) for {result.NonFinite} of {result.Total} test images, so there is no accuracy to report; its weights are damaged", source.Path);
            Console.WriteLine(Printable.Text($"{source.Name} from {source.Path} on {set.Name}{(flip ? " (flip test-time augmentation)" : "")}"));
            AnsiConsole.Write(PerClassTable(result));
            AnsiConsole.Write(ConfusionTable(result));
            if (parse.GetValue(output) is { } outDir)
            {
                OutputFile.RequireFolder(outDir, "--out");
                string plot = Path.Combine(outDir, "confusion.png");
                using (RunFolder.GuardWrite(plot, overwrite: false))
                {
                    Directory.CreateDirectory(outDir);
                    RunPlots.Confusion(result, plot);
                }
                Console.WriteLine($"Confusion matrix: {plot}");
            }
            else if (source.RunFolderPath is not null)
            {
                // The run folder has one writer at a time: while a training run holds it, its own plot is left alone.
                var run = new RunFolder(source.RunFolderPath);
                using var folderLock = RunFolderLock.TryAcquire(run, out int? holder);
                if (folderLock is null)
                {
                    Console.WriteLine($"Confusion matrix not saved: {run.Path} is in use{(holder is { } pid ? $" by PID {pid}" : "")} (a training run writes its own after each epoch).");
                }
                else
                {
                    RunPlots.Confusion(result, run.ConfusionPlot);
                    Console.WriteLine($"Confusion matrix: {run.ConfusionPlot}");
                }
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
            table.AddRow(Terminal.Markup(r.ClassNames[c]), n.ToString(CultureInfo.InvariantCulture), r.Confusion[c, c].ToString(CultureInfo.InvariantCulture),
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
            var cells = new List<string> { $"{t} {Terminal.Markup(r.ClassNames[t])}" };
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
