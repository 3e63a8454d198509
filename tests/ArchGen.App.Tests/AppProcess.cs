using System.Diagnostics;
using System.Text;

namespace ArchGen.App.Tests;

/// <summary>Runs the built <c>archgen</c> app as a separate process, as a user would.</summary>
public sealed class AppProcess : IDisposable
{
    public static string RepositoryRoot { get; } = FindRoot();

#if DEBUG
    const string Configuration = "Debug";
#else
    const string Configuration = "Release";
#endif

    public static string AppDll => Path.Combine(RepositoryRoot, "src", "App", "bin", Configuration, "net10.0", "archgen.dll");

    readonly Process process;
    readonly StringBuilder stdout = new(), stderr = new();

    AppProcess(IEnumerable<string> args, string workingDirectory, IDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        info.ArgumentList.Add(AppDll);
        foreach (string a in args) info.ArgumentList.Add(a);
        info.Environment["ARCHGEN_DATA"] = Path.Combine(workingDirectory, "no-data-here");
        if (environment is not null) foreach (var (k, v) in environment) info.Environment[k] = v;
        process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static AppProcess Start(string workingDirectory, IDictionary<string, string>? environment, params string[] args) => new(args, workingDirectory, environment);

    /// <summary>Runs to the end (at most <paramref name="timeoutSeconds"/>) and returns exit code and output.</summary>
    public static (int ExitCode, string Out, string Err) Run(string workingDirectory, params string[] args) => Run(workingDirectory, null, 600, args);

    public static (int ExitCode, string Out, string Err) Run(string workingDirectory, IDictionary<string, string>? environment, int timeoutSeconds, params string[] args)
    {
        using var p = Start(workingDirectory, environment, args);
        return p.WaitForExit(timeoutSeconds);
    }

    public string Out { get { lock (stdout) return stdout.ToString(); } }
    public string Err { get { lock (stderr) return stderr.ToString(); } }
    public int Id => process.Id;

    public (int ExitCode, string Out, string Err) WaitForExit(int timeoutSeconds = 600)
    {
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"archgen did not finish in {timeoutSeconds} s.\nstdout:\n{Out}\nstderr:\n{Err}");
        }
        process.WaitForExit(); // drain the output
        return (process.ExitCode, Out, Err);
    }

    /// <summary>Waits until <paramref name="condition"/> holds, failing after <paramref name="timeoutSeconds"/>.</summary>
    public void WaitUntil(Func<bool> condition, string what, int timeoutSeconds = 300)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (process.HasExited) throw new InvalidOperationException($"archgen exited ({process.ExitCode}) before {what}.\nstdout:\n{Out}\nstderr:\n{Err}");
            if (clock.Elapsed.TotalSeconds > timeoutSeconds) throw new TimeoutException($"Timed out waiting for {what}.\nstdout:\n{Out}\nstderr:\n{Err}");
            Thread.Sleep(50);
        }
    }

    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", new[] { "-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) })!;
        kill.WaitForExit();
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.Dispose();
    }

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ArchGen.sln"))) return dir.FullName;
        throw new InvalidOperationException("ArchGen.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temporary folder removed after the test.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "archgen-tests", Guid.NewGuid().ToString("N")));

    public string Path { get; }

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Runs the .NET SDK itself (msbuild, pack, build) and answers questions about the machine's toolchain.</summary>
public static class Toolchain
{
    /// <summary>Runs <c>dotnet</c> with <paramref name="args"/>; returns the exit code and stdout + stderr.</summary>
    public static (int Code, string Output) Dotnet(string workingDirectory, params string[] args) => Run("dotnet", workingDirectory, args);

    /// <summary>Runs <paramref name="program"/> to the end; returns the exit code and stdout + stderr.</summary>
    public static (int Code, string Output) Run(string program, string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) info.ArgumentList.Add(a);
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr);
    }

    /// <summary>
    /// Skips the calling <c>[SkippableFact]</c> unless <c>/usr/bin/python3</c> imports torch and torchvision (Debian's
    /// python3-torch); where <c>ARCHGEN_REQUIRE_PYTORCH=1</c> (CI installs PyTorch and sets it) their absence fails instead.
    /// </summary>
    public static void RequirePyTorch()
    {
        bool available = File.Exists("/usr/bin/python3") && Run("/usr/bin/python3", System.IO.Path.GetTempPath(), "-c", "import torch, torchvision").Code == 0;
        if (Environment.GetEnvironmentVariable("ARCHGEN_REQUIRE_PYTORCH") == "1")
            Assert.True(available, "ARCHGEN_REQUIRE_PYTORCH=1 but /usr/bin/python3 cannot import torch and torchvision");
        Skip.IfNot(available, "needs /usr/bin/python3 with torch (apt-get install python3-torch python3-torchvision)");
    }

    /// <summary>True on systems like Debian 12, whose libstdc++ predates GLIBCXX_3.4.32, where the build's libstdc++ step acts.</summary>
    public static bool SystemLibStdCxxLacksGlibcxx3432()
    {
        const string lib = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";
        return File.Exists(lib) && !Encoding.ASCII.GetString(File.ReadAllBytes(lib)).Contains("GLIBCXX_3.4.32\0", StringComparison.Ordinal);
    }
}
