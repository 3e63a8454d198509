using ArchGen.Data;

namespace ArchGen.Runtime.Tests.Training;

/// <summary>A tiny CIFAR-flavor table (1x8x8 input, 4 classes) that trains in milliseconds, used through the catalog like any generated model.</summary>
[MobileNetV2(Flavor = MobileNetV2Flavor.Cifar, Classes = 4, InputSize = 8, InputChannels = 1, StemChannels = 8, HeadChannels = 32)]
[Bottleneck(t: 1, c: 8, n: 1, s: 1)]
[Bottleneck(t: 2, c: 16, n: 2, s: 2)]
public partial class TinyTrainingModel
{
}

/// <summary>Seeded random 1x8x8 images whose class shows in their brightness, so a model can learn something.</summary>
internal static class TinyData
{
    public static readonly string[] ClassNames = ["a", "b", "c", "d"];

    public static ImageSet Images(int count, int seed)
    {
        var rng = new Random(seed);
        var labels = new byte[count];
        var pixels = new byte[count * 64];
        for (int i = 0; i < count; i++)
        {
            labels[i] = (byte)(i % 4);
            for (int p = 0; p < 64; p++) pixels[i * 64 + p] = (byte)Math.Clamp(labels[i] * 60 + rng.Next(-40, 41) + (p % 8 < 4 ? 20 : 0), 0, 255);
        }
        return new ImageSet(pixels, labels, 1, 8, 8, ClassNames);
    }

    public static IDataset Dataset(int train = 48, int test = 16) =>
        new InMemoryDataset("tiny", Images(train, 1), Images(test, 2), new Normalization([0.4f], [0.3f]));
}

/// <summary>
/// Tests that compare two training runs bit for bit: torch's random generator and thread count are process-wide, so
/// these run alone, never alongside another test that draws random numbers.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchGlobalStateCollection
{
    public const string Name = "torch global state";
}
