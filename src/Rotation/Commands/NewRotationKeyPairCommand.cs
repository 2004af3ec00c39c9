using System.Management.Automation;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>
/// Generates an RSA or ECDSA key pair identified by its RFC 7638 thumbprint, optionally writing PEM files
/// (private 0600, public 0644; never over an existing file without -Force).
/// </summary>
[Cmdlet(VerbsCommon.New, "RotationKeyPair", SupportsShouldProcess = true)]
[OutputType(typeof(RotationKeyPair))]
public sealed class NewRotationKeyPairCommand : RotationCmdlet
{
    [Parameter(Position = 0)]
    public KeyAlgorithm Algorithm { get; set; }

    [Parameter]
    [ValidateSet("2048", "3072", "4096")]
    public int KeySize { get; set; }

    [Parameter]
    [ValidateSet("P-256", "P-384", "P-521")]
    public string? Curve { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Kid { get; set; }

    [Parameter]
    public string? PrivateKeyPath { get; set; }

    [Parameter]
    public string? PublicKeyPath { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        var privatePath = Resolve(PrivateKeyPath);
        var publicPath = Resolve(PublicKeyPath);
        KeyPairFiles.Check(privatePath, publicPath, Force);
        using var pair = KeyPairGenerator.Generate(
            MyInvocation.BoundParameters.ContainsKey(nameof(Algorithm)) ? Algorithm : null,
            MyInvocation.BoundParameters.ContainsKey(nameof(KeySize)) ? KeySize : null,
            Curve);
        if (privatePath is not null || publicPath is not null)
        {
            var target = string.Join(", ", new[] { privatePath, publicPath }.Where(p => p is not null));
            if (!ShouldProcess(target, $"Write {pair.Algorithm} key pair {pair.Thumbprint}"))
            {
                return;
            }
            KeyPairFiles.Write(pair, privatePath, publicPath, Force);
        }
        WriteObject(pair.ToRotationKeyPair(Kid, privatePath, publicPath));
    });

    private string? Resolve(string? path) =>
        string.IsNullOrEmpty(path) ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
}
