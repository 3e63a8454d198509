using System.CommandLine;
using ArchGen.App.Commands;

namespace ArchGen.App.Cli;

/// <summary>The <c>archgen</c> command line: every command, and one way of reporting errors.</summary>
public static class ArchGenCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand(
            "ArchGen: train, test and ship compact CNNs (MobileNetV2, MobileNetV3, EfficientNet) generated at build time from their papers' " +
            "architecture tables. Each convolution runs on the fastest path (oneDNN channels-last, a matrix product for 1x1, or plain) whose " +
            $"output and gradients match float64 on this CPU for its shape; 'archgen doctor' shows which. {Performance.VerifiedLayout.Variable}=plain " +
            "runs every convolution plain, unchecked.");
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
        // A bad setting in the environment is refused before a command starts, as a bad option is.
        if (parse.Action is not System.CommandLine.Help.HelpAction)
        {
            try
            {
                _ = Performance.VerifiedLayout.Policy;
                Checkpoints.FaultInjection.Check();
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.BadArguments;
            }
        }
        // Ctrl+C / SIGTERM: the first stops at the next safe point (training writes a checkpoint first), a second exits at once.
        Interruption.Install();
        return parse.Invoke(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
    }
}

/// <summary>The process exit codes, documented in the README and docs/training.md.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int BadArguments = 2;
    public const int Diverged = 3;
    public const int Interrupted = 130;
}
