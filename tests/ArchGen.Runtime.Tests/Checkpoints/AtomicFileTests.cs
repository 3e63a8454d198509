using ArchGen.Checkpoints;
using ArchGen.Runtime.Tests.Data;

namespace ArchGen.Runtime.Tests.Checkpoints;

/// <summary>Atomic writes to one path from two writers at once (issue 24, item 9).</summary>
public class AtomicFileTests
{
    [Fact]
    public void TwoWritersOfOnePathAtOnceBothFinishAndLeaveOneCompleteFile()
    {
        using var dir = new TempDir();
        string target = Path.Combine(dir.Path, "model.onnx");
        byte[] a = Enumerable.Repeat((byte)'a', 100_000).ToArray(), b = Enumerable.Repeat((byte)'b', 50_000).ToArray();
        using var firstHalfWritten = new ManualResetEventSlim();
        using var secondDone = new ManualResetEventSlim();
        Exception? firstError = null;
        var first = new Thread(() =>
        {
            try
            {
                AtomicFile.Write(target, file =>
                {
                    file.Write(a, 0, a.Length / 2);
                    firstHalfWritten.Set();
                    secondDone.Wait(TimeSpan.FromSeconds(30));
                    file.Write(a, a.Length / 2, a.Length - a.Length / 2);
                });
            }
            catch (Exception e)
            {
                firstError = e;
                firstHalfWritten.Set();
            }
        });
        first.Start();
        Assert.True(firstHalfWritten.Wait(TimeSpan.FromSeconds(30)));
        try
        {
            AtomicFile.Write(target, file => file.Write(b));
        }
        finally
        {
            secondDone.Set();
            first.Join();
        }

        Assert.Null(firstError);
        Assert.Equal(a, File.ReadAllBytes(target)); // the last rename wins, and it is complete
        Assert.Equal(new[] { "model.onnx" }, Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void AnErrorNamesTheTargetNotTheTemporaryFile()
    {
        using var dir = new TempDir();
        string target = Path.Combine(dir.Path, "out.ckpt");
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(target, _ => throw new IOException($"disk full while writing {target}")));
        Assert.DoesNotContain(AtomicFile.TempSuffix, e.Message);
        Assert.Empty(Directory.GetFiles(dir.Path));

        // A folder where the file should go: the error names the file, not a temporary name.
        Directory.CreateDirectory(target);
        var denied = Assert.ThrowsAny<IOException>(() => AtomicFile.WriteAllText(target, "x"));
        Assert.Contains(target, denied.Message);
        Assert.DoesNotContain(AtomicFile.TempSuffix, denied.Message);
    }
}
