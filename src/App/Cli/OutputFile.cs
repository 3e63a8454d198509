namespace ArchGen.App.Cli;

/// <summary>Checks on a file a command is asked to write.</summary>
public static class OutputFile
{
    /// <summary>
    /// An <see cref="ArgumentException"/> naming <paramref name="option"/> when <paramref name="path"/> is empty or not
    /// valid UTF-8 (.NET reads such bytes as U+FFFD, so the file would be written under another name).
    /// </summary>
    public static void RequireName(string path, string option)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException($"{option} is empty; give the path to write.");
        if (path.Contains('\uFFFD'))
            throw new ArgumentException($"{option} '{path}' is not valid UTF-8 (shown with \uFFFD); a file would be written under another name. Give a UTF-8 path.");
    }

    /// <summary>
    /// <paramref name="path"/>, when it can be a folder to write in (existing or not); an <see cref="ArgumentException"/>
    /// naming <paramref name="option"/> when it is empty, not valid UTF-8, a file, or under a file.
    /// </summary>
    public static string RequireFolder(string path, string option)
    {
        RequireName(path, option);
        if (File.Exists(path)) throw new ArgumentException($"{option} names a file ('{path}'); give a folder.");
        for (string? parent = Path.GetDirectoryName(Path.GetFullPath(path)); parent is not null; parent = Path.GetDirectoryName(parent))
        {
            if (File.Exists(parent)) throw new ArgumentException($"{option} '{path}' is under '{parent}', which is a file; give a folder.");
        }
        return path;
    }

    /// <summary>
    /// <paramref name="path"/>, when it names a file; an <see cref="ArgumentException"/> naming <paramref name="option"/>
    /// when it is empty, names a folder (an existing one, or a path ending in a separator), or names something that is
    /// not a regular file (a device or FIFO: an atomic write would replace the node with a file).
    /// </summary>
    public static string Require(string path, string option)
    {
        RequireName(path, option);
        if (Directory.Exists(path) || path.EndsWith(Path.DirectorySeparatorChar) || path.EndsWith(Path.AltDirectorySeparatorChar))
            throw new ArgumentException($"{option} names a folder ('{path}'); give the file to write in it, e.g. '{Path.Combine(path, "model.ckpt")}'.");
        if (File.Exists(path))
        {
            try
            {
                ArchGen.Data.Images.ImageFile.RegularFileSize(path);
            }
            catch (ArchGen.Data.DataException e) when (e.Message.Contains("not a regular file", StringComparison.Ordinal))
            {
                throw new ArgumentException($"{option} names '{path}', which is not a regular file (a device, FIFO or socket); it is not replaced. Give a file path.");
            }
        }
        return path;
    }
}
