using Npgsql;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

namespace Rotation.Core.Postgres;

/// <summary>TLS mode of a PostgreSQL connection (libpq's sslmode), without exposing Npgsql's enum to cmdlets.</summary>
public enum DbSslMode
{
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCA,
    VerifyFull,
}

/// <summary>
/// Where a PostgreSQL target is and how the admin logs in: -Server/-Port/-Database/-Credential, or -ConnectionString,
/// or -AdminSecretUri (a store holding a UserPassword / Json credential). What may be journaled (never a password)
/// comes out of <see cref="ToParameters"/>; the admin credential travels as a run input.
/// </summary>
public sealed class DbConnectionOptions
{
    public string? Server { get; init; }

    public int? Port { get; init; }

    public string? Database { get; init; }

    public RotationCredential? AdminCredential { get; init; }

    /// <summary>A libpq/Npgsql connection string. A password in it is used as the admin's and never journaled.</summary>
    public string? ConnectionString { get; init; }

    public string? AdminSecretUri { get; init; }

    public DbSslMode? SslMode { get; init; }

    /// <summary>Seconds to wait for a connection before reporting the server unreachable.</summary>
    public int ConnectTimeoutSeconds { get; init; } = 10;

    internal const string ServerParameter = "Server";
    internal const string PortParameter = "Port";
    internal const string DatabaseParameter = "Database";
    internal const string SslModeParameter = "SslMode";
    internal const string AdminSecretUriParameter = "AdminSecretUri";
    internal const string ConnectionStringParameter = "ConnectionString";

