using System.Management.Automation;
using System.Security;
using Rotation.Core.Jwt;
using Rotation.Core.Secrets;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Creates a JWT signing key (HMAC, RSA or EC) that is in no ring yet; pipe it into Add-JwtSigningKey.</summary>
[Cmdlet(VerbsCommon.New, "JwtSigningKey", DefaultParameterSetName = GenerateSet)]
[OutputType(typeof(JwtKey))]
public sealed class NewJwtSigningKeyCommand : RotationCmdlet
{
    private const string GenerateSet = "Generate";
    private const string SecretSet = "Secret";

    [Parameter(Mandatory = true, Position = 0)]
    public JwtAlgorithm Algorithm { get; set; }

    /// <summary>Key id; default: the RFC 7638 thumbprint of the key's JWK.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Kid { get; set; }

    /// <summary>Bits: HMAC default 512 (64 bytes), RSA default 2048, EC fixed by the curve.</summary>
    [Parameter(ParameterSetName = GenerateSet)]
    [ValidateRange(256, 16384)]
    public int? KeySize { get; set; }

    /// <summary>An existing HMAC secret (the JWT_SECRET an application already uses) to bring into a ring.</summary>
    [Parameter(Mandatory = true, ParameterSetName = SecretSet)]
    public SecureString? Secret { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        var clock = TimeProvider.System;
        var key = Secret is null
            ? JwtKeyFactory.New(Algorithm, clock, Kid, KeySize)
            : JwtKeyFactory.FromHmacSecret(Algorithm, SecureStrings.ToPlainText(Secret), clock, Kid);
        WriteObject(key);
    });
}
