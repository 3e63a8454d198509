using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace ArchGen.Generator.Families;

/// <summary>The families a generator and analyzer know, found by their attributes.</summary>
internal sealed class FamilyCatalog
{
    public FamilyCatalog(ImmutableArray<Family> families) => All = families;

    /// <summary>Every <see cref="Family"/> defined in this assembly (each file of <c>src/Generator/Families</c>), by name.</summary>
    public static FamilyCatalog Shipped { get; } = new(typeof(Family).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(Family)) && !t.IsAbstract)
        .Select(t => (Family)Activator.CreateInstance(t)!)
        .OrderBy(f => f.Name, StringComparer.Ordinal)
        .ToImmutableArray());

    public ImmutableArray<Family> All { get; }

    /// <summary>The family whose model attribute is <paramref name="attribute"/>, or null.</summary>
    public Family? ByModelAttribute(INamedTypeSymbol? attribute) => Find(attribute, model: true);

    /// <summary>The family whose row attribute is <paramref name="attribute"/>, or null.</summary>
    public Family? ByRowAttribute(INamedTypeSymbol? attribute) => Find(attribute, model: false);

    private Family? Find(INamedTypeSymbol? attribute, bool model)
    {
        if (attribute is null || attribute.ContainingNamespace is not { Name: "ArchGen", ContainingNamespace.IsGlobalNamespace: true })
        {
            return null;
        }

        foreach (var family in All)
        {
            if (attribute.Name == (model ? family.Name : family.RowName) + "Attribute")
            {
                return family;
            }
        }

        return null;
    }
}
