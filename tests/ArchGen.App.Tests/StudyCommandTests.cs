namespace ArchGen.App.Tests;

/// <summary><c>archgen study</c> (issue 22): runs per model and seed, the study's files, a stop and a resume.</summary>
public class StudyCommandTests
{
    static readonly string[] Quick =
    [
        "study", "--models", "FashionMnistMobileNetV2,CifarMobileNetV2", "--dataset", "fashion-mnist", "--data", "/usr/share/datasets/fashion-mnist",
        "--epochs", "1", "--limit", "64", "--test-limit", "64", "--batch-size", "32", "--device", "cpu", "--threads", "2", "--out", "study",
    ];

    static string[] Lines(string path) => File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();

    [Fact]
    public void AStoppedStudyResumesItsUnfinishedRunAndKeepsItsFinishedOnes()
    {
        using var dir = new TempDir();
        // Stopped during the first run's evaluation: its training is checkpointed, no run is finished yet.
        using (var app = AppProcess.Start(dir.Path, new Dictionary<string, string> { ["ARCHGEN_FAULT"] = "pause@evaluate" }, [.. Quick, "--seeds", "1"]))
        {
            app.WaitUntil(() => app.Err.Contains("ARCHGEN_FAULT: pause at evaluate", StringComparison.Ordinal), "the first run's evaluation");
            app.Signal("TERM");
            var (code, _, err) = app.WaitForExit(60);
            Assert.True(code == 130, $"exit {code}: {err}");
            Assert.Contains("0 of 2 runs finished", err);
            Assert.Contains("--resume", err);
        }
        Assert.True(File.Exists(dir["study/FashionMnistMobileNetV2/seed-1/last.ckpt"]));
        Assert.False(File.Exists(dir["study/study.csv"]));

        // Without --resume the folder is refused; with it the stopped run resumes and the second model runs.
        var refused = AppProcess.Run(dir.Path, null, 60, [.. Quick, "--seeds", "1"]);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--resume", refused.Err);
        var resumed = AppProcess.Run(dir.Path, null, 600, [.. Quick, "--seeds", "1", "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Out + resumed.Err);
        Assert.Equal(
            ["model,seed,test_accuracy,params,multiply_adds,seconds,images_per_second", "FashionMnistMobileNetV2,1", "CifarMobileNetV2,1"],
            Lines(dir["study/study.csv"]).Select((l, i) => i == 0 ? l : string.Join(",", l.Split(',')[..2])));
        var firstCheckpoint = File.GetLastWriteTimeUtc(dir["study/FashionMnistMobileNetV2/seed-1/last.ckpt"]);

        // A second seed: the finished runs are kept as they are, two new runs are trained.
        var more = AppProcess.Run(dir.Path, null, 600, [.. Quick, "--seeds", "2", "--resume"]);
        Assert.True(more.ExitCode == 0, more.Out + more.Err);
        Assert.Equal(firstCheckpoint, File.GetLastWriteTimeUtc(dir["study/FashionMnistMobileNetV2/seed-1/last.ckpt"]));
        Assert.Contains("Run 3/4: FashionMnistMobileNetV2, seed 2", more.Out);
        Assert.DoesNotContain("Run 1/4", more.Out);
        Assert.Equal(5, Lines(dir["study/study.csv"]).Length);
        var summary = Lines(dir["study/summary.csv"]);
        Assert.StartsWith("model,runs,mean_accuracy,std_accuracy,difference", summary[0]);
        Assert.StartsWith("FashionMnistMobileNetV2,2,", summary[1]);
        Assert.Matches(@"^CifarMobileNetV2,2,[0-9.]+,[0-9.]*,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,2$", summary[2]);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(dir["study/accuracy.png"])[..4]);
        Assert.Contains("Difference to FashionMnistMobileNetV2", more.Out);

        // The recipe is the study's: a resumed study refuses another one, and takes the recorded one when not repeated.
        var other = AppProcess.Run(dir.Path, null, 60, [.. Quick, "--seeds", "3", "--resume", "--optimizer", "sgd"]);
        Assert.True(other.ExitCode == 2, other.Out + other.Err);
        Assert.Contains("--optimizer sgd", other.Err);
        Assert.False(Directory.Exists(dir["study/FashionMnistMobileNetV2/seed-3"]));
        var recorded = AppProcess.Run(dir.Path, null, 600, "study", "--models", "FashionMnistMobileNetV2", "--seeds", "3", "--resume", "--out", "study",
            "--data", "/usr/share/datasets/fashion-mnist", "--device", "cpu", "--threads", "2");
        Assert.True(recorded.ExitCode == 0, recorded.Out + recorded.Err);
        string config = File.ReadAllText(dir["study/FashionMnistMobileNetV2/seed-3/config.json"]);
        Assert.Contains("\"epochs\": 1,", config);
        Assert.Contains("\"limit\": 64,", config);
        Assert.Contains("note: 2 finished run(s)", recorded.Err); // the CifarMobileNetV2 runs, outside this --models
    }

    static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    /// <summary>
    /// A resumed study summarizes only runs its folders prove to be its own: another model's run placed at a model's
    /// seed folder, or a run continued with <c>train --resume --epochs 2</c> past the study's one epoch, is refused with
    /// one line naming the folder and what differs, before anything is summarized (it was reported as the study's).
    /// </summary>
    [Fact]
    public void AResumedStudyRefusesARunFolderThatIsNotItsRun()
    {
        using var dir = new TempDir();
        var first = AppProcess.Run(dir.Path, null, 600, [.. Quick, "--seeds", "1"]);
        Assert.True(first.ExitCode == 0, first.Out + first.Err);
        string own = dir["study/FashionMnistMobileNetV2/seed-1"], kept = dir["kept"];
        CopyFolder(own, kept);
        string summary = File.ReadAllText(dir["study/summary.csv"]);

        // study --resume refuses in one line (exit 1) naming each of mentions, and leaves the summary as it was.
        void AssertRefused(params string[] mentions)
        {
            var refused = AppProcess.Run(dir.Path, null, 120, [.. Quick, "--seeds", "1", "--resume"]);
            Assert.True(refused.ExitCode == 1, refused.Out + refused.Err);
            EndToEndTests.AssertOneLineError(refused.Err);
            foreach (string mention in mentions) Assert.Contains(mention, refused.Err);
            Assert.Equal(summary, File.ReadAllText(dir["study/summary.csv"]));
        }

        // Another model's run in its place.
        Directory.Delete(own, recursive: true);
        CopyFolder(dir["study/CifarMobileNetV2/seed-1"], own);
        AssertRefused("seed-1", "CifarMobileNetV2", "move study.csv aside"); // a finished run is a row of study.csv too

        // Its own run, with another accuracy written into study.csv than the run's metrics hold.
        Directory.Delete(own, recursive: true);
        CopyFolder(kept, own);
        string runs = File.ReadAllText(dir["study/study.csv"]);
        var lines = runs.Split('\n');
        int row = Array.FindIndex(lines, l => l.StartsWith("FashionMnistMobileNetV2,1,", StringComparison.Ordinal));
        var cells = lines[row].Split(',');
        cells[2] = "99.5";
        lines[row] = string.Join(",", cells);
        File.WriteAllText(dir["study/study.csv"], string.Join("\n", lines));
        AssertRefused("99.5", "metrics.csv");
        File.WriteAllText(dir["study/study.csv"], runs);

        // Its own run, continued by train past the study's epochs.
        Directory.Delete(own, recursive: true);
        CopyFolder(kept, own);
        var continued = AppProcess.Run(dir.Path, null, 600, "train", "--resume", "--out", own, "--epochs", "2", "--data", "/usr/share/datasets/fashion-mnist", "--device", "cpu", "--threads", "2");
        Assert.True(continued.ExitCode == 0, continued.Out + continued.Err);
        AssertRefused("seed-1", "epochs");
    }

    /// <summary>
    /// A study whose recipe diverges says what to do in a study (a new one with a lower --lr), not train's advice
    /// (--overwrite, --resume with a lower --lr), which study does not take.
    /// </summary>
    [Fact]
    public void ADivergedStudyAdvisesWhatAStudyCanDo()
    {
        using var dir = new TempDir();
        var (code, output, err) = AppProcess.Run(dir.Path, null, 300, ["study", "--models", "FashionMnistMobileNetV2", "--dataset", "fashion-mnist", "--data", "/usr/share/datasets/fashion-mnist",
            "--epochs", "1", "--limit", "128", "--test-limit", "64", "--batch-size", "32", "--device", "cpu", "--threads", "2", "--out", "study", "--seeds", "1", "--lr", "1e30"]);
        Assert.True(code == 3, $"exit {code}\n{output}\n{err}");
        string last = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        EndToEndTests.AssertOneLineError(last);
        Assert.Contains("start a new study (another --out) with a lower --lr", last);
        Assert.Contains("0 of 1 runs finished", last);
        Assert.DoesNotContain("--overwrite", err);
    }

    public static TheoryData<int, string[]> Unstartable => new()
    {
        { 2, [.. Quick, "--seeds", "1", "--holdout", "64", "--evaluate", "epoch"] }, // no image left to train on
        { 1, ["study", "--models", "CifarMobileNetV2,FashionMnistMobileNetV2", "--dataset", "synthetic", "--epochs", "1", "--limit", "64", "--out", "study"] }, // 3-channel images, a 1-channel model second
    };

    [Theory]
    [MemberData(nameof(Unstartable))]
    public void EveryModelIsCheckedAgainstTheDataBeforeTheFirstRun(int exitCode, string[] args)
    {
        using var dir = new TempDir();
        var (code, output, err) = AppProcess.Run(dir.Path, null, 120, args);
        Assert.True(code == exitCode, $"exit {code}\n{output}\n{err}");
        EndToEndTests.AssertOneLineError(err);
        Assert.DoesNotContain("Run 1/", output);
        if (args.Contains("synthetic")) Assert.Contains("--models FashionMnistMobileNetV2", err); // the model that does not fit is named
        Assert.False(Directory.Exists(dir["study"]), "nothing may be written when a run could not start");
    }

    [Theory]
    [InlineData("--models", "NoSuchModel", "NoSuchModel")]
    [InlineData("--models", "CifarMobileNetV2,CifarMobileNetV2", "twice")]
    [InlineData("--models", "CifarMobileNetV2,ArchGen.App.Models.cifarmobilenetv2", "twice")]
    [InlineData("--models", "CifarMobileNetV2,", "empty")]
    [InlineData("--seeds", "0", "--seeds")]
    [InlineData("--evaluate", "none", "--evaluate")]
    public void BadFlagsAreOneLineAndWriteNothing(string flag, string value, string named)
    {
        using var dir = new TempDir();
        var args = flag == "--models"
            ? new[] { "study", "--models", value, "--out", "study" }
            : ["study", "--models", "CifarMobileNetV2", "--out", "study", flag, value];
        var (code, output, err) = AppProcess.Run(dir.Path, null, 60, args);
        Assert.True(code == 2, $"exit {code}\n{output}\n{err}");
        EndToEndTests.AssertOneLineError(err);
        Assert.Contains(named, err);
        Assert.False(Directory.Exists(dir["study"]), "nothing may be written for a refused command line");
    }
}
