namespace ArchGen.Performance;

/// <summary>
/// Frees, at the end of a training step, the native memory that .NET releases only from finalizers.
/// <para>
/// TorchSharp turns every <c>double</c> passed to a tensor operation (<c>mul_(beta1)</c>, <c>add_(g, alpha: 0.1)</c>
/// ...) into a native <c>Scalar</c> that no dispose scope tracks; its optimizers make over a thousand per step. Left
/// to the garbage collector, they outlive the step, scattered through the heap among the step's large activation
/// blocks: glibc then cannot reuse those regions whole, and the heap (which the allocator policy never trims)
/// grew step after step. Measured on the CIFAR model, batch 128: without this, heap in use +0.15 MB and resident
/// memory ratcheting up by hundreds of MB within 30 steps; with it, flat. PyTorch passes scalars by value and has
/// nothing to collect.
/// </para>
/// </summary>
public static class StepGarbage
{
    /// <summary>Collects the youngest generation and runs its finalizers (about a millisecond after a training step).</summary>
    public static void Release()
    {
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        GC.WaitForPendingFinalizers();
    }
}
