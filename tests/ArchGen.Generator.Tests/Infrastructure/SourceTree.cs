using System.Runtime.CompilerServices;

namespace ArchGen.Generator.Tests.Infrastructure;

/// <summary>Finds this test project's source folder: from [CallerFilePath], or (when paths are mapped) by walking up from the output folder.</summary>
internal static class SourceTree
{
    public static string ProjectDirectory { get; } = Find();

    private static string Find([CallerFilePath] string thisFile = "")
    {
        string? fromCaller = Path.GetDirectoryName(Path.GetDirectoryName(thisFile));
        if (fromCaller is not null && File.Exists(Path.Combine(fromCaller, "ArchGen.Generator.Tests.csproj")))
        {
            return fromCaller;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "ArchGen.Generator.Tests");
            if (File.Exists(Path.Combine(candidate, "ArchGen.Generator.Tests.csproj")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("Cannot find the ArchGen.Generator.Tests source folder.");
    }
}
