using System.Management.Automation;
using Rotation.Core.Redis;

namespace Rotation.Infrastructure;

/// <summary>
/// Parameters every Redis cmdlet shares: the nodes and how to reach them. -Credential is declared by each cmdlet,
/// because it means the admin login on some and the login under test on others (and only the latter binds from
/// a rotation object by property name).
/// </summary>
public abstract class RedisCmdlet : RotationCmdlet
{
    /// <summary>One or more Redis nodes as host:port (every node of a replica set or cluster needs the same ACL change).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Endpoint { get; set; } = [];

    /// <summary>Connect with TLS.</summary>
    [Parameter]
    public SwitchParameter Tls { get; set; }

    /// <summary>A PEM file with the CA certificate(s) that sign the servers' certificates.</summary>
    [Parameter]
    public string? CaFile { get; set; }

    /// <summary>The TLS server name (SNI, and the name the certificate must carry), when it differs from the host.</summary>
    [Parameter]
    public string? ServerName { get; set; }

    /// <summary>UNSAFE: accept any server certificate. Anyone on the network path can then read the passwords.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>Seconds to wait for a connection, and for each reply.</summary>
    [Parameter]
    [ValidateRange(1, 600)]
    public int TimeoutSeconds { get; set; } = 10;

    protected IReadOnlyList<RedisEndpoint> Endpoints => RedisEndpoint.ParseMany(Endpoint);

    protected RedisConnectionOptions ConnectionOptions => new()
    {
        Tls = Tls.IsPresent || CaFile is not null || SkipCertificateCheck.IsPresent,
        CaFile = CaFile is null ? null : GetUnresolvedProviderPathFromPSPath(CaFile),
        ServerName = ServerName,
        SkipCertificateValidation = SkipCertificateCheck.IsPresent,
        ConnectTimeout = TimeSpan.FromSeconds(TimeoutSeconds),
        ReadTimeout = TimeSpan.FromSeconds(TimeoutSeconds),
    };
}
