using ArchGen.Data;
using ArchGen.Training;

namespace ArchGen.App.Cli;

/// <summary>Runs a command's body and turns every expected failure into one clear line on stderr and a non-zero exit code.</summary>
public static class CommandAction
{
    /// <param name="body">The command's work; returns the exit code.</param>
    /// <param name="endsOnStop">Whether a stop request is how the work ends (a server): finishing after one is then no surprise worth a message.</param>
    public static int Run(Func<int> body, bool endsOnStop = false)
    {
        try
        {
            int code = body();
            if (code == ExitCodes.Success && !Interruption.Finish() && !endsOnStop)
                Console.Error.WriteLine(Interruption.TooLateMessage);
            return code;
        }
        catch (OperationCanceledException) when (Interruption.Token.IsCancellationRequested)
        {
            Console.Error.WriteLine(Interruption.StoppedMessage);
            return ExitCodes.Interrupted;
        }
        catch (Exception e) when (e is ArgumentException or DataException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or UnauthorizedAccessException or RunFolderInUseException)
        {
            Console.Error.WriteLine("error: " + OneLine(e.Message));
            return e is ArgumentException ? ExitCodes.BadArguments : ExitCodes.Failure;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("ARCHGEN_DEBUG") != "1")
        {
            Console.Error.WriteLine($"error: {OneLine(e.Message)} ({e.GetType().Name}; set ARCHGEN_DEBUG=1 for the stack trace)");
            return ExitCodes.Failure;
        }
    }

    static string OneLine(string message) => Printable.Text(Printable.OneLine(message));
}
