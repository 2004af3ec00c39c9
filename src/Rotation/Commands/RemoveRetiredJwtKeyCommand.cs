using System.Management.Automation;
using Rotation.Core.Jwt;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Removes Retiring keys once every token they signed has expired (retiring-since + MaxTokenLifetime + ClockSkew).</summary>
[Cmdlet(VerbsCommon.Remove, "RetiredJwtKey", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(JwtKey))]
public sealed class RemoveRetiredJwtKeyCommand : RotationCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Uri { get; set; } = string.Empty;

    /// <summary>The longest lifetime of any token the keys signed (access or refresh).</summary>
    [Parameter(Mandatory = true)]
    public TimeSpan MaxTokenLifetime { get; set; }

    [Parameter]
    public TimeSpan? ClockSkew { get; set; }

    /// <summary>Only this key (it must be Retiring).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Kid { get; set; }

    /// <summary>Skips the confirmation prompt; never the lifetime rule.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        var what = Kid is null ? "Remove the Retiring JWT keys whose grace has passed" : $"Remove the Retiring JWT key '{Kid}' if its grace has passed";
        if (!ForceConfirmation.ShouldProcess(this, Force, Uri, what))
        {
            return;
        }
        var manager = JwtKeyRingManager.Open(Services, Uri);
        var result = Run(() => manager.RemoveRetiredAsync(MaxTokenLifetime, ClockSkew, Kid, CancellationToken));
        foreach (var inGrace in result.StillInGrace)
        {
            WriteRotationError(inGrace);
        }
        if (PassThru)
        {
            WriteObject(result.Removed, enumerateCollection: true);
        }
    });
}
