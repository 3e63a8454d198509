using System.Text;

namespace ArchGen.Generator.Emitting;

/// <summary>Writes indented C# lines (four spaces a level, '\n' line ends).</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _sb = new();

    public int Indent { get; set; }

    public void Line(string text = "")
    {
        if (text.Length > 0)
        {
            _sb.Append(' ', Indent * 4).Append(text);
        }

        _sb.Append('\n');
    }

    /// <summary>Writes a multi-line template (a raw string literal), each line at the current indentation.</summary>
    public void Lines(string text)
    {
        foreach (var line in text.Replace("\r\n", "\n").Split('\n'))
        {
            Line(line);
        }
    }

    public void Open()
    {
        Line("{");
        Indent++;
    }

    public void Close(string closing = "}")
    {
        Indent--;
        Line(closing);
    }

    public override string ToString() => _sb.ToString();
}
