using System.Runtime.InteropServices;

namespace ArchGen.App.Cli;

/// <summary>
/// Progress and results do not depend on stdout or stderr being open. When the program starts with descriptor 1 or
/// 2 closed (<c>archgen ... &gt;&amp;-</c>), the next file it opens would get that number, and the console would
/// write into it (a checkpoint, an exported model); writing to the closed descriptor itself fails with "Access to
/// the path is denied." and no path. So a closed descriptor is pointed at <c>/dev/null</c> before anything else is
/// opened: the output is discarded, as the user asked, and nothing else changes. When the runtime has already
/// opened a file of its own there (read-only, before any of our code runs), the console writes to nothing instead.
/// </summary>
public static class StandardStreams
{
    /// <summary>Opens /dev/null on a closed stdin, stdout or stderr; call it first thing.</summary>
    public static void KeepOpen()
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            // open() returns the lowest free descriptor, so descriptors are refilled in order.
            bool stdoutWasClosed = false;
            for (int fd = 0; fd <= 2; fd++)
            {
                if (fcntl(fd, F_GETFD) != -1) continue;
                if (fd == 1) stdoutWasClosed = true;
                int opened = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
                if (opened != fd && opened >= 0) close(opened); // something else filled it meanwhile
            }
            bool outputClosed = !Writable(1) || stdoutWasClosed;
            if (!Writable(1)) Console.SetOut(TextWriter.Null);
            if (!Writable(2)) Console.SetError(TextWriter.Null);
            if (outputClosed) Console.Error.WriteLine("warning: standard output is closed; results printed there are discarded (files are still written).");
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // No C library under that name: nothing to do.
        }
    }

    static bool Writable(int fd) => fcntl(fd, F_GETFL) is int flags and not -1 && (flags & O_ACCMODE) != O_RDONLY;

    const int F_GETFD = 1, F_GETFL = 3, O_ACCMODE = 3, O_RDONLY = 0, O_WRONLY = 1;

    [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    static extern int fcntl(int fd, int cmd);

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "close")]
    static extern int close(int fd);
}
