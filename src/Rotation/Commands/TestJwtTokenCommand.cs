using System.Management.Automation;
using Rotation.Core.Jwt;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Validates a token against a ring; -Detailed says which key verified it or why none did.</summary>
[Cmdlet(VerbsDiagnostic.Test, "JwtToken")]
[OutputType(typeof(bool), typeof(JwtTokenTestResult))]
public sealed class TestJwtTokenCommand : RotationCmdlet
{
    private JwtTokenVerifier? _verifier;

    [Parameter(Mandatory = true, Position = 0)]
    public string Uri { get; set; } = string.Empty;

    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public string Token { get; set; } = string.Empty;

    [Parameter]
    public string? Issuer { get; set; }

    [Parameter]
    public string? Audience { get; set; }

    /// <summary>Check only the signature (tokens from old logs have expired).</summary>
    [Parameter]
    public SwitchParameter IgnoreLifetime { get; set; }

    [Parameter]
    public TimeSpan? ClockSkew { get; set; }

    [Parameter]
    public SwitchParameter Detailed { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        if (_verifier is null)
        {
            var manager = JwtKeyRingManager.Open(Services, Uri);
            var ring = Run(() => manager.GetAsync(CancellationToken));
            _verifier = new JwtTokenVerifier(ring, Services.Clock, new JwtTokenValidationOptions
            {
                Issuer = Issuer,
                Audience = Audience,
                ValidateLifetime = !IgnoreLifetime,
                ClockSkew = ClockSkew ?? JwtKeyRingManager.DefaultClockSkew,
            });
        }
        var verifier = _verifier;
        var result = Run(() => verifier.TestAsync(Token, CancellationToken));
        WriteObject(Detailed ? result : result.IsValid);
    });
}
