using System.Management.Automation;
using Rotation.Core.Runs;

namespace Rotation.Infrastructure;

/// <summary>
/// What Resume-Rotation and Undo-Rotation share: a run id bound by property name, the admin credential passed to
/// the steps as <see cref="RunInputs.AdminCredential"/>, and ShouldProcess right before the engine touches the run.
/// </summary>
public abstract class RunCommandBase : RotationCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string RunId { get; set; } = string.Empty;

    /// <summary>The admin login the run's steps need (never journaled, so it is supplied again each time).</summary>
    [Parameter]
    [CredentialTransformation]
    public PSCredential? Credential { get; set; }

    /// <summary>The ShouldProcess action ("Resume rotation").</summary>
    protected abstract string Action { get; }

    protected abstract Task<RotationRun> ExecuteAsync(RunEngine engine, IReadOnlyDictionary<string, object> inputs);

    protected override void ProcessRecord() => ForItem(() =>
    {
        var run = Services.Journal.Load(RunId);
        if (!ShouldProcess($"run {run.RunId} ({run.Kind} of {run.Target}, {run.Status}, next step '{run.NextStep}')", Action))
        {
            return;
        }
        var inputs = RunInputs.Create(Credential is null ? null : CredentialConvert.ToCore(Credential));
        WriteObject(Run(() => ExecuteAsync(new RunEngine(Services), inputs)));
    });
}
