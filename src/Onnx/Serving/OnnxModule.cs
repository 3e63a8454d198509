using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Onnx.Serving;

/// <summary>
/// An <see cref="OnnxClassifier"/> as a TorchSharp module: logits for a batch tensor, computed by ONNX Runtime on the
/// CPU (the result comes back on the input's device). It lets everything that evaluates a module (<c>archgen test</c>,
/// <c>archgen predict</c>) run an exported model unchanged. It has no parameters and nothing to train.
/// </summary>
public sealed class OnnxModule : nn.Module<Tensor, Tensor>
{
    /// <summary>Wraps <paramref name="classifier"/>; disposing the module disposes it.</summary>
    public OnnxModule(OnnxClassifier classifier)
        : base(nameof(OnnxModule))
    {
        Classifier = classifier ?? throw new ArgumentNullException(nameof(classifier));
    }

    /// <summary>The ONNX Runtime session and the model's metadata.</summary>
    public OnnxClassifier Classifier { get; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        int batch = checked((int)input.shape[0]);
        using var values = input.detach().cpu().to_type(ScalarType.Float32).contiguous();
        float[] logits = Classifier.Run(values.data<float>().ToArray(), batch);
        using var result = torch.tensor(logits, new long[] { batch, logits.Length / Math.Max(batch, 1) });
        return result.to(input.device);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) Classifier.Dispose();
        base.Dispose(disposing);
    }
}
