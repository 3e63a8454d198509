using System.CommandLine;
using System.Globalization;
using ArchGen.App.Cli;
using Spectre.Console;

namespace ArchGen.App.Commands;

/// <summary><c>archgen models</c>: every model in the generated catalog.</summary>
public static class ModelsCommand
{
    public static Command Create()
    {
        var command = new Command("models", "List the models the generator emitted (the shipped ones and your own).");
        command.SetAction(_ => CommandAction.Run(() =>
        {
            var table = new Table().AddColumns("Model", "Architecture", "Input", "Classes", "Width", "Parameters", "Multiply-adds");
            foreach (var e in ModelCatalog.All)
            {
                var f = e.Facts;
                table.AddRow(f.Name, f.Architecture, $"{f.InputChannels}x{f.InputSize}x{f.InputSize}", f.Classes.ToString(CultureInfo.InvariantCulture),
                    f.Width.ToString("0.###", CultureInfo.InvariantCulture), f.ParameterCount.ToString("N0", CultureInfo.InvariantCulture), f.MultiplyAdds.ToString("N0", CultureInfo.InvariantCulture));
            }
            AnsiConsole.Write(table);
            return ExitCodes.Success;
        }));
        return command;
    }
}
