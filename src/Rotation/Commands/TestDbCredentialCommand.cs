using System.Management.Automation;
using Rotation.Core.Postgres;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>
/// Logs in to PostgreSQL with a credential over a fresh, unpooled connection (a pool would hide a changed password).
/// Returns $true when the login works (with -ExpectFailure: when it is refused); -Detailed returns the reason.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "DbCredential")]
[OutputType(typeof(bool), typeof(DbCredentialTestResult))]
public sealed class TestDbCredentialCommand : RotationCmdlet
{
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Server { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 65535)]
    public int? Port { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Database { get; set; }

    /// <summary>The login to test; a rotation's output binds its new credential here.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [CredentialTransformation]
    public PSCredential Credential { get; set; } = null!;

    /// <summary>Host, port, database and TLS settings as a connection string (its login is ignored).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ConnectionString { get; set; }

    [Parameter]
    public DbSslMode? SslMode { get; set; }

    /// <summary>Succeed when the login is refused (proves an old credential is dead).</summary>
    [Parameter]
    public SwitchParameter ExpectFailure { get; set; }

    [Parameter]
    public SwitchParameter Detailed { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        var options = new DbConnectionOptions { Server = Server, Port = Port, Database = Database, ConnectionString = ConnectionString, SslMode = SslMode };
        var result = Run(() => DbUserRotator.TestCredentialAsync(options, CredentialConvert.ToCore(Credential), ExpectFailure, CancellationToken));
        WriteObject(Detailed ? result : result.Passed);
    });
}
