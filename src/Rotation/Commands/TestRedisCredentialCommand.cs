using System.Management.Automation;
using Rotation.Core.Redis;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Logs in with a credential on a fresh connection to every node: true when every node accepts it.</summary>
[Cmdlet(VerbsDiagnostic.Test, "RedisCredential")]
[OutputType(typeof(bool), typeof(RedisCredentialTestResult))]
public sealed class TestRedisCredentialCommand : RedisCmdlet
{
    /// <summary>The login to test (a rotation's Credential binds here by property name).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [CredentialTransformation]
    public PSCredential Credential { get; set; } = null!;

    /// <summary>Succeed when every node refuses the login (proof that a retired credential is dead).</summary>
    [Parameter]
    public SwitchParameter ExpectFailure { get; set; }

    /// <summary>Return an object with the reason instead of a bool.</summary>
    [Parameter]
    public SwitchParameter Detailed { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        var result = Run(() => RedisCredentialChecks.TestAsync(Endpoints, CredentialConvert.ToCore(Credential), ExpectFailure.IsPresent, ConnectionOptions, CancellationToken));
        WriteVerbose(result.Reason);
        WriteObject(Detailed.IsPresent ? result : result.Success);
    });
}
