using System.Management.Automation;
using Rotation.Core.Runs;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Continues a journaled rotation run at its first step that is not done.</summary>
[Cmdlet(VerbsLifecycle.Resume, "Rotation", SupportsShouldProcess = true)]
[OutputType(typeof(RotationRun))]
public sealed class ResumeRotationCommand : RunCommandBase
{
    protected override string Action => "Resume rotation";

    protected override Task<RotationRun> ExecuteAsync(RunEngine engine, IReadOnlyDictionary<string, object> inputs) =>
        engine.ResumeAsync(RunId, inputs, CancellationToken);
}
