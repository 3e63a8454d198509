using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;

namespace ArchGen.Generator.Model;

/// <summary>
/// An immutable array with structural equality, so pipeline values holding it compare by content
/// (as CommunityToolkit.Mvvm's <c>EquatableArray&lt;T&gt;</c>).
/// </summary>
internal readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IEnumerable<T>
    where T : IEquatable<T>
{
    public static readonly EquatableArray<T> Empty = new(ImmutableArray<T>.Empty);

    private readonly T[]? _array;

    public EquatableArray(ImmutableArray<T> array) => _array = array.IsDefault ? null : ImmutableArrayToArray(array);

    public EquatableArray(T[] array) => _array = array;

    private static T[] ImmutableArrayToArray(ImmutableArray<T> array)
    {
        var copy = new T[array.Length];
        array.CopyTo(copy);
        return copy;
    }

    public int Length => _array?.Length ?? 0;

    public T this[int index] => _array![index];

    public bool IsEmpty => Length == 0;

    public ImmutableArray<T> AsImmutableArray() => _array is null ? ImmutableArray<T>.Empty : ImmutableArray.Create(_array);

    public bool Equals(EquatableArray<T> other)
    {
        var a = _array ?? Array.Empty<T>();
        var b = other._array ?? Array.Empty<T>();
        if (a.Length != b.Length)
        {
            return false;
        }

        for (int i = 0; i < a.Length; i++)
        {
            if (!EqualityComparer<T>.Default.Equals(a[i], b[i]))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

    public override int GetHashCode()
    {
        int hash = 17;
        if (_array is not null)
        {
            foreach (var item in _array)
            {
                hash = unchecked((hash * 31) + (item is null ? 0 : item.GetHashCode()));
            }
        }

        return hash;
    }

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)(_array ?? Array.Empty<T>())).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public static bool operator ==(EquatableArray<T> left, EquatableArray<T> right) => left.Equals(right);

    public static bool operator !=(EquatableArray<T> left, EquatableArray<T> right) => !left.Equals(right);
}

internal static class EquatableArray
{
    public static EquatableArray<T> ToEquatableArray<T>(this IEnumerable<T> items)
        where T : IEquatable<T> => new(System.Linq.Enumerable.ToArray(items));
}
