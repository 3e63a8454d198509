namespace ArchGen.App.Tests;

/// <summary>The build's own switches: the TorchSharp backend and the libstdc++ step of build/ArchGen.targets.</summary>
public class BuildTests
{
    [Theory]
    [InlineData(null, "TorchSharp-cpu")]
    [InlineData("cpu", "TorchSharp-cpu")]
    [InlineData("cuda-windows", "TorchSharp-cuda-windows")]
    [InlineData("cuda-linux", "TorchSharp-cuda-linux")]
    public void TorchBackendSwitchPicksThePackage(string? backend, string expected)
    {
        var args = new List<string> { "msbuild", "src/Runtime/ArchGen.Runtime.csproj", "-getItem:PackageReference", "-nologo" };
        if (backend is not null) args.Add("-p:TorchBackend=" + backend);
        var (code, output) = Toolchain.Dotnet(AppProcess.RepositoryRoot, args.ToArray());
        Assert.True(code == 0, output);
        Assert.Contains($"\"Identity\": \"{expected}\"", output);
        foreach (string other in new[] { "TorchSharp-cpu", "TorchSharp-cuda-windows", "TorchSharp-cuda-linux" }.Where(p => p != expected))
            Assert.DoesNotContain($"\"Identity\": \"{other}\"", output);
    }

    [Fact]
    public void UnknownTorchBackendIsABuildError()
    {
        var (code, output) = Toolchain.Dotnet(AppProcess.RepositoryRoot, "msbuild", "src/Runtime/ArchGen.Runtime.csproj", "-t:ArchGenCheckTorchBackend", "-p:TorchBackend=rocm", "-nologo");
        Assert.NotEqual(0, code);
        Assert.Contains("Unknown TorchBackend 'rocm'", output);
    }

    [Fact]
    public void LibStdCxxStepMarksTheRequirementWeakOnceAndLeavesStrangeFilesAlone()
    {
        string original = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
            "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(original), "TorchSharp's native library is not in the NuGet cache at " + original);
        byte[] pristine = File.ReadAllBytes(original);

        using var dir = new TempDir();
        string good = Path.Combine(dir["out"], "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        string strange = Path.Combine(dir["out"], "other", "libLibTorchSharp.so");
        Directory.CreateDirectory(Path.GetDirectoryName(good)!);
        Directory.CreateDirectory(Path.GetDirectoryName(strange)!);
        File.Copy(original, good);
        File.WriteAllBytes(strange, "not an ELF file"u8.ToArray());
        File.WriteAllText(dir["patch.proj"], $"""
            <Project>
              <Import Project="{Path.Combine(AppProcess.RepositoryRoot, "build", "ArchGen.targets")}" />
              <Target Name="Patch"><ArchGenWeakenGlibcxxRequirement Folder="{dir["out"]}" /></Target>
            </Project>
            """);

        var (code, output) = Toolchain.Dotnet(dir.Path, "msbuild", "patch.proj", "-t:Patch", "-nologo", "-v:n");
        Assert.True(code == 0, output);
        Assert.Contains("not in the expected form", output);                       // a clear warning ...
        Assert.Equal("not an ELF file", File.ReadAllText(strange));               // ... and the file untouched
        Assert.Equal(pristine, File.ReadAllBytes(original));                      // the NuGet cache untouched

        byte[] patched = File.ReadAllBytes(good);
        if (!Toolchain.SystemLibStdCxxLacksGlibcxx3432())
        {
            Assert.Equal(pristine, patched); // a newer libstdc++: nothing to do
            return;
        }
        Assert.Contains("marked the GLIBCXX_3.4.32 requirement", output);
        var changed = Enumerable.Range(0, pristine.Length).Where(i => pristine[i] != patched[i]).ToArray();
        Assert.Single(changed);                                                     // one flag byte of one Vernaux entry
        Assert.Equal(pristine[changed[0]] | 0x2, patched[changed[0]]);            // VER_FLG_WEAK

        var again = Toolchain.Dotnet(dir.Path, "msbuild", "patch.proj", "-t:Patch", "-nologo", "-v:n");
        Assert.True(again.Code == 0, again.Output);
        Assert.DoesNotContain("marked the GLIBCXX_3.4.32 requirement", again.Output); // idempotent
        Assert.Equal(patched, File.ReadAllBytes(good));
    }
}
