using System.Management.Automation;
using Rotation.Core.Audit;
using Rotation.Core.Postgres;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>
/// Rotates a PostgreSQL login as a journaled run: the new credential is staged in the store, set in the database,
/// verified with a real login, promoted, and the previous login is marked retired.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "DbUserRotation", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DbUserRotation))]
public sealed class InvokeDbUserRotationCommand : PostgresCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string User { get; set; } = string.Empty;

    [Parameter]
    public DbRotationStrategy Strategy { get; set; } = DbRotationStrategy.NewUser;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NewUser { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SecretUri { get; set; }

    [Parameter]
    public AuditReason Reason { get; set; } = AuditReason.Routine;

    protected override void ProcessRecord() => ForItem(() =>
    {
        var request = new DbRotationRequest
        {
            Connection = ConnectionOptions,
            User = User,
            Strategy = Strategy,
            NewUser = NewUser,
            SecretUri = SecretUri,
            Reason = Reason,
        };
        if (!ShouldProcess($"{User} on {request.Connection.TargetName} ({Strategy})", "Rotate database credential"))
        {
            return;
        }
        WriteObject(Run(() => DbUserRotator.InvokeAsync(request, Services, CancellationToken)));
    });
}
