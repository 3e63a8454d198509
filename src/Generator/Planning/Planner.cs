using System;
using ArchGen.Generator.Model;

namespace ArchGen.Generator.Planning;

/// <summary>Turns a spec whose values passed validation into its <see cref="LayerPlan"/>: one planner function per family.</summary>
internal static class Planner
{
    /// <summary>The plan, or null with the reason when the network is too large to build or count.</summary>
    public static LayerPlan? TryPlan(ModelSpec spec, out string? tooLarge)
    {
        tooLarge = null;
        try
        {
            return spec.Family switch
            {
                Family.MobileNetV2 => MobileNetV2Planner.Plan(spec),
                Family.MobileNetV3 => MobileNetV3Planner.Plan(spec),
                Family.EfficientNet => EfficientNetPlanner.Plan(spec),
                _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Family, "Unknown family."),
            };
        }
        catch (TooLargeException e)
        {
            tooLarge = e.Message;
        }
        catch (OverflowException)
        {
            tooLarge = "its parameter or multiply-add count does not fit in a 64-bit integer";
        }

        return null;
    }
}
