namespace ArchGen.Data;

/// <summary>
/// Bad or missing input data: one clear message naming the file (or folder), the byte offset where it applies,
/// and what was expected.
/// </summary>
public sealed class DataException : Exception
{
    /// <summary>Creates an exception whose message is <c>"{path}: at byte offset {offset}: {message}"</c> (parts omitted when unknown).</summary>
    public DataException(string message, string? filePath = null, long? offset = null, Exception? innerException = null)
        : base(Compose(message, filePath, offset), innerException)
    {
        FilePath = filePath;
        Offset = offset;
    }

    /// <summary>The file or folder the problem is in, when there is one.</summary>
    public string? FilePath { get; }

    /// <summary>The byte offset in the (decompressed) file where the problem was found, when it applies.</summary>
    public long? Offset { get; }

    private static string Compose(string message, string? filePath, long? offset)
    {
        var prefix = filePath is null ? "" : filePath + ": ";
        if (offset is long o) prefix += $"at byte offset {o}: ";
        return prefix + message;
    }
}
