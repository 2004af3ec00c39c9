using System.Text;
using Rotation.Core.Errors;

namespace Rotation.Core.Postgres;

/// <summary>
/// Quoting for the statements that take no bind parameters (CREATE/ALTER/DROP ROLE, GRANT, COMMENT): identifiers
/// follow PostgreSQL's quote_ident rules and literals its quote_literal rules, so a name such as <c>a"b</c> or
/// <c>x'; drop table t; --</c> is data, never SQL.
/// </summary>
public static class PgQuote
{
    /// <summary>NAMEDATALEN - 1: PostgreSQL silently truncates longer names, which would rotate the wrong role.</summary>
    public const int MaxIdentifierBytes = 63;

    // Keywords quote_ident quotes (every category but unreserved), from pg_get_keywords() of PostgreSQL 15.
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "between", "bigint",
        "binary", "bit", "boolean", "both", "case", "cast", "char", "character", "check", "coalesce", "collate", "collation",
        "column", "concurrently", "constraint", "create", "cross", "current_catalog", "current_date", "current_role",
        "current_schema", "current_time", "current_timestamp", "current_user", "dec", "decimal", "default", "deferrable",
        "desc", "distinct", "do", "else", "end", "except", "exists", "extract", "false", "fetch", "float", "for", "foreign",
        "freeze", "from", "full", "grant", "greatest", "group", "grouping", "having", "ilike", "in", "initially", "inner",
        "inout", "int", "integer", "intersect", "interval", "into", "is", "isnull", "join", "lateral", "leading", "least",
        "left", "like", "limit", "localtime", "localtimestamp", "national", "natural", "nchar", "none", "normalize", "not",
        "notnull", "null", "nullif", "numeric", "offset", "on", "only", "or", "order", "out", "outer", "overlaps", "overlay",
        "placing", "position", "precision", "primary", "real", "references", "returning", "right", "row", "select",
        "session_user", "setof", "similar", "smallint", "some", "substring", "symmetric", "table", "tablesample", "then",
        "time", "timestamp", "to", "trailing", "treat", "trim", "true", "union", "unique", "user", "using", "values",
        "varchar", "variadic", "verbose", "when", "where", "window", "with", "xmlattributes", "xmlconcat", "xmlelement",
        "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmltable",
    };

    /// <summary>Throws DbIdentifierInvalid for a name PostgreSQL would reject or silently change.</summary>
    public static void ValidateIdentifier(string? name, string what = "role name")
    {
        if (string.IsNullOrEmpty(name))
        {
            throw Invalid(name ?? string.Empty, $"The {what} is empty. Give the PostgreSQL {what} to use.");
        }
        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw Invalid("(name with NUL)", $"The {what} contains a NUL character, which PostgreSQL cannot store. Use another name.");
        }
        var bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes > MaxIdentifierBytes)
        {
            throw Invalid(name, $"The {what} '{name}' is {bytes} bytes long; PostgreSQL names are at most {MaxIdentifierBytes} bytes " +
                "and longer ones are silently truncated, which would act on another role. Use a shorter name.");
        }
    }

    /// <summary>The identifier as quote_ident writes it: bare when it is lower-case, simple and not a keyword.</summary>
    public static string Identifier(string name)
    {
        ValidateIdentifier(name);
        return IsSafeBare(name) ? name : "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>
    /// A string literal as quote_literal writes it: quotes doubled, and the E'' form with doubled backslashes when a
    /// backslash is present, so the result means the same whatever standard_conforming_strings is.
    /// </summary>
    public static string Literal(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw Invalid("(literal)", "A value contains a NUL character, which PostgreSQL text cannot hold.");
        }
        var body = value.Replace("'", "''", StringComparison.Ordinal);
        return value.Contains('\\', StringComparison.Ordinal)
            ? "E'" + body.Replace("\\", "\\\\", StringComparison.Ordinal) + "'"
            : "'" + body + "'";
    }

    private static bool IsSafeBare(string name)
    {
        if (!(name[0] is >= 'a' and <= 'z' or '_'))
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_'))
            {
                return false;
            }
        }
        return !Keywords.Contains(name);
    }

    private static RotationException Invalid(string target, string message) =>
        new(RotationErrorIds.DbIdentifierInvalid, RotationErrorCategory.InvalidArgument, target, message);
}
