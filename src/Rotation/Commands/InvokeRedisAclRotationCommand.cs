using System.Management.Automation;
using Rotation.Core.Audit;
using Rotation.Core.Redis;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Rotates a Redis ACL user's password on every node, verified by a real login, as a journaled run.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "RedisAclRotation", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(RedisAclRotation))]
public sealed class InvokeRedisAclRotationCommand : RedisCmdlet
{
    /// <summary>The admin login (needs ACL, CONFIG and CLIENT permissions).</summary>
    [Parameter(Mandatory = true)]
    [CredentialTransformation]
    public PSCredential Credential { get; set; } = null!;

    /// <summary>The ACL user to rotate (ignored by -Strategy RequirePass, which changes the default user).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string User { get; set; } = string.Empty;

    [Parameter]
    public RedisAclStrategy Strategy { get; set; } = RedisAclStrategy.DualPassword;

    /// <summary>A store URI: the new credential is written there as Pending before any node accepts it, and made Current after a real login succeeded.</summary>
    [Parameter]
    public string? Uri { get; set; }

    /// <summary>Leave the change in memory (no ACL SAVE or CONFIG REWRITE).</summary>
    [Parameter]
    public SwitchParameter NoPersist { get; set; }

    [Parameter]
    [ValidateRange(16, 256)]
    public int PasswordLength { get; set; } = 32;

    [Parameter]
    public AuditReason Reason { get; set; } = AuditReason.Routine;

    protected override void ProcessRecord()
    {
        var endpoints = Endpoints;
        var user = Strategy == RedisAclStrategy.RequirePass ? "default" : User;
        var action = Strategy switch
        {
            RedisAclStrategy.DualPassword => $"Add a new password to ACL user '{user}'",
            RedisAclStrategy.NewUser => $"Create a copy of ACL user '{user}' with a new password",
            _ => "Replace requirepass (the default user's password); clients with the old password fail until restarted",
        };
        if (!ShouldProcess(string.Join(", ", endpoints), action))
        {
            return;
        }
        ForItem(() => WriteObject(Run(() => RedisAclRotator.RotateAsync(new RedisAclRotationRequest
        {
            Endpoints = endpoints,
            User = user,
            AdminCredential = CredentialConvert.ToCore(Credential),
            Strategy = Strategy,
            Uri = Uri,
            Persist = !NoPersist.IsPresent,
            PasswordLength = PasswordLength,
            Options = ConnectionOptions,
            Reason = Reason,
        }, Services, CancellationToken))));
    }
}
