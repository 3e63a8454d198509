using System.Text.Json;
using ArchGen.Data.Images;

namespace ArchGen.Serve;

/// <summary>
/// <c>archgen export --web DIR</c>: a static site that classifies photos in the browser, with no server but a static
/// one: <c>index.html</c>, <c>ui.js</c> and <c>classifier.js</c> (the page, with the classifier that runs the model
/// locally), <c>model.onnx</c>, <c>model.json</c> (the model card: the ONNX metadata's classes, input and
/// normalization, and the compile-time facts) and <c>ort/</c>, onnxruntime-web's script and WebAssembly (restored from
/// the npm registry at build time, pinned by <c>src/Serve/Web/package-lock.json</c>).
/// </summary>
public static class StaticSite
{
    /// <summary>onnxruntime-web's files the site needs (its WebAssembly build), under <c>web/ort/</c> beside the app.</summary>
    public static IReadOnlyList<string> RuntimeFiles { get; } = ["ort.wasm.min.js", "ort-wasm-simd-threaded.wasm", "ort-wasm-simd-threaded.mjs"];

    /// <summary>
    /// Writes the site for the model at <paramref name="location"/> (an .onnx file, a checkpoint or a run folder) into
    /// <paramref name="folder"/>, which must not exist or be empty. It is written beside it and moved into place whole,
    /// so a stop or a failure leaves no half-written site.
    /// </summary>
    public static void Write(string location, string folder, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string runtime = Path.Combine(AppContext.BaseDirectory, "web", "ort");
        foreach (string file in RuntimeFiles)
            if (!File.Exists(Path.Combine(runtime, file)))
                throw new FileNotFoundException($"This build has no onnxruntime-web file {file} in {runtime}; build ArchGen with npm available (src/Serve/Web).");
        string target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        // A link to a folder (a deploy's current -> releases/x) is written through: the site goes where it points,
        // and the link stays.
        if (Directory.Exists(target) && new DirectoryInfo(target).ResolveLinkTarget(returnFinalTarget: true) is { } linked)
            target = Path.TrimEndingDirectorySeparator(linked.FullName);
        if (File.Exists(target) || (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any()))
            throw new ArgumentException($"--to {folder} exists and is not an empty folder; the site is written into a new or empty folder.");

        var onnx = ServedModel.Onnx.Read(location);
        ModelCard card;
        using (var model = ServedModel.Open(onnx, ImageLimits.Default, threads: 1)) card = model.Card; // checks the graph against its metadata
        cancel.ThrowIfCancellationRequested();

        string parent = Path.GetDirectoryName(target) ?? ".";
        Directory.CreateDirectory(parent);
        string staging = Path.Combine(parent, "." + Path.GetFileName(target) + ".tmp-" + Guid.NewGuid().ToString("N")[..8]);
        // Each file written into the staging folder, named as it will be in the site (what an error says: the user
        // asked for the target, never for the staging folder).
        string writing = target;
        void Write(string name, Action<string> write)
        {
            writing = Path.Combine(target, name);
            write(Path.Combine(staging, name));
            ArchGen.Checkpoints.FaultInjection.Reach(Path.GetFileName(name) + ":after-write");
        }
        try
        {
            Directory.CreateDirectory(Path.Combine(staging, "ort"));
            Write("index.html", path => File.WriteAllBytes(path, PageFiles.Read("index.html")));
            Write("ui.js", path => File.WriteAllBytes(path, PageFiles.Read("ui.js")));
            Write("classifier.js", path => File.WriteAllBytes(path, PageFiles.Read("local.js")));
            Write("model.onnx", path => File.WriteAllBytes(path, onnx.Bytes));
            Write("model.json", path => File.WriteAllText(path, JsonSerializer.Serialize(card, ServeApp.Json)));
            foreach (string file in RuntimeFiles)
            {
                cancel.ThrowIfCancellationRequested();
                Write(Path.Combine("ort", file), path => File.Copy(Path.Combine(runtime, file), path));
            }
            cancel.ThrowIfCancellationRequested();
            writing = target;
            if (Directory.Exists(target)) Directory.Delete(target); // empty, checked above
            Directory.Move(staging, target);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string reason = e.Message.Replace(staging, target, StringComparison.Ordinal);
            throw new ArchGen.Data.DataException($"the site could not be written, nothing of it is left ({reason})", writing, innerException: e);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }
}
