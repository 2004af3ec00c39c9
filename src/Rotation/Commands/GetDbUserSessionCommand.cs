using System.Management.Automation;
using Rotation.Core.Postgres;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Lists a login's sessions from pg_stat_activity: what still uses a credential before it is retired.</summary>
[Cmdlet(VerbsCommon.Get, "DbUserSession")]
[OutputType(typeof(DbUserSession))]
public sealed class GetDbUserSessionCommand : PostgresCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string User { get; set; } = string.Empty;

    protected override void ProcessRecord() => ForItem(() =>
        WriteObject(Run(() => DbUserRotator.GetSessionsAsync(ConnectionOptions, User, Services.OpenStore, CancellationToken)), enumerateCollection: true));
}
