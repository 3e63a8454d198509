using ArchGen.Data;

namespace ArchGen.Runtime.Tests.Data;

/// <summary>The table of built-in datasets: every name, its other spellings, its help and whether it is held in memory come from one row.</summary>
public class DatasetsTests
{
    [Fact]
    public void EveryDatasetIsNamedOnceInTheHelpAndInAnUnknownNamesError()
    {
        Assert.Equal(["cifar10", "fashion-mnist", "synthetic", "folder"], Datasets.Names);
        foreach (string name in Datasets.Names) Assert.Contains(name, Datasets.Help);
        Assert.EndsWith(".", Datasets.Help);
        var unknown = Assert.Throws<DataException>(() => Datasets.Open("mnist", new DataOptions()));
        Assert.Contains(string.Join(", ", Datasets.Names), unknown.Message);
    }

    [Fact]
    public void OtherSpellingsOpenTheSameDatasetAndOnlyInMemoryOnesAreListedAsSuch()
    {
        using var dir = new TempDir();
        // Each spelling reaches Fashion-MNIST's own search (its message), whatever its case and spaces.
        foreach (string name in new[] { "fashion-mnist", " Fashion_MNIST ", "FASHIONMNIST" })
            Assert.Contains("Fashion-MNIST not found", Assert.Throws<DataException>(() => Datasets.Open(name, new DataOptions(DataDir: dir.Path))).Message);
        var synthetic = Datasets.Open("Synthetic", new DataOptions(SyntheticTrain: 8, SyntheticTest: 4));
        Assert.Equal(SyntheticShapes.Name, synthetic.Name);
        Assert.IsType<ImageSet>(synthetic.Train);
        Assert.Equal(["cifar10", "fashion-mnist", "synthetic"], Datasets.InMemoryNames);
    }
}
