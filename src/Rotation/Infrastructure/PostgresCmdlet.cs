using System.Management.Automation;
using Rotation.Core.Postgres;

namespace Rotation.Infrastructure;

/// <summary>
/// The connection parameters every PostgreSQL cmdlet shares (DESIGN.md section 1: Server, Port, Database,
/// Credential), plus -ConnectionString, -AdminSecretUri and -SslMode. -Credential is the admin login here; it does
/// not bind from the pipeline, so a rotation's output (whose Credential is the new application login) never
/// becomes the admin by accident.
/// </summary>
public abstract class PostgresCmdlet : RotationCmdlet
{
    /// <summary>Host name or address of the PostgreSQL server (default localhost, or the connection string's).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Server { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 65535)]
    public int? Port { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Database { get; set; }

    /// <summary>The admin login (SUPERUSER or CREATEROLE).</summary>
    [Parameter]
    [CredentialTransformation]
    public PSCredential? Credential { get; set; }

    /// <summary>An Npgsql / libpq keyword connection string; a password in it is used for the admin login and never journaled.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ConnectionString { get; set; }

    /// <summary>A store URI holding the admin login (fields username and password).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? AdminSecretUri { get; set; }

    [Parameter]
    public DbSslMode? SslMode { get; set; }

    protected DbConnectionOptions ConnectionOptions => new()
    {
        Server = Server,
        Port = Port,
        Database = Database,
        AdminCredential = Credential is null ? null : CredentialConvert.ToCore(Credential),
        ConnectionString = ConnectionString,
        AdminSecretUri = AdminSecretUri,
        SslMode = SslMode,
    };
}
