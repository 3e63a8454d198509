using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ArchGen.App.Cli;
using ArchGen.Data;
using ArchGen.Inference;
using ArchGen.Training;
using Spectre.Console;
using TorchSharp;

namespace ArchGen.App.Commands;

/// <summary><c>archgen predict</c>: classifies image files or folders with a trained model; a table, or one JSON object per image and line.</summary>
public static class PredictCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint", "-c", "--model-file") { Description = "Checkpoint file, run folder (its latest checkpoint), PyTorch .pt/.pth/.safetensors weights (with --model) or an exported .onnx model (run by ONNX Runtime).", Required = true };
        var model = CommonOptions.Model(defaultModel: null);
        var top = new Option<int>("--top", "-k") { Description = "Classes to show per image, most probable first.", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per image and line (path, index, label, probability, top) instead of a table." };
        var batchSize = new Option<int>("--batch-size", "-b") { Description = "Images per batch.", DefaultValueFactory = _ => 32 };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var skipBadImages = CommonOptions.SkipBadImages();
        var flipTta = CommonOptions.FlipTta();
        var paths = new Argument<string[]>("PATH") { Description = "Image files (JPEG, PNG, WebP, BMP, GIF) or folders of them.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("predict", "Classify photos with a trained model (the evaluation transform: resize, center crop, normalize).")
        {
            checkpoint, model, top, json, batchSize, device, threads, skipBadImages, flipTta, paths,
        };
        command.SetAction(parse => CommandAction.Run(() =>
        {
            int k = parse.GetValue(top), batch = parse.GetValue(batchSize);
            if (k < 1) throw new ArgumentException($"--top must be at least 1 (got {k}).");
            if (batch < 1) throw new ArgumentException($"--batch-size must be at least 1 (got {batch}).");
            var files = ImageFolder.Files(parse.GetValue(paths)!);
            var dev = Devices.Resolve(parse.GetValue(device)!);
            int usedThreads = Devices.SetThreads(parse.GetValue(threads));
            var source = ModelSource.Open(parse.GetValue(checkpoint)!, parse.GetValue(model), usedThreads);
            using var module = source.Module;
            module.to(dev);
            var predictor = new ImagePredictor(module, source.ClassNames, source.InputNormalization(), source.InputChannels, source.InputSize, dev,
                CommonOptions.FlipTta(parse, flipTta, source));
            bool skip = parse.GetValue(skipBadImages);
            Interruption.StoppingMessage = "Stopping after this batch; press Ctrl+C again to exit at once.";
            Interruption.StoppedMessage = "Interrupted: the images listed were classified, the others were not.";

            int count = 0;
            if (parse.GetValue(json))
            {
                foreach (var p in predictor.Predict(files, k, batch, skip, cancel: Interruption.Token))
                {
                    Console.WriteLine(JsonLine(p));
                    count++;
                }
            }
            else
            {
                var table = new Table().AddColumns("Image", "Class", "Probability");
                if (k > 1) table.AddColumn("Next");
                table.Title($"{Terminal.Markup(source.Name)} from {Terminal.Markup(source.Path)}{(predictor.FlipTta ? " (flip test-time augmentation)" : "")}");
                try
                {
                    foreach (var p in predictor.Predict(files, k, batch, skip, cancel: Interruption.Token))
                    {
                        var cells = new List<string> { Terminal.Markup(p.Path), Terminal.Markup(p.Best.Label), Percent(p.Best.Probability) };
                        if (k > 1) cells.Add(Terminal.Markup(string.Join(", ", p.Top.Skip(1).Select(s => $"{s.Label} {Percent(s.Probability)}"))));
                        table.AddRow(cells.ToArray());
                        count++;
                    }
                }
                catch (OperationCanceledException) when (count > 0)
                {
                    AnsiConsole.Write(table); // what was classified before the stop request
                    throw;
                }
                AnsiConsole.Write(table);
            }
            if (predictor.Skipped.Count > 0)
            {
                const int Named = 3;
                string more = predictor.Skipped.Count > Named ? $"; and {predictor.Skipped.Count - Named} more" : "";
                string list = $"{string.Join("; ", predictor.Skipped.Take(Named))}{more}";
                if (count == 0) throw new DataException($"none of the {files.Count} files could be read as an image: {list}");
                Console.Error.WriteLine(Printable.Text($"warning: skipped {predictor.Skipped.Count} of {files.Count} files that cannot be read as images: {list}"));
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    static string Percent(double p) => (100 * p).ToString("F1", CultureInfo.InvariantCulture) + " %";

    static readonly JsonSerializerOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    static string JsonLine(Prediction p)
    {
        var line = new Dictionary<string, object>
        {
            ["path"] = p.Path,
            ["index"] = p.Best.Index,
            ["label"] = p.Best.Label,
            ["probability"] = Math.Round(p.Best.Probability, 6),
            ["top"] = p.Top.Select(s => new Dictionary<string, object> { ["index"] = s.Index, ["label"] = s.Label, ["probability"] = Math.Round(s.Probability, 6) }).ToArray(),
        };
        return Printable.Json(JsonSerializer.Serialize(line, JsonOptions));
    }
}
