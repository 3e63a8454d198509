using ArchGen.Data;
using ArchGen.Runtime.Tests.Data;
using ArchGen.Studies;

namespace ArchGen.Runtime.Tests.Studies;

/// <summary>A study's statistics, computed by hand here, and its files.</summary>
public class StudyTests
{
    static StudyRun Run(string model, int seed, double accuracy) => new(model, seed, accuracy, 100, 200, 1.5, 10);

    [Fact]
    public void MeansDeviationsAndPairedDifferencesWithAStudentInterval()
    {
        var runs = new[]
        {
            Run("A", 1, 90), Run("A", 2, 92), Run("A", 3, 91),
            Run("B", 1, 89), Run("B", 2, 90), Run("B", 3, 88),
            Run("C", 2, 95),
        };
        var summary = Study.Summarize(["A", "B", "C", "D"], runs);
        Assert.Equal(["A", "B", "C"], summary.Select(s => s.Model)); // D has no runs

        var a = summary[0];
        Assert.Equal(91, a.MeanAccuracy, 12);
        Assert.Equal(1, a.StdAccuracy, 12); // sqrt(((-1)² + 1² + 0²) / 2)
        Assert.Null(a.Difference);

        // B − A by seed: −1, −2, −3: mean −2, sample std 1, half-width t(2) · 1 / √3.
        var b = summary[1];
        Assert.Equal(3, b.Pairs);
        Assert.Equal(-2, b.Difference!.Value, 12);
        double half = 4.303 / Math.Sqrt(3);
        Assert.Equal(-2 - half, b.Low!.Value, 12);
        Assert.Equal(-2 + half, b.High!.Value, 12);

        // One pair: a difference, no interval; one run: no deviation.
        var c = summary[2];
        Assert.Equal((1, 3.0), (c.Pairs, c.Difference!.Value));
        Assert.Null(c.Low);
        Assert.True(double.IsNaN(c.StdAccuracy));
    }

    [Theory]
    [InlineData(1, 12.706)]
    [InlineData(2, 4.303)]
    [InlineData(30, 2.042)]
    [InlineData(31, 2.040)]
    [InlineData(60, 2.000)]
    [InlineData(120, 1.980)]
    [InlineData(100_000, 1.960)]
    public void StudentQuantilesAreTheTablesToThreeDecimals(int degreesOfFreedom, double expected)
    {
        Assert.Equal(expected, Study.StudentT975(degreesOfFreedom), 3);
    }

    [Fact]
    public void RunsRoundTripAndABadLineIsNamed()
    {
        using var dir = new TempDir();
        string path = dir.Sub(Study.RunsFile);
        var runs = new[] { new StudyRun("A", 1, 91.25, 2_296_922, 91_154_944, 123.456, 789.5), Run("B", 2, 1.0 / 3) };
        Study.WriteRuns(path, runs);
        Assert.Equal(runs, Study.ReadRuns(path));

        File.AppendAllText(path, "C,3,abc,1,2,3,4\n");
        var e = Assert.Throws<DataException>(() => Study.ReadRuns(path));
        Assert.Contains("line 4", e.Message);
        Assert.Contains(path, e.Message);

        File.WriteAllText(path, "something else\n");
        Assert.Contains("not a study", Assert.Throws<DataException>(() => Study.ReadRuns(path)).Message);
    }

    [Fact]
    public void TheSummaryFileLeavesWhatDoesNotExistEmpty()
    {
        using var dir = new TempDir();
        string path = dir.Sub(Study.SummaryFile);
        Study.WriteSummary(path, Study.Summarize(["A", "B"], [Run("A", 1, 90), Run("B", 1, 91)]));
        Assert.Equal(
            [Study.SummaryHeader, "A,1,90,,,,,0", "B,1,91,,1,,,1"],
            File.ReadAllLines(path));
    }
}
