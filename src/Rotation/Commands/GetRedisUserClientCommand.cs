using System.Management.Automation;
using Rotation.Core.Redis;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Lists the client connections on every node, optionally only those logged in as one user.</summary>
[Cmdlet(VerbsCommon.Get, "RedisUserClient")]
[OutputType(typeof(RedisClientInfo))]
public sealed class GetRedisUserClientCommand : RedisCmdlet
{
    /// <summary>The admin login.</summary>
    [Parameter(Mandatory = true)]
    [CredentialTransformation]
    public PSCredential Credential { get; set; } = null!;

    /// <summary>Only clients authenticated as this user (CLIENT LIST filtered on user=).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    public string? User { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
        WriteObject(Run(() => RedisCredentialChecks.ListClientsAsync(Endpoints, CredentialConvert.ToCore(Credential), User, ConnectionOptions, CancellationToken)), enumerateCollection: true));
}
