using System.Collections;
using System.Globalization;
using System.Security;
using System.Text;
using System.Text.Json;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;

namespace Rotation.Core.Stores;

/// <summary>What a consumer reads from a secret (DESIGN.md section 2, Set-RotationSecret -Shape).</summary>
public enum SecretShape
{
    /// <summary>The password (or the value) alone.</summary>
    Password,

    /// <summary>Fields <c>username</c> and <c>password</c>.</summary>
    UserPassword,

    /// <summary><c>postgresql://user:password@host:port/database</c>, user and password percent-encoded.</summary>
    DatabaseUrl,

    /// <summary>A JSON object: AWS's RDS secret layout for a credential (engine, host, port, username, password,
    /// dbname), or the fields of a field map as they are.</summary>
    Json,
}

/// <summary>The inputs Set-RotationSecret can bind; exactly one of Credential, Value and Fields is the source.</summary>
public sealed class SecretShapeInput
{
    public RotationCredential? Credential { get; init; }

    public SecureString? Value { get; init; }

    /// <summary>A field map (ConvertTo-JwtKeyLayout's output): values are strings, SecureStrings or numbers.</summary>
    public IDictionary? Fields { get; init; }

    public string? Server { get; init; }

    public int? Port { get; init; }

    public string? Database { get; init; }
}

/// <summary>Turns a rotation's credential, a value or a field map into the value a consumer reads.</summary>
public static class SecretShaper
{
    public const int DefaultPostgresPort = 5432;

    /// <summary>
    /// Without a shape: a field map is stored as Json, a credential as its password, a value as itself.
    /// Errors (InvalidArgument, SecretShapeInvalid) name <paramref name="target"/> and never contain a value.
    /// </summary>
    public static SecretValue Shape(SecretShape? shape, SecretShapeInput input, string target)
    {
        ArgumentNullException.ThrowIfNull(input);
        var sources = (input.Credential is null ? 0 : 1) + (input.Value is null ? 0 : 1) + (input.Fields is null ? 0 : 1);
        if (sources == 0)
        {
            throw Errors.Errors.InvalidArgument(target, $"Nothing to write to '{target}': give -Value (a SecureString, or New-RotationSecret's output), -Credential (a rotation's credential) or -Fields (a field map).");
        }
        if (input.Fields is not null)
        {
            if (sources > 1)
            {
                throw Errors.Errors.InvalidArgument(target, $"Give either -Fields or -Credential/-Value for '{target}', not both.");
            }
            if (shape is not (null or SecretShape.Json))
            {
                throw Invalid(target, $"A field map is written to '{target}' as Json; -Shape {shape} needs a -Credential or a -Value.");
            }
            return FieldMap(input.Fields, target);
        }
        if (input.Credential is { } credential)
        {
            return shape switch
            {
                null or SecretShape.Password => SecretValue.FromSecureString(credential.Password),
                SecretShape.UserPassword => UserPassword(credential),
                SecretShape.DatabaseUrl => SecretValue.FromText(DatabaseUrl(credential, RequireServer(input, target), input.Port, input.Database)),
                _ => SecretValue.FromText(RdsJson(credential, input.Server, input.Port, input.Database)),
            };
        }
        var value = input.Value!;
        return shape switch
        {
            null or SecretShape.Password => SecretValue.FromSecureString(value),
            SecretShape.Json => JsonObjectText(SecureStrings.ToPlainText(value), target),
            _ => throw Invalid(target, $"-Shape {shape} for '{target}' needs a user name: pass a -Credential (a rotation's Credential binds by property name) instead of a -Value."),
        };
    }

    public static SecretValue UserPassword(RotationCredential credential) =>
        SecretValue.FromFields(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["username"] = credential.UserName,
            ["password"] = SecureStrings.ToPlainText(credential.Password),
        });

    /// <summary>
    /// postgresql://user:password@host:port/database. User, password and database are percent-encoded as RFC 3986
    /// userinfo and path segments (everything but unreserved characters), so a password with @ : / ? # % survives
    /// libpq, psycopg, SQLAlchemy and Npgsql parsing alike. An IPv6 host is bracketed.
    /// </summary>
    public static string DatabaseUrl(RotationCredential credential, string server, int? port, string? database)
    {
        var sb = new StringBuilder("postgresql://");
        sb.Append(Uri.EscapeDataString(credential.UserName)).Append(':');
        SecureStrings.UsePlainChars(credential.Password, chars => sb.Append(Uri.EscapeDataString(new string(chars))));
        sb.Append('@').Append(server.Contains(':', StringComparison.Ordinal) && !server.StartsWith('[') ? $"[{server}]" : server);
        sb.Append(':').Append((port ?? DefaultPostgresPort).ToString(CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(database))
        {
            sb.Append('/').Append(Uri.EscapeDataString(database));
        }
        return sb.ToString();
    }

    /// <summary>AWS's secret layout for RDS/PostgreSQL credentials; port is a JSON number as AWS's rotation functions expect.</summary>
    public static string RdsJson(RotationCredential credential, string? server, int? port, string? database)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("engine", "postgres");
            if (!string.IsNullOrEmpty(server))
            {
                w.WriteString("host", server);
                w.WriteNumber("port", port ?? DefaultPostgresPort);
            }
            w.WriteString("username", credential.UserName);
            w.WriteString("password", SecureStrings.ToPlainText(credential.Password));
            if (!string.IsNullOrEmpty(database))
            {
                w.WriteString("dbname", database);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A field map as a JSON object of strings; SecureString values are read, numbers and booleans formatted.</summary>
    public static SecretValue FieldMap(IDictionary fields, string target)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in fields)
        {
            var key = entry.Key?.ToString();
            if (string.IsNullOrEmpty(key))
            {
                throw Invalid(target, $"The field map for '{target}' has an empty field name.");
            }
            map[key] = entry.Value switch
            {
                string s => s,
                SecureString ss => SecureStrings.ToPlainText(ss),
                bool b => b ? "true" : "false",
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                null => throw Invalid(target, $"The field '{key}' of the map for '{target}' has no value."),
                // Never ToString() an arbitrary object: it might print something else than intended (or a secret).
                var other => throw Invalid(target, $"The field '{key}' of the map for '{target}' is a {other.GetType().Name}; fields are strings, SecureStrings or numbers."),
            };
        }
        if (map.Count == 0)
        {
            throw Invalid(target, $"The field map for '{target}' is empty.");
        }
        return SecretValue.FromFields(map);
    }

    private static SecretValue JsonObjectText(string text, string target)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                return SecretValue.FromText(text);
            }
        }
        catch (JsonException)
        {
            // Fall through to the error below; the parser's message could quote the value.
        }
        throw Invalid(target, $"-Shape Json for '{target}' needs a JSON object value, a -Credential or -Fields; the value given is not a JSON object.");
    }

    private static string RequireServer(SecretShapeInput input, string target) =>
        string.IsNullOrWhiteSpace(input.Server)
            ? throw Errors.Errors.InvalidArgument(target, $"-Shape DatabaseUrl for '{target}' needs -Server (and usually -Port and -Database); they bind by property name from Invoke-DbUserRotation.")
            : input.Server;

    private static RotationException Invalid(string target, string message) =>
        new(RotationErrorIds.SecretShapeInvalid, RotationErrorCategory.InvalidArgument, target, message);
}
