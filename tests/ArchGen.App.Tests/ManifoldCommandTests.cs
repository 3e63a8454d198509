using System.Text.Json;

namespace ArchGen.App.Tests;

/// <summary><c>archgen manifold</c> (issue 22): the paper's Figure 1 as a table, a JSON object and a PNG.</summary>
public class ManifoldCommandTests
{
    [Fact]
    public void JsonHoldsTheErrorsPerDimensionAndTheFigureIsWritten()
    {
        using var dir = new TempDir();
        var (code, output, err) = AppProcess.Run(dir.Path, null, 120, "manifold", "--dims", "2,5,30", "--points", "300", "--trials", "8", "--seed", "4", "--json", "--out", "figure");
        Assert.True(code == 0, $"exit {code}\n{output}\n{err}");
        using var json = JsonDocument.Parse(output.Trim());
        Assert.Equal(["dims", "readout_error", "pinv_error"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal([2, 5, 30], json.RootElement.GetProperty("dims").EnumerateArray().Select(e => e.GetInt32()));
        var readout = json.RootElement.GetProperty("readout_error").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.True(readout[0] > readout[1] && readout[1] > readout[2] && readout[2] < 0.01, string.Join(", ", readout));
        Assert.Equal(3, json.RootElement.GetProperty("pinv_error").GetArrayLength());

        byte[] png = File.ReadAllBytes(dir["figure/manifold.png"]);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.Contains("figure/manifold.png", err);

        // The table says the same numbers, and the same seed gives them again.
        var (tableCode, table, _) = AppProcess.Run(dir.Path, null, 120, "manifold", "--dims", "2,5,30", "--points", "300", "--trials", "8", "--seed", "4", "--out", "figure");
        Assert.Equal(0, tableCode);
        Assert.Contains(readout[1].ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture), table);
    }

    [Theory]
    [InlineData("--dims", "2,x")]
    [InlineData("--dims", "0")]
    [InlineData("--dims", "2,1025")]
    [InlineData("--points", "2")]
    [InlineData("--trials", "10001")]
    [InlineData("--dims", "2,5,2")]
    [InlineData("--trials", "abc")]
    public void ValuesOutOfRangeAreOneLineNamingTheFlag(string flag, string value)
    {
        using var dir = new TempDir();
        var (code, output, err) = AppProcess.Run(dir.Path, null, 60, "manifold", flag, value, "--out", "figure");
        Assert.True(code == 2, $"exit {code}\n{output}\n{err}");
        EndToEndTests.AssertOneLineError(err);
        Assert.Contains(flag, err);
        Assert.False(Directory.Exists(dir["figure"]), "nothing may be written for a refused command line");
    }

    [Theory]
    [InlineData("notes.txt")]
    [InlineData("notes.txt/figures")]
    [InlineData("taken")]
    public void OutThatCannotHoldTheFigureIsRefused(string output)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["notes.txt"], "mine");
        Directory.CreateDirectory(dir["taken/manifold.png"]);
        var (code, _, err) = AppProcess.Run(dir.Path, null, 60, "manifold", "--dims", "2", "--points", "10", "--trials", "1", "--out", output);
        Assert.True(code == 2, err);
        EndToEndTests.AssertOneLineError(err);
        Assert.Contains("--out", err);
        Assert.Equal("mine", File.ReadAllText(dir["notes.txt"]));
        Assert.True(Directory.Exists(dir["taken/manifold.png"]));
    }
}
