using System.CommandLine;
using System.Globalization;
using ArchGen.App.Cli;
using Spectre.Console;

namespace ArchGen.App.Commands;

/// <summary><c>archgen info</c>: a model's layer table from the generated compile-time facts, without building the model.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var command = new Command("info", "Print a model's layers: shapes, parameters and multiply-adds (compile-time facts; nothing is built).") { model };
        command.SetAction(parse => CommandAction.Run(() =>
        {
            var f = ModelCatalog.Get(parse.GetValue(model)!).Facts;
            var table = new Table()
                .Title($"{f.FullName}: {f.Architecture}, {f.InputChannels}x{f.InputSize}x{f.InputSize} -> {f.Classes} classes, width {f.Width.ToString("0.###", CultureInfo.InvariantCulture)}")
                .AddColumns("Layer", "Kind", "Input", "Output")
                .AddColumn(new TableColumn("Parameters").RightAligned())
                .AddColumn(new TableColumn("Multiply-adds").RightAligned());
            foreach (var l in f.Layers)
                table.AddRow(Markup.Escape(l.Name), Markup.Escape(l.Kind), l.InputShape, l.OutputShape, l.Parameters.ToString("N0", CultureInfo.InvariantCulture), l.MultiplyAdds.ToString("N0", CultureInfo.InvariantCulture));
            table.AddRow("[bold]total[/]", "", "", "", $"[bold]{f.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)}[/]", $"[bold]{f.MultiplyAdds.ToString("N0", CultureInfo.InvariantCulture)}[/]");
            AnsiConsole.Write(table);
            return ExitCodes.Success;
        }));
        return command;
    }
}
