using System.Management.Automation;
using Rotation.Core.Postgres;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>
/// Removes the logins a rotation retired, once the grace period since their retirement has passed and no session
/// uses them: drops a NewUser family's old role, disables the idle login of an alternating pair, then proves that a
/// login as it fails.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "RetiredDbUser", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(DbRetiredUser))]
public sealed class RemoveRetiredDbUserCommand : PostgresCmdlet
{
    /// <summary>The rotated login or its family name: every retired role of the family is considered.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string User { get; set; } = string.Empty;

    [Parameter(Mandatory = true)]
    public TimeSpan GracePeriod { get; set; }

    /// <summary>Terminate the retired login's sessions (pg_terminate_backend) instead of refusing.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ReassignTo { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RenameTo { get; set; }

    /// <summary>The store of the current credential: its Previous version proves the old login dead; -RenameTo updates it.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? SecretUri { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        var request = new DbRetireRequest
        {
            Connection = ConnectionOptions,
            User = User,
            GracePeriod = GracePeriod,
            Force = Force,
            ReassignTo = ReassignTo,
            RenameTo = RenameTo,
            SecretUri = SecretUri,
        };
        foreach (var (role, marker) in Run(() => DbUserRotator.FindRetiredAsync(request, Services.OpenStore, CancellationToken)))
        {
            ForItem(() =>
            {
                if (!ShouldProcess($"{role} on {request.Connection.TargetName} (retired {marker.At:u}, successor {marker.Successor})",
                    marker.Strategy == nameof(DbRotationStrategy.AlternatingUsers) ? "Disable retired login" : "Drop retired login"))
                {
                    return;
                }
                var removed = Run(() => DbUserRotator.RemoveRetiredAsync(request, role, marker, Services, CancellationToken));
                if (PassThru)
                {
                    WriteObject(removed);
                }
            });
        }
    });
}
