using ArchGen.Generator.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ArchGen.Generator.Tests;

/// <summary>The generated models are made of runtime blocks that own their forward: hooks fire on every block and layer, and the backbone's stage outputs are reachable.</summary>
[Trait("Category", "Parity")]
public class StructureTests
{
    /// <summary>Runs the model once with a forward hook on every registered module; returns the paths whose hook did not fire.</summary>
    private static List<string> SilentModules(nn.Module<Tensor, Tensor> model, Tensor x)
    {
        var fired = new HashSet<string>();
        var removers = new List<Action>();
        foreach (var (name, module) in model.named_modules())
        {
            if (name.Length > 0 && module is nn.Module<Tensor, Tensor> m)
            {
                string path = name;
                var handle = m.register_forward_hook((_, _, output) =>
                {
                    fired.Add(path);
                    return output;
                });
                removers.Add(handle.remove);
            }
        }

        using (var y = model.forward(x))
        {
        }

        foreach (var remove in removers)
        {
            remove();
        }

        return model.named_modules().Select(m => m.name).Where(n => n.Length > 0 && !fired.Contains(n)).ToList();
    }

    [Theory]
    [InlineData("TinyPaperNet", 64, "features")]
    [InlineData("TinyCifarNet", 16, "layers")]
    public void HooksFireOnEveryBlockAndLayer(string name, int size, string container)
    {
        var entry = ModelCatalog.Get(name);
        using var model = entry.Create();
        using var x = torch.randn(2, entry.Facts.InputChannels, size, size);
        model.train();
        // Only the state_dict container that groups the model's blocks is not called itself: the model calls its blocks one by one.
        Assert.Equal(new[] { container }, SilentModules(model, x));
        model.eval();
        Assert.Equal(new[] { container }, SilentModules(model, x));
    }

    [Fact]
    public void ForwardFeaturesGivesEachStageAndTheForwardBuildsOnIt()
    {
        torch.manual_seed(31);
        using var model = new TinyPaperNet();
        model.eval();
        using var x = torch.randn(2, 3, 64, 64);
        using var noGrad = torch.no_grad();
        using var maps = model.ForwardFeatures(x);
        Assert.Equal(TinyPaperNet.Facts.Stages.Select(s => s.Stride), maps.Strides);
        for (int i = 0; i < maps.Count; i++)
        {
            var stage = TinyPaperNet.Facts.Stages[i];
            Assert.Equal(new long[] { 2, stage.Channels, stage.Size, stage.Size }, maps[i].shape);
        }

        Assert.Equal(new[] { 2, 4, 8, 16 }, maps.Strides);
        Assert.Equal(TinyPaperNet.FeatureMaps.Stride8Channels, maps.Stride8.shape[1]);
        Assert.Same(maps[3], maps.Stride16);

        // The classifier on the pooled last stage is the model's forward.
        using var pooled = maps.Stride16.mean(new long[] { 2, 3 });
        using var logits = model.Classifier.call(pooled);
        using var expected = model.forward(x);
        using var diff = (logits - expected).abs().max();
        Assert.True(diff.ToDouble() < 1e-5);
    }

    [Fact]
    public void CifarStagesStartAtStrideOne()
    {
        Assert.Equal(new[] { 1, 2, 4, 8 }, CifarNet.Facts.Stages.Select(s => s.Stride));
        Assert.Equal(new[] { 24, 32, 96, 1280 }, CifarNet.Facts.Stages.Select(s => s.Channels));
        Assert.Equal(24, CifarNet.FeatureMaps.Stride1Channels);
        Assert.Equal(new[] { 2, 4, 8, 16, 32 }, PaperNet.Facts.Stages.Select(s => s.Stride));
        Assert.Equal(new[] { 16, 24, 32, 96, 1280 }, PaperNet.Facts.Stages.Select(s => s.Channels));
        Assert.Equal(new[] { "features.1", "features.3", "features.6", "features.13", "features.18" }, PaperNet.Facts.Stages.Select(s => s.Layer));
    }

    [Theory]
    [InlineData("TinyPaperNet", 64)]
    [InlineData("TinyCifarNet", 16)]
    [InlineData("EffCustom1ChAt48C6", 48)]
    public void ForwardLayersAppliedInOrderAreTheForward(string name, int size)
    {
        // What the ONNX export walks must be what forward computes: the layers in order, flattened after the pooling.
        torch.manual_seed(32);
        var entry = ModelCatalog.Get(name);
        using var model = entry.Create();
        model.eval();
        using var noGrad = torch.no_grad();
        using var x = torch.randn(2, entry.Facts.InputChannels, size, size);
        var y = x.alias();
        foreach (var layer in ((ArchGen.Blocks.GeneratedModel)model).ForwardLayers)
        {
            var next = layer.call(y);
            y.Dispose();
            y = layer is TorchSharp.Modules.AdaptiveAvgPool2d ? next.flatten(1) : next;
        }

        using var expected = model.forward(x);
        using var diff = (y - expected).abs().max();
        Assert.True(diff.ToDouble() < 1e-6);
        y.Dispose();
    }

    [Fact]
    public void FusedFormIsBuiltFromTheBlocksFusedForms()
    {
        using var model = new TinyPaperNet();
        using var fused = model.Fuse();
        Assert.Null(fused.Stem.Norm);
        Assert.NotSame(model.Block2.Depthwise.Conv, fused.Block2.Depthwise.Conv);
        Assert.Null(fused.Classifier.Dropout);
        using var x = torch.randn(1, 3, 64, 64);
        using var maps = fused.ForwardFeatures(x);
        Assert.False(maps[0].requires_grad);
    }
}
