using System.CommandLine;
using ArchGen.App.Cli;
using ArchGen.Checkpoints;
using ArchGen.Inference;
using ArchGen.Interop;
using ArchGen.Onnx.Export;
using ArchGen.Onnx.Serving;
using ArchGen.Training;

namespace ArchGen.App.Commands;

/// <summary><c>archgen import</c>: a PyTorch state_dict file becomes an ArchGen checkpoint.</summary>
public static class ImportCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model(defaultModel: null);
        var from = new Option<string>("--from") { Description = "PyTorch weights: .pt/.pth (torch.save(model.state_dict()), with --model) or .safetensors (an ArchGen export says its model; others need --model).", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Checkpoint file to write.", Required = true };
        var overwrite = CommonOptions.OverwriteRunFile();
        var command = new Command("import", "Import PyTorch weights into an ArchGen checkpoint (strict: every key and shape must match).") { model, from, output, overwrite };
        command.SetAction(parse => CommandAction.Run(() =>
        {
            Interruption.StoppingMessage = Interruption.StoppingBeforeWriting;
            string target = OutputFile.Require(parse.GetValue(output)!, "--out");
            string path = parse.GetValue(from)!;
            if (!PyTorchWeights.IsWeightsFile(path)) throw new ArgumentException($"--from must be a .pt, .pth, .bin or .safetensors file (got '{path}').");
            if (!File.Exists(path)) throw new FileNotFoundException($"No weights file at '{path}'.");
            var source = ModelSource.Open(path, parse.GetValue(model));
            using var module = source.Module;
            var normalization = source.Normalization!;
            var config = new TrainConfig
            {
                Model = source.Name,
                Epochs = 1,
                FlipTta = source.FlipTta,
                Normalization = new NormalizationChoice(source.ClassNamesRecorded ? "checkpoint" : "imagenet", normalization.Mean, normalization.Std),
            };
            using var runLock = RunFolder.GuardWrite(target, parse.GetValue(overwrite));
            var header = new CheckpointHeader(source.Name, new TrainingPosition(0, 0, 0), config, DateTime.UtcNow.ToString("O")) { ClassNames = source.ClassNames };
            FaultInjection.Reach("import", Interruption.Token);
            Interruption.Token.ThrowIfCancellationRequested();
            Checkpoint.Save(target, header, module, optimizer: null);
            Console.WriteLine($"Imported {path} into {target} ({source.Name}, {source.ClassNames.Count} classes).");
            return ExitCodes.Success;
        }));
        return command;
    }
}

/// <summary><c>archgen export</c>: a checkpoint's weights become a PyTorch .pt/.pth or .safetensors file, or a self-contained ONNX model.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model(defaultModel: null);
        var checkpoint = new Option<string>("--checkpoint", "-c") { Description = "Checkpoint file, run folder, or PyTorch weights (with --model).", Required = true };
        var to = new Option<string>("--to") { Description = "Target file: .pt/.pth (PyTorch state_dict), .safetensors, or .onnx (the fused network for ONNX Runtime, with class names and normalization in its metadata).", Required = true };
        var overwrite = CommonOptions.OverwriteRunFile();
        var web = new Option<bool>("--web") { Description = "Write a static site to the folder --to (new or empty) that classifies photos in the browser: index.html, model.onnx, its card, and onnxruntime-web's files (no CDN). --checkpoint may also be an .onnx model." };
        var command = new Command("export", "Export a checkpoint for PyTorch (load_state_dict(strict=True) accepts it), as an ONNX model, or as a static web site that runs it in the browser.") { model, checkpoint, to, overwrite, web };
        command.SetAction(parse => CommandAction.Run(() =>
        {
            Interruption.StoppingMessage = Interruption.StoppingBeforeWriting;
            if (parse.GetValue(web))
            {
                // The site's folder follows the rules of a file written by export: never inside a run's own folders,
                // and under the run's lock when it lands in a run folder.
                using (RunFolder.GuardWrite(parse.GetValue(to)!, overwrite: false))
                    ArchGen.Serve.StaticSite.Write(parse.GetValue(checkpoint)!, parse.GetValue(to)!, Interruption.Token);
                Console.WriteLine($"Wrote the site to {parse.GetValue(to)}: serve the folder with any static web server and open index.html.");
                return ExitCodes.Success;
            }
            string target = OutputFile.Require(parse.GetValue(to)!, "--to");
            bool onnx = OnnxModelFormat.IsOnnx(target);
            if (!onnx && !PyTorchWeights.IsWeightsFile(target)) throw new ArgumentException($"--to must end in .pt, .pth, .bin, .safetensors or .onnx (got '{target}').");
            if (OnnxModelFormat.IsOnnx(parse.GetValue(checkpoint)!)) throw new ArgumentException($"--checkpoint is already an ONNX model ({parse.GetValue(checkpoint)}); export takes a checkpoint, run folder or PyTorch weights.");
            using var runLock = RunFolder.GuardWrite(target, parse.GetValue(overwrite));
            var source = ModelSource.Open(parse.GetValue(checkpoint)!, parse.GetValue(model));
            using var module = source.Module;
            FaultInjection.Reach("export", Interruption.Token);
            Interruption.Token.ThrowIfCancellationRequested();
            if (onnx)
            {
                OnnxExporter.Save(source.Entry!, module, OnnxMetadata.Of(source), target, Interruption.Token);
            }
            else
            {
                // A safetensors file keeps what the model needs beyond its tensors; a .pt file has nowhere to.
                var metadata = PyTorchWeights.IsSafetensors(target)
                    ? new WeightsMetadata(source.Name, source.ClassNames, source.InputNormalization(), source.FlipTta)
                    : null;
                PyTorchWeights.Save(module, target, metadata, Interruption.Token);
            }
            Console.WriteLine($"Exported {source.Name} from {source.Path} to {target}.");
            return ExitCodes.Success;
        }));
        return command;
    }
}
