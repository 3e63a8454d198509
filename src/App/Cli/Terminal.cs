using ArchGen.Data;

namespace ArchGen.App.Cli;

/// <summary>Outside text in Spectre.Console markup: <see cref="Printable.Text"/> (control characters escaped), then markup-escaped.</summary>
public static class Terminal
{
    public static string Markup(string? text) => Spectre.Console.Markup.Escape(Printable.Text(text));
}
