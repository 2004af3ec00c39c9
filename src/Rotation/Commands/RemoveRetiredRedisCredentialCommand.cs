using System.Management.Automation;
using Rotation.Core.Redis;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>
/// Retires the old credential of a Redis rotation after its grace period: removes the old passwords
/// (DualPassword) or deletes the old user (NewUser), and proves the old login is gone.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "RetiredRedisCredential", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = InputObjectSet)]
[OutputType(typeof(RedisRetirement))]
public sealed class RemoveRetiredRedisCredentialCommand : RotationCmdlet
{
    private const string InputObjectSet = "InputObject";
    private const string RunIdSet = "RunId";

    /// <summary>The rotation whose old credential to retire (from Invoke-RedisAclRotation).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    public RedisAclRotation InputObject { get; set; } = null!;

    /// <summary>The journaled run of the rotation (Get-RotationRun), when the rotation object is gone.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = RunIdSet)]
    [ValidateNotNullOrEmpty]
    public string RunId { get; set; } = string.Empty;

    /// <summary>The admin login. Never bound from the pipeline: a rotation object's Credential is the application's login.</summary>
    [Parameter(Mandatory = true)]
    [CredentialTransformation]
    public PSCredential Credential { get; set; } = null!;

    /// <summary>How long after the rotation the old credential must stay valid (clients pick up the new one meanwhile).</summary>
    [Parameter]
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Disconnect clients still logged in as the old user (CLIENT KILL USER) instead of refusing.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter NoPersist { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Connect with TLS.</summary>
    [Parameter]
    public SwitchParameter Tls { get; set; }

    [Parameter]
    public string? CaFile { get; set; }

    [Parameter]
    public string? ServerName { get; set; }

    /// <summary>UNSAFE: accept any server certificate.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        // With no connection parameter given, a run's journaled TLS settings apply (RunId), or the defaults.
        var anyConnectionParameter = Tls.IsPresent || CaFile is not null || ServerName is not null || SkipCertificateCheck.IsPresent;
        var options = !anyConnectionParameter ? null : new RedisConnectionOptions
        {
            Tls = Tls.IsPresent || CaFile is not null || SkipCertificateCheck.IsPresent,
            CaFile = CaFile is null ? null : GetUnresolvedProviderPathFromPSPath(CaFile),
            ServerName = ServerName,
            SkipCertificateValidation = SkipCertificateCheck.IsPresent,
        };
        var admin = CredentialConvert.ToCore(Credential);
        var request = ParameterSetName == RunIdSet
            ? RedisRetireRequest.FromRun(Services.Journal.Load(RunId), admin, GracePeriod, Force.IsPresent, options)
            : RedisRetireRequest.From(InputObject, admin, GracePeriod, Force.IsPresent, options);
        request = request.WithPersist(!NoPersist.IsPresent);
        var what = request.Strategy == RedisAclStrategy.NewUser
            ? $"Delete ACL user '{request.PreviousUser}'{(Force.IsPresent ? " and disconnect its clients" : string.Empty)}"
            : $"Remove the old password(s) of ACL user '{request.PreviousUser}'";
        if (!ShouldProcess(string.Join(", ", request.Endpoints), what))
        {
            return;
        }
        var result = Run(() => RedisCredentialRetirer.RetireAsync(request, Services, CancellationToken));
        if (PassThru.IsPresent)
        {
            WriteObject(result);
        }
    });
}
