using ArchGen.Performance;
using ArchGen.Runtime.Tests.Training;
using TorchSharp;

namespace ArchGen.Runtime.Tests.Performance;

/// <summary>The allocator policy keeps freed blocks resident for the next step; releasing gives them back. Alone: resident memory is the process's.</summary>
[Collection(TorchGlobalStateCollection.Name)]
public class AllocatorPolicyTests
{
    [Fact]
    public void FreedBlocksStayResidentUntilReleased()
    {
        if (!OperatingSystem.IsLinux()) return;
        Assert.True(AllocatorPolicy.Apply(), AllocatorPolicy.Status);

        // 256 MiB in 4 MiB tensors, written, then freed: the policy keeps the heap's pages.
        var blocks = Enumerable.Range(0, 64).Select(_ => torch.ones(1 << 20)).ToList();
        double written = ResourceUsage.ResidentMiB();
        foreach (var block in blocks) block.Dispose();
        double freed = ResourceUsage.ResidentMiB();
        Assert.True(freed > written - 64, $"freed blocks left the heap without a release: {written:F0} -> {freed:F0} MiB");

        Assert.True(AllocatorPolicy.ReleaseFreeMemory());
        double released = ResourceUsage.ResidentMiB();
        Assert.True(released < freed - 192, $"released only {freed - released:F0} of 256 MiB ({freed:F0} -> {released:F0} MiB)");
    }
}
