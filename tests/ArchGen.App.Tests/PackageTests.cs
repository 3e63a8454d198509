namespace ArchGen.App.Tests;

/// <summary>
/// Packs the one ArchGen NuGet package and builds a small user project against it (no project references):
/// the attributes come from the library, the model from the packed generator, and TorchSharp loads on this
/// machine through the packed buildTransitive step.
/// </summary>
public class PackageTests
{
    const string SampleProgram = """
        using ArchGen;
        using TorchSharp;

        [MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 4, InputSize = 32)]
        [Bottleneck(t: 1, c: 16, n: 1, s: 1)]
        [Bottleneck(t: 6, c: 24, n: 2, s: 2)]
        public partial class TinyNet { }

        public static class Program
        {
            public static int Main()
            {
                using var model = new TinyNet();
                model.eval();
                using var x = torch.randn(2, 3, 32, 32);
                using var y = model.forward(x);
                long counted = model.parameters().Sum(p => p.numel());
                Console.WriteLine($"shape=[{string.Join(",", y.shape)}] params={TinyNet.ParameterCount} counted={counted} catalog={ModelCatalog.All.Count}");
                return 0;
            }
        }
        """;

    [Fact]
    public void PackedPackageBuildsAndRunsAUserModel()
    {
        using var dir = new TempDir();
        string version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
        string feed = dir["feed"];

        Run(AppProcess.RepositoryRoot, "pack", "src/Runtime/ArchGen.Runtime.csproj", "-c", "Release", "-o", feed, "-p:Version=" + version, "-nologo");
        Assert.True(File.Exists(Path.Combine(feed, $"ArchGen.{version}.nupkg")));

        string sample = dir["sample"];
        Directory.CreateDirectory(sample);
        File.WriteAllText(Path.Combine(sample, "Sample.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="ArchGen" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(sample, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="archgen-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(sample, "Program.cs"), SampleProgram);
        // Keep the repository's Directory.Build.* files out of the sample's way.
        File.WriteAllText(Path.Combine(sample, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(sample, "Directory.Build.targets"), "<Project />");
        File.WriteAllText(Path.Combine(sample, "Directory.Packages.props"), "<Project />");

        string build = Run(sample, "build", "-c", "Release", "-nologo", "-v", "n");
        if (Toolchain.SystemLibStdCxxLacksGlibcxx3432())
            Assert.Contains("ArchGen: marked the GLIBCXX_3.4.32 requirement", build);

        string output = Run(sample, "run", "-c", "Release", "--no-build");
        Assert.Contains("shape=[2,4]", output);
        Assert.Matches(@"params=(\d+) counted=\1 catalog=1", output);
    }

    static string Run(string workingDirectory, params string[] args)
    {
        var (code, output) = Toolchain.Dotnet(workingDirectory, args);
        Assert.True(code == 0, $"dotnet {string.Join(' ', args)} failed ({code}):\n{output}");
        return output;
    }
}
