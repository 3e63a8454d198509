using ArchGen.App.Cli;
using ArchGen.Performance;

// A closed stdout or stderr (archgen ... >&-) becomes /dev/null before any file is opened (see StandardStreams).
StandardStreams.KeepOpen();

// Fast by default: keep glibc from returning large blocks to the OS between steps (see AllocatorPolicy).
// This must run before libtorch's first allocation.
AllocatorPolicy.Apply();

// ONNX models open wherever a model file is read (the runtime knows checkpoints and PyTorch weights).
ArchGen.Inference.ModelSource.Register(new ArchGen.Onnx.Serving.OnnxModelFormat());

// LibTorch's own warnings (NNPACK's, once per convolution on some CPUs) off unless ARCHGEN_DEBUG=1 (see LibTorchLog).
LibTorchLog.Apply();

// Tables keep their width when the output goes to a file or a pipe.
if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 200;

return ArchGenCli.Run(args);