    /// <summary>The journaled form: host, port, database, TLS mode, the admin secret's URI; no password.</summary>
    public Dictionary<string, string> ToParameters()
    {
        var b = BaseBuilder();
        var p = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ServerParameter] = b.Host ?? "localhost",
            [PortParameter] = b.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [DatabaseParameter] = b.Database ?? string.Empty,
        };
        if (SslMode is { } ssl)
        {
            p[SslModeParameter] = ssl.ToString();
        }
        if (AdminSecretUri is not null)
        {
            p[AdminSecretUriParameter] = AdminSecretUri;
        }
        if (ConnectionString is not null)
        {
            var safe = new NpgsqlConnectionStringBuilder(ConnectionString) { Password = null, Passfile = null };
            p[ConnectionStringParameter] = safe.ConnectionString;
        }
        return p;
    }

    /// <summary>Rebuilds options from journaled parameters (on resume or undo) plus the admin credential input.</summary>
    public static DbConnectionOptions FromParameters(IReadOnlyDictionary<string, string> p, RotationCredential? admin) => new()
    {
        ConnectionString = p.GetValueOrDefault(ConnectionStringParameter),
        Server = p.GetValueOrDefault(ServerParameter),
        Port = p.TryGetValue(PortParameter, out var port) ? int.Parse(port, System.Globalization.CultureInfo.InvariantCulture) : null,
        Database = p.GetValueOrDefault(DatabaseParameter) is { Length: > 0 } db ? db : null,
        SslMode = p.TryGetValue(SslModeParameter, out var ssl) ? Enum.Parse<DbSslMode>(ssl) : null,
        AdminSecretUri = p.GetValueOrDefault(AdminSecretUriParameter),
        AdminCredential = admin,
    };

    /// <summary>Host, port, database and TLS without any login.</summary>
    internal NpgsqlConnectionStringBuilder BaseBuilder()
    {
        var b = ConnectionString is null ? new NpgsqlConnectionStringBuilder() : new NpgsqlConnectionStringBuilder(ConnectionString);
        if (Server is not null)
        {
            b.Host = Server;
        }
        b.Host ??= "localhost";
        if (Port is { } port)
        {
            b.Port = port;
        }
        if (Database is not null)
        {
            b.Database = Database;
        }
        if (SslMode is { } ssl)
        {
            b.SslMode = ssl switch
            {
                DbSslMode.Disable => Npgsql.SslMode.Disable,
                DbSslMode.Allow => Npgsql.SslMode.Allow,
                DbSslMode.Prefer => Npgsql.SslMode.Prefer,
                DbSslMode.Require => Npgsql.SslMode.Require,
                DbSslMode.VerifyCA => Npgsql.SslMode.VerifyCA,
                _ => Npgsql.SslMode.VerifyFull,
            };
        }
        if (ConnectionString is null || !ConnectionString.Contains("timeout", StringComparison.OrdinalIgnoreCase))
        {
            b.Timeout = ConnectTimeoutSeconds;
        }
        b.ApplicationName ??= "Rotation";
        return b;
    }

    /// <summary>"host:port/database", how errors and the journal name the target.</summary>
    public string TargetName
    {
        get
        {
            var b = BaseBuilder();
            return $"{b.Host}:{b.Port}/{b.Database}";
        }
    }

    public string Host => BaseBuilder().Host!;

    public int EffectivePort => BaseBuilder().Port;

    public string? EffectiveDatabase => BaseBuilder().Database;

    /// <summary>
    /// The admin login: -Credential, else the secret at -AdminSecretUri (fields username/password, or user/password),
    /// else the user and password of the connection string.
    /// </summary>
    public async Task<RotationCredential> ResolveAdminAsync(Func<string, ISecretStore> openStore, CancellationToken cancellationToken)
    {
        if (AdminCredential is not null)
        {
            return AdminCredential;
        }
        if (AdminSecretUri is not null)
        {
            var stored = await openStore(AdminSecretUri).GetAsync(SecretStage.Current, cancellationToken).ConfigureAwait(false);
            return DbCredentialShape.Read(stored.Value, AdminSecretUri);
        }
        if (ConnectionStringLogin() is { } login)
        {
            return login;
        }
        throw Errors.Errors.InvalidArgument(TargetName,
            $"No admin login for {TargetName}: pass -Credential, -AdminSecretUri (a store holding username and password), " +
            "or a -ConnectionString with a user name and password.");
    }

    /// <summary>The user name and password written in the connection string, if both are.</summary>
    public RotationCredential? ConnectionStringLogin()
    {
        if (ConnectionString is null)
        {
            return null;
        }
        var b = new NpgsqlConnectionStringBuilder(ConnectionString);
        return !string.IsNullOrEmpty(b.Username) && b.Password is not null ? RotationCredential.FromPlainText(b.Username, b.Password) : null;
    }

    /// <summary>A connection string for a login. Verification logins never pool: a pool hides a changed password.</summary>
    internal string ConnectionStringFor(RotationCredential login, bool pooling)
    {
        var b = BaseBuilder();
        b.Username = login.UserName;
        b.Password = SecureStrings.ToPlainText(login.Password);
        b.Pooling = pooling;
        return b.ConnectionString;
    }
}

/// <summary>How a database credential sits in a store: fields username and password (the UserPassword shape).</summary>
public static class DbCredentialShape
{
    public const string UserNameField = "username";
    public const string PasswordField = "password";

    public static SecretValue Write(string user, string password) =>
        SecretValue.FromFields(new Dictionary<string, string>(StringComparer.Ordinal) { [UserNameField] = user, [PasswordField] = password });

    public static RotationCredential Read(SecretValue value, string target)
    {
        var fields = value.AsFields(target);
        var user = fields.GetValueOrDefault(UserNameField) ?? fields.GetValueOrDefault("user") ?? fields.GetValueOrDefault("UserName");
        var password = fields.GetValueOrDefault(PasswordField) ?? fields.GetValueOrDefault("Password");
        if (string.IsNullOrEmpty(user) || password is null)
        {
            throw new RotationException(RotationErrorIds.SecretShapeInvalid, RotationErrorCategory.InvalidData, target,
                $"The secret '{target}' is not a database login: it needs the fields '{UserNameField}' and '{PasswordField}' " +
                $"(write it with Set-RotationSecret -Shape UserPassword). Its fields are: {string.Join(", ", fields.Keys)}.");
        }
        return RotationCredential.FromPlainText(user, password);
    }
}
