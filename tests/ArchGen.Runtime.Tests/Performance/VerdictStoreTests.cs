using System.Text.Json.Nodes;
using ArchGen.Blocks;
using ArchGen.Performance;
using ArchGen.Runtime.Tests.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Runtime.Tests.Performance;

/// <summary>The store is process-wide: its tests run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class VerdictStoreCollection
{
    public const string Name = "verdict store";
}

/// <summary>Verdicts kept on disk are reused by the next process of the same machine only, and a bad file costs a check, never a wrong path.</summary>
[Collection(VerdictStoreCollection.Name)]
public class VerdictStoreTests
{
    static ConvVerdict Decide(long batch)
    {
        using var conv = new VerifiedConv2d(24, 40, 1, bias: false);
        using var x = torch.randn(batch, 24, 5, 5);
        using var noGrad = torch.no_grad();
        return VerifiedLayout.Decide(conv, x);
    }

    static void WithStore(string file, Action test)
    {
        string? previous = VerdictStore.FilePath;
        VerdictStore.FilePath = file;
        VerdictStore.Forget();
        try
        {
            test();
        }
        finally
        {
            VerdictStore.FilePath = previous;
            VerdictStore.Forget();
        }
    }

    [Fact]
    public void AVerdictCheckedInOneProcessIsReadInTheNext()
    {
        using var dir = new TempDir();
        string file = dir.Sub("archgen/verdicts.json");
        WithStore(file, () =>
        {
            var checkedHere = Decide(batch: 37); // a shape no other test meets: checked now, and stored
            Assert.DoesNotContain("(stored)", checkedHere.Why);
            var root = JsonNode.Parse(File.ReadAllText(file))!;
            Assert.Equal(VerdictStore.Machine, root["machine"]!.GetValue<string>());
            string key = Assert.Single(root["verdicts"]!.AsObject().Select(v => v.Key), k => k.Contains(" 37x5x5 ", StringComparison.Ordinal));

            // The next process: nothing in memory, the file read.
            VerdictStore.Forget();
            var stored = VerdictStore.Get(key);
            Assert.NotNull(stored);
            Assert.Equal(checkedHere.Path, stored.Path);
            Assert.Equal(checkedHere.Why + " (stored)", stored.Why);
        });
    }

    [Theory]
    [InlineData("another machine", 41)]
    [InlineData("not json", 42)]
    [InlineData("a bad entry", 43)]
    public void AFileFromAnotherMachineOrDamagedIsIgnoredAndReplaced(string kind, long batch)
    {
        using var dir = new TempDir();
        string file = dir.Sub("verdicts.json");
        WithStore(file, () =>
        {
            Decide(batch); // a shape new to this process: checked, and stored
            var root = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
            string key = root["verdicts"]!.AsObject().Single().Key;
            switch (kind)
            {
                case "another machine":
                    root["machine"] = "0000";
                    File.WriteAllText(file, root.ToJsonString());
                    break;
                case "not json":
                    File.WriteAllText(file, "{\"machine\": ");
                    break;
                default:
                    root["verdicts"]![key]!["path"] = "Sideways";
                    File.WriteAllText(file, root.ToJsonString());
                    break;
            }
            VerdictStore.Forget();
            Assert.Null(VerdictStore.Get(key));

            // The next verdict stored replaces the file with this machine's.
            VerdictStore.Add(key, new ConvVerdict(ConvPath.Plain, 1e-7, "plain: within 1.0E-7 of float64"));
            var replaced = JsonNode.Parse(File.ReadAllText(file))!;
            Assert.Equal(VerdictStore.Machine, replaced["machine"]!.GetValue<string>());
            VerdictStore.Forget();
            Assert.Equal(ConvPath.Plain, VerdictStore.Get(key)!.Path);
        });
    }

    [Fact]
    public void AStoreThatCannotBeWrittenLeavesTheVerdictsInTheProcess()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Sub("file"), "");
        WithStore(dir.Sub("file/verdicts.json"), () => // a folder that is a file
        {
            var verdict = Decide(batch: 39);
            Assert.Equal(verdict, Decide(batch: 39));
        });
    }
}
