namespace ArchGen.Generator.Parsing;

/// <summary>Converts attribute arguments, remembering whether any did not compile to a value.</summary>
internal sealed class ArgumentReader
{
    public bool Error { get; private set; }

    public int Int(Microsoft.CodeAnalysis.TypedConstant value) => IsError(value) ? 0 : ToInt(value.Value!);

    public bool Bool(Microsoft.CodeAnalysis.TypedConstant value)
    {
        if (IsError(value) || value.Value is not bool b)
        {
            Error = true;
            return false;
        }

        return b;
    }

    public bool ToBool(object value)
    {
        if (value is bool b)
        {
            return b;
        }

        Error = true;
        return false;
    }

    public int ToInt(object value) => Convert(value, static (v, c) => System.Convert.ToInt32(v, c));

    public double ToDouble(object value) => Convert(value, static (v, c) => System.Convert.ToDouble(v, c));

    private bool IsError(Microsoft.CodeAnalysis.TypedConstant value)
    {
        if (value.Kind == Microsoft.CodeAnalysis.TypedConstantKind.Error || value.Value is null)
        {
            Error = true;
            return true;
        }

        return false;
    }

    private T Convert<T>(object value, System.Func<object, System.IFormatProvider, T> convert)
    {
        try
        {
            return convert(value, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (System.Exception e) when (e is System.InvalidCastException or System.OverflowException or System.FormatException)
        {
            Error = true;
            return default!;
        }
    }
}
