using System.CommandLine;
using System.Globalization;
using System.Net;
using ArchGen.App.Cli;
using ArchGen.Data;
using ArchGen.Data.Images;
using ArchGen.Serve;
using ArchGen.Training;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using TorchSharp;

namespace ArchGen.App.Commands;

/// <summary><c>archgen serve</c>: a trained model behind an HTTP API with dynamic batching and Prometheus metrics, until Ctrl+C or SIGTERM.</summary>
public static class ServeCommand
{
    /// <summary>The largest batch, upload, window and queue accepted: bounds on what a flag can make the service hold.</summary>
    const int MaxBatchLimit = 1024, MaxUploadMbLimit = 1024, MaxWindowMs = 1000, MaxQueue = 100_000;

    /// <summary>The smallest upload limit accepted, in MiB (64 KiB): below it, every photo would be refused (413).</summary>
    const double MinUploadMb = 0.0625;

    public static Command Create()
    {
        var modelFile = new Option<string>("--model-file", "--checkpoint", "-c") { Description = "An exported .onnx model, or a checkpoint or run folder (exported to ONNX in memory). It runs in ONNX Runtime.", Required = true };
        var host = new Option<string>("--host") { Description = "Address to listen on: an IP address, or localhost. The default serves this machine only; 0.0.0.0 serves every network it is on.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = CommonOptions.Checked(new Option<int>("--port") { Description = "TCP port (0: any free one; the address is printed).", DefaultValueFactory = _ => 8080 },
            p => p is < 0 or > 65535 ? $"--port must be 0 to 65535 (got {p.ToString(CultureInfo.InvariantCulture)})." : null);
        var maxBatch = CommonOptions.Checked(new Option<int>("--max-batch") { Description = "Most images the model runs at once (1: no batching).", DefaultValueFactory = _ => 32 },
            b => b is < 1 or > MaxBatchLimit ? $"--max-batch must be 1 to {MaxBatchLimit} (got {b.ToString(CultureInfo.InvariantCulture)})." : null);
        var window = CommonOptions.Checked(new Option<double>("--batch-window-ms") { Description = "How long the first image of a batch waits for others, in milliseconds.", DefaultValueFactory = _ => 5 },
            w => !(w >= 0 && w <= MaxWindowMs) ? $"--batch-window-ms must be 0 to {MaxWindowMs} (got {w.ToString(CultureInfo.InvariantCulture)})." : null);
        var maxUpload = CommonOptions.Checked(new Option<double>("--max-upload-mb") { Description = "Largest request body in MiB; a larger one is refused (413) before it is read whole.", DefaultValueFactory = _ => 20 },
            m => !(m >= MinUploadMb && m <= MaxUploadMbLimit) ? $"--max-upload-mb must be {MinUploadMb.ToString(CultureInfo.InvariantCulture)} to {MaxUploadMbLimit} (got {m.ToString(CultureInfo.InvariantCulture)}); below {MinUploadMb.ToString(CultureInfo.InvariantCulture)} MiB ({MinUploadMb * 1024} KiB) even a small photo is refused." : null);
        var queue = CommonOptions.Checked(new Option<int>("--queue") { Description = "Images that may wait for the model; beyond that, requests get 503 with Retry-After.", DefaultValueFactory = _ => 256 },
            q => q is < 1 or > MaxQueue ? $"--queue must be 1 to {MaxQueue} (got {q.ToString(CultureInfo.InvariantCulture)})." : null);
        var apiKeyFile = new Option<string>("--api-key-file") { Description = "File whose first line is the API key every /v1/ request must send (Authorization: Bearer KEY, or X-Api-Key: KEY)." };
        var threads = CommonOptions.Threads();
        var command = new Command("serve", "Serve a model over HTTP: POST /v1/predict (an image as the body or multipart field 'image'; ?top=K), GET /v1/model, /healthz, /readyz, /metrics. Ctrl+C or SIGTERM stops it after the requests in flight.")
        {
            modelFile, host, port, maxBatch, window, maxUpload, queue, apiKeyFile, threads,
        };
        command.SetAction(parse => CommandAction.Run(() =>
        {
            string address = parse.GetValue(host)!;
            if (!string.Equals(address, "localhost", StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(address, out _))
                throw new ArgumentException($"--host must be an IP address or localhost (got '{address}').");
            string? key = parse.GetValue(apiKeyFile) is { } keyFile ? ReadKey(keyFile) : null;
            var options = new ServeOptions(address, parse.GetValue(port), parse.GetValue(maxBatch), TimeSpan.FromMilliseconds(parse.GetValue(window)),
                (long)(parse.GetValue(maxUpload) * (1 << 20)), parse.GetValue(queue), key);
            int onnxThreads = Devices.Threads(parse.GetValue(threads));
            // LibTorch computes only the softmax here (and a checkpoint's in-memory export): one thread. With more, its
            // OpenMP threads spin after every batch and take the cores from ONNX Runtime's (batches of 2 to 4 ran 2 to 4
            // times slower per image).
            torch.set_num_threads(1);
            var model = ServedModel.Open(parse.GetValue(modelFile)!, ImageLimits.Default, onnxThreads);
            var metrics = new ServeMetrics();
            WebApplication app;
            try
            {
                app = ServeApp.Build(model, options, metrics);
            }
            catch
            {
                model.Dispose();
                throw;
            }
            Interruption.StoppingMessage = "Stopping: no new requests; the ones in flight are answered (Ctrl+C again exits at once).";
            using (app as IDisposable)
            {
                app.StartAsync(Interruption.Token).GetAwaiter().GetResult();
                var card = model.Card;
                Console.Error.WriteLine(Printable.Text($"Serving {card.Name} ({card.Classes.Count} classes, {card.InputChannels}x{card.InputSize}x{card.InputSize}{(card.FlipTta ? ", flip TTA" : "")}) from {card.Source} on {string.Join(", ", app.Urls)}: "
                    + $"POST /v1/predict, GET /v1/model, /healthz, /readyz, /metrics; max batch {options.MaxBatch}, window {parse.GetValue(window).ToString(CultureInfo.InvariantCulture)} ms, queue {options.Queue}{(key is null ? "" : ", API key required")}."));
                if (IPAddress.TryParse(address, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)))
                    Console.Error.WriteLine($"warning: --host {address} serves every network this machine is on{(key is null ? ", and without --api-key-file anyone who can reach it may use it" : "")}; --host 127.0.0.1 serves this machine only.");
                app.WaitForShutdownAsync(Interruption.Token).GetAwaiter().GetResult();
            }
            // A request still in flight, or one that ended without its answer once stopping began (the drain's time ran
            // out and its connection was reset, or its client left), was not answered: say so, and exit 1.
            SpinWait.SpinUntil(() => metrics.InFlight.Value == 0, TimeSpan.FromSeconds(2)); // reset requests finish unwinding
            long unanswered = (long)(metrics.UnansweredAtStop.Value + metrics.InFlight.Value);
            if (unanswered > 0)
            {
                Console.Error.WriteLine($"Stopped: {unanswered.ToString(CultureInfo.InvariantCulture)} request(s) in flight were not answered (the {ServeOptions.DrainTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}-s drain ended first and their connections were reset, or their clients left).");
                return ExitCodes.Failure;
            }
            Console.Error.WriteLine("Stopped: every request in flight was answered.");
            return ExitCodes.Success;
        }, endsOnStop: true));
        return command;
    }

    /// <summary>The key: the file's first line, trimmed. Only a regular file is read (a FIFO or a device is refused unopened: reading one could wait forever).</summary>
    static string ReadKey(string path)
    {
        if (Directory.Exists(path)) throw new ArgumentException($"--api-key-file {path} is a directory; give the file whose first line is the key.");
        if (!File.Exists(path)) throw new FileNotFoundException($"--api-key-file {path} does not exist.");
        byte[] bytes;
        try
        {
            bytes = InputFile.ReadAll(path, 64 << 10, "file holding the API key");
        }
        catch (DataException e)
        {
            throw new ArgumentException($"--api-key-file {e.Message}", e);
        }
        string key = new StringReader(System.Text.Encoding.UTF8.GetString(bytes)).ReadLine()?.Trim() ?? "";
        if (key.Length == 0) throw new ArgumentException($"--api-key-file {path} has an empty first line; write the key on it.");
        return key;
    }
}
