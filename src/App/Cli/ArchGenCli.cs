using System.CommandLine;
using ArchGen.App.Commands;

namespace ArchGen.App.Cli;

/// <summary>The <c>archgen</c> command line: every command, and one way of reporting errors.</summary>
public static class ArchGenCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("ArchGen: train, test and ship MobileNetV2 models generated at build time from a [Bottleneck] table.");
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(TestCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        root.Subcommands.Add(StudyCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(ManifoldCommand.Create());
        return root;
    }

    /// <summary>Parses and runs; a bad command line is one line on stderr and exit code 2.</summary>
    public static int Run(string[] args)
    {
        var root = Build();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            bool atRoot = parse.CommandResult.Command == root;
            string command = atRoot ? "archgen" : "archgen " + parse.CommandResult.Command.Name;
            string commands = string.Join(", ", root.Subcommands.Select(c => c.Name));
            string message = parse.Errors[0].Message.ReplaceLineEndings(" ").Trim();
            if (atRoot)
                message = parse.UnmatchedTokens.Count == 0 ? $"no command given; choose one of: {commands}" : $"{message} (commands: {commands})";
            Console.Error.WriteLine($"error: {message} (see '{command} --help')");
            return ExitCodes.BadArguments;
        }
        // Ctrl+C / SIGTERM: the first stops at the next safe point (training writes a checkpoint first), a second exits at once.
        Interruption.Install();
        return parse.Invoke(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
    }
}

/// <summary>The process exit codes, documented in the README.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int BadArguments = 2;
    public const int Diverged = 3;
    public const int Interrupted = 130;
}
