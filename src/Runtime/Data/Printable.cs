using System.Globalization;
using System.Text;

namespace ArchGen.Data;

/// <summary>
/// Text from outside (file names, class names, messages that quote them) as it may reach a terminal: control
/// characters (an ESC sequence could recolor, retitle or hide output; a bell rings), invisible formatting characters
/// (bidirectional marks and overrides, which reorder what the user reads; zero-width characters; byte order marks),
/// line and paragraph separators and lone surrogates are shown escaped, <c>\x1B</c> or <c>\u200F</c>, never sent raw.
/// </summary>
public static class Printable
{
    /// <summary><paramref name="message"/> on one line: each of its line breaks (of any kind) a space, and trimmed.</summary>
    public static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    /// <summary><paramref name="text"/> with control and bidirectional-override characters escaped; "(null)" for null.</summary>
    public static string Text(string? text)
    {
        if (text is null) return "(null)";
        if (!text.Any(NeedsEscape)) return text;
        var result = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            if (!NeedsEscape(c)) result.Append(c);
            else if (c < 0x100) result.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            else result.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
        }
        return result.ToString();
    }

    /// <summary>
    /// JSON text with the invisible characters inside its strings written as <c>\uXXXX</c> escapes (JSON encoders
    /// escape control characters but pass these through, and a terminal would apply them).
    /// </summary>
    public static string Json(string json)
    {
        if (!json.Any(IsInvisible)) return json;
        var result = new StringBuilder(json.Length + 16);
        foreach (char c in json)
        {
            if (IsInvisible(c)) result.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            else result.Append(c);
        }
        return result.ToString();
    }

    /// <summary>Whether <paramref name="c"/> is invisible or moves text: format characters (Unicode category Cf), line and paragraph separators, lone surrogates.</summary>
    static bool IsInvisible(char c) => char.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate;

    /// <summary>Whether <paramref name="c"/> is shown escaped: a control character or an invisible one.</summary>
    public static bool NeedsEscape(char c) => char.IsControl(c) || IsInvisible(c);
}
