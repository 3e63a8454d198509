using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ArchGen.App.Tests;

/// <summary><c>archgen serve</c> as a process on a real socket: a checkpoint served, SIGTERM's drain, a client that hangs up mid-upload, the flags; and <c>export --web</c>.</summary>
public partial class ServeCommandTests
{
    static readonly string[] Quick = ["--device", "cpu", "--threads", "2"];

    [GeneratedRegex(@"on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex Address();

    /// <summary>A run folder of the exercise's network, trained a little on photos, and the photos.</summary>
    static (string Run, string[] Photos) Trained(TempDir dir)
    {
        string photos = PhotoFolderTests.WritePhotos(dir["photos"], train: 4, test: 2);
        var train = AppProcess.Run(dir.Path, ["train", "--model", "CifarMobileNetV2", "--dataset", "folder", "--data", photos, "--epochs", "1", "--batch-size", "4", "--out", "run", .. Quick]);
        Assert.True(train.ExitCode == 0, train.Out + train.Err);
        return (dir["run"], Directory.GetFiles(photos, "*.*", SearchOption.AllDirectories).Where(f => f.EndsWith(".png", StringComparison.Ordinal) || f.EndsWith(".jpg", StringComparison.Ordinal)).Order().ToArray());
    }

    static (AppProcess Process, string Url) Serve(TempDir dir, params string[] args)
    {
        var process = AppProcess.Start(dir.Path, null, ["serve", "--port", "0", .. args]);
        process.WaitUntil(() => Address().IsMatch(process.Err), "the service to listen", 120);
        return (process, Address().Match(process.Err).Groups[1].Value);
    }

    static ByteArrayContent Image(string path)
    {
        var content = new ByteArrayContent(File.ReadAllBytes(path));
        content.Headers.ContentType = new MediaTypeHeaderValue(path.EndsWith(".png", StringComparison.Ordinal) ? "image/png" : "image/jpeg");
        return content;
    }

    [Fact]
    public async Task ACheckpointIsServedAsPredictClassifiesAndSigtermDrainsTheRequestsInFlight()
    {
        using var dir = new TempDir();
        var (run, photos) = Trained(dir);
        var predicted = AppProcess.Run(dir.Path, ["predict", "-c", run, "--json", .. photos]);
        Assert.True(predicted.ExitCode == 0, predicted.Out + predicted.Err);
        var labels = predicted.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(e => e.GetProperty("path").GetString()!, e => e.GetProperty("label").GetString());

        var (service, url) = Serve(dir, "-c", run);
        using (service)
        {
            using var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
            var card = JsonDocument.Parse(await client.GetStringAsync("/v1/model")).RootElement;
            Assert.Equal("CifarMobileNetV2", card.GetProperty("name").GetString());
            Assert.Equal(JsonValueKind.Number, card.GetProperty("accuracy").ValueKind); // the run's recorded test accuracy

            // Twelve uploads are half sent when the signal comes; the rest follows during the drain, each is answered,
            // and the process exits 0.
            using var gate = new GatedUploads(12);
            var requests = Enumerable.Range(0, 12).Select(i => (Photo: photos[i % photos.Length], Answer: client.PostAsync("/v1/predict", gate.Upload(photos[i % photos.Length])))).ToList();
            Assert.True(gate.AllStarted.WaitOne(TimeSpan.FromSeconds(30)), "the uploads did not start");
            await Task.Delay(300); // the service has accepted the connections
            var clock = System.Diagnostics.Stopwatch.StartNew();
            service.Signal("TERM");
            service.WaitUntil(() => service.Err.Contains("Stopping:", StringComparison.Ordinal), "the stop request", 30);
            await Task.Delay(300);
            gate.Release();
            foreach (var (photo, answer) in requests)
            {
                var response = await answer;
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                Assert.Equal(labels[photo], json.GetProperty("label").GetString());
            }
            var (code, _, err) = service.WaitForExit(30);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the service took {clock.Elapsed} to stop");
            Assert.True(code == 0, err);
            Assert.Contains("Stopped: every request in flight was answered.", err);
            Assert.DoesNotContain("came after the work was done", err);
        }
    }

    [Fact]
    public async Task AClientThatHangsUpMidUploadLeavesNothingBehindAndTheKeyFileGuardsTheApi()
    {
        using var dir = new TempDir();
        string onnx = dir["model.onnx"];
        var (run, photos) = Trained(dir);
        var export = AppProcess.Run(dir.Path, "export", "--checkpoint", run, "--to", onnx);
        Assert.True(export.ExitCode == 0, export.Out + export.Err);
        File.WriteAllText(dir["key.txt"], "  letmein  \nignored second line\n");

        // The static site of the same run: every file, and not over a folder that has files.
        var site = AppProcess.Run(dir.Path, "export", "--checkpoint", run, "--to", "site", "--web");
        Assert.True(site.ExitCode == 0, site.Out + site.Err);
        foreach (string file in new[] { "index.html", "ui.js", "classifier.js", "model.onnx", "model.json", "ort/ort.wasm.min.js", "ort/ort-wasm-simd-threaded.wasm", "ort/ort-wasm-simd-threaded.mjs" })
            Assert.True(File.Exists(Path.Combine(dir["site"], file)), file);
        var again = AppProcess.Run(dir.Path, "export", "--checkpoint", run, "--to", "site", "--web");
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("--to site", Assert.Single(again.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        // A full disk while the site is written: one line naming the file of the target (never the staging folder), nothing left.
        var full = AppProcess.Run(dir.Path, new Dictionary<string, string> { ["ARCHGEN_FAULT"] = "fail@model.onnx:after-write" }, 120, "export", "--checkpoint", run, "--to", "site2", "--web");
        Assert.True(full.ExitCode == 1, full.Out + full.Err);
        EndToEndTests.AssertOneLineError(full.Err);
        Assert.Contains(Path.Combine(dir["site2"], "model.onnx"), full.Err);
        Assert.DoesNotContain(".tmp-", full.Err);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path, "*site2*"));

        var (service, url) = Serve(dir, "--model-file", onnx, "--api-key-file", dir["key.txt"], "--max-upload-mb", "1");
        using (service)
        {
            var uri = new Uri(url);
            for (int i = 0; i < 5; i++)
            {
                using var socket = new TcpClient();
                await socket.ConnectAsync(uri.Host, uri.Port);
                var stream = socket.GetStream();
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /v1/predict HTTP/1.1\r\nHost: {uri.Authority}\r\nX-Api-Key: letmein\r\nContent-Type: image/png\r\nContent-Length: 500000\r\n\r\n"));
                await stream.WriteAsync(File.ReadAllBytes(photos[0]).AsMemory(0, 100));
                socket.Client.Shutdown(SocketShutdown.Both); // gone mid-upload
            }

            using var client = new HttpClient { BaseAddress = uri };
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("/v1/predict", Image(photos[0]))).StatusCode);
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "letmein");
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/predict", Image(photos[0]))).StatusCode);
            // Expect: 100-continue, as clients send large uploads: the 413 comes before the body, so the client reads it
            // instead of meeting a closed socket mid-body (a race under load: "Broken pipe").
            using (var tooLarge = new HttpRequestMessage(HttpMethod.Post, "/v1/predict") { Content = new ByteArrayContent(new byte[2 << 20]) })
            {
                tooLarge.Headers.ExpectContinue = true;
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await client.SendAsync(tooLarge)).StatusCode);
            }
            string metrics = await client.GetStringAsync("/metrics");
            Assert.Contains("archgen_queue_depth 0", metrics);
            Assert.Contains("archgen_batch_size_sum 1", metrics); // the hung-up uploads never reached the model
            Assert.DoesNotContain("status=\"5", metrics);

            // An upload still arriving when the drain's time runs out is reset: the service says it was not answered, exit 1.
            using var stalled = new TcpClient();
            await stalled.ConnectAsync(uri.Host, uri.Port);
            await stalled.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"POST /v1/predict HTTP/1.1\r\nHost: {uri.Authority}\r\nX-Api-Key: letmein\r\nContent-Type: image/png\r\nContent-Length: 500000\r\n\r\n"));
            await stalled.GetStream().WriteAsync(File.ReadAllBytes(photos[0]).AsMemory(0, 100));
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!(await client.GetStringAsync("/metrics")).Contains("archgen_http_requests_in_flight 2", StringComparison.Ordinal) && DateTime.UtcNow < deadline) await Task.Delay(50); // the upload and this scrape
            service.Signal("TERM");
            var (code, _, err) = service.WaitForExit(30);
            Assert.True(code == 1, err);
            Assert.Contains("1 request(s) in flight were not answered", err);
            Assert.DoesNotContain("every request in flight was answered", err);
        }

        // Listening on every network is said on stderr.
        using (var open = AppProcess.Start(dir.Path, null, ["serve", "--port", "0", "--host", "0.0.0.0", "--model-file", onnx]))
        {
            open.WaitUntil(() => open.Err.Contains("Serving", StringComparison.Ordinal), "the service to listen", 120);
            open.WaitUntil(() => open.Err.Contains("warning: --host 0.0.0.0 serves every network", StringComparison.Ordinal), "the warning", 30);
            open.Signal("TERM");
            Assert.Equal(0, open.WaitForExit(30).ExitCode);
        }
    }

    /// <summary>
    /// <c>export --web</c> follows the run-folder rules as a file export does: never inside a run's own folders (its
    /// tensorboard/), and a symbolic link to an empty folder (a deploy's <c>current -&gt; releases/x</c>) is written
    /// through, not replaced by a folder of its own (an adversarial pass found both).
    /// </summary>
    [Fact]
    public void TheStaticSiteFollowsTheRunFolderRulesAndWritesThroughALink()
    {
        using var dir = new TempDir();
        var (run, _) = Trained(dir);
        var inside = AppProcess.Run(dir.Path, "export", "--checkpoint", run, "--to", Path.Combine(run, "tensorboard", "site"), "--web");
        Assert.True(inside.ExitCode == 2, inside.Out + inside.Err);
        EndToEndTests.AssertOneLineError(inside.Err);
        Assert.Contains("inside the training run", inside.Err);
        Assert.False(Directory.Exists(Path.Combine(run, "tensorboard", "site")));

        Directory.CreateDirectory(dir["releases/1"]);
        File.CreateSymbolicLink(dir["current"], dir["releases/1"]);
        var linked = AppProcess.Run(dir.Path, "export", "--checkpoint", run, "--to", "current", "--web");
        Assert.True(linked.ExitCode == 0, linked.Out + linked.Err);
        Assert.NotNull(new DirectoryInfo(dir["current"]).LinkTarget); // still the link
        Assert.True(File.Exists(dir["releases/1/index.html"]), "the site goes where the link points");
        Assert.Empty(Directory.GetDirectories(dir.Path, ".*"));
    }

    [Fact]
    public void HelpDocumentsEveryFlagAndBadValuesGetOneLine()
    {
        using var dir = new TempDir();
        var help = AppProcess.Run(dir.Path, "serve", "--help");
        Assert.Equal(0, help.ExitCode);
        foreach (string flag in new[] { "--model-file", "--checkpoint", "--host", "--port", "--max-batch", "--batch-window-ms", "--max-upload-mb", "--queue", "--api-key-file", "--threads" })
            Assert.Contains(flag, help.Out);
        Assert.Contains("127.0.0.1", help.Out);
        string fifo = dir["key.fifo"];
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo])) mkfifo.WaitForExit();

        foreach (var (args, code, says) in new (string[], int, string)[]
        {
            (["--port", "70000"], 2, "--port"),
            (["--max-batch", "0"], 2, "--max-batch"),
            (["--max-batch", "5000"], 2, "--max-batch"),
            (["--batch-window-ms", "-1"], 2, "--batch-window-ms"),
            (["--max-upload-mb", "0"], 2, "--max-upload-mb"),
            (["--queue", "0"], 2, "--queue"),
            (["--host", "example.com"], 2, "--host"),
            (["--api-key-file", "no-such-key"], 1, "no-such-key"),
            (["--max-upload-mb", "0.0000001"], 2, "--max-upload-mb"),
            (["--api-key-file", "."], 2, "is a directory"),
            (["--api-key-file", fifo], 2, "not a regular file"), // refused unopened: reading it would wait for a writer
        })
        {
            var result = AppProcess.Run(dir.Path, ["serve", "-c", "no-such-model.onnx", .. args]);
            Assert.True(result.ExitCode == code, $"{string.Join(' ', args)}: exit {result.ExitCode}\n{result.Err}");
            Assert.Contains(says, result.Err);
            Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        var missing = AppProcess.Run(dir.Path, "serve", "-c", "no-such-model.onnx");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("no-such-model.onnx", missing.Err);
    }

    /// <summary>Uploads that send half of their image, then wait for <see cref="Release"/> before sending the rest.</summary>
    sealed class GatedUploads(int count) : IDisposable
    {
        readonly CountdownEvent started = new(count);
        readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public WaitHandle AllStarted => started.WaitHandle;

        public void Release() => released.TrySetResult();

        public HttpContent Upload(string path) => new Content(this, File.ReadAllBytes(path));

        public void Dispose() => started.Dispose();

        sealed class Content : HttpContent
        {
            readonly GatedUploads gate;
            readonly byte[] bytes;

            public Content(GatedUploads gate, byte[] bytes)
            {
                this.gate = gate;
                this.bytes = bytes;
                Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
                Headers.ContentLength = bytes.Length;
            }

            protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
            {
                await stream.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
                await stream.FlushAsync();
                gate.started.Signal();
                await gate.released.Task;
                await stream.WriteAsync(bytes.AsMemory(bytes.Length / 2));
            }

            protected override bool TryComputeLength(out long length)
            {
                length = bytes.Length;
                return true;
            }
        }
    }
}
