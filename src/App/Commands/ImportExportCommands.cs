using System.CommandLine;
using ArchGen.App.Cli;
using ArchGen.Checkpoints;
using ArchGen.Interop;
using ArchGen.Training;

namespace ArchGen.App.Commands;

/// <summary><c>archgen import</c>: a PyTorch state_dict file becomes an ArchGen checkpoint.</summary>
public static class ImportCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var from = new Option<string>("--from") { Description = "PyTorch weights: .pt/.pth (torch.save(model.state_dict())) or .safetensors.", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Checkpoint file to write.", Required = true };
        var command = new Command("import", "Import PyTorch weights into an ArchGen checkpoint (strict: every key and shape must match).") { model, from, output };
        command.SetAction(parse => CommandAction.Run(() =>
        {
            string path = parse.GetValue(from)!;
            if (!PyTorchWeights.IsWeightsFile(path)) throw new ArgumentException($"--from must be a .pt, .pth, .bin or .safetensors file (got '{path}').");
            var entry = ModelCatalog.Get(parse.GetValue(model)!);
            using var module = entry.Create();
            PyTorchWeights.Load(module, path);
            var config = new TrainConfig { Model = entry.Facts.Name, Epochs = 1 };
            string target = parse.GetValue(output)!;
            Checkpoint.Save(target, new CheckpointHeader(entry.Facts.Name, new TrainingPosition(0, 0, 0), config, DateTime.UtcNow.ToString("O")), module, optimizer: null);
            Console.WriteLine($"Imported {path} into {target} ({entry.Facts.Name}).");
            return ExitCodes.Success;
        }));
        return command;
    }
}

/// <summary><c>archgen export</c>: a checkpoint's weights become a PyTorch .pt/.pth or .safetensors file.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model(defaultModel: null);
        var checkpoint = new Option<string>("--checkpoint", "-c") { Description = "Checkpoint file or run folder.", Required = true };
        var to = new Option<string>("--to") { Description = "Target file: .pt/.pth (PyTorch state_dict) or .safetensors.", Required = true };
        var command = new Command("export", "Export a checkpoint's weights for PyTorch (load_state_dict(strict=True) accepts them).") { model, checkpoint, to };
        command.SetAction(parse => CommandAction.Run(() =>
        {
            string target = parse.GetValue(to)!;
            if (!PyTorchWeights.IsWeightsFile(target)) throw new ArgumentException($"--to must end in .pt, .pth, .bin or .safetensors (got '{target}').");
            var source = ModelSource.Open(parse.GetValue(checkpoint)!, parse.GetValue(model));
            using var module = source.Module;
            PyTorchWeights.Save(module, target);
            Console.WriteLine($"Exported {source.Entry.Facts.Name} from {source.Path} to {target}.");
            return ExitCodes.Success;
        }));
        return command;
    }
}
