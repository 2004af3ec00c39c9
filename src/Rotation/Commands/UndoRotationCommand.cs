using System.Management.Automation;
using Rotation.Core.Runs;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Rolls a journaled rotation run back: compensates its steps in reverse order.</summary>
[Cmdlet(VerbsCommon.Undo, "Rotation", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(RotationRun))]
public sealed class UndoRotationCommand : RunCommandBase
{
    protected override string Action => "Undo rotation";

    protected override Task<RotationRun> ExecuteAsync(RunEngine engine, IReadOnlyDictionary<string, object> inputs) =>
        engine.UndoAsync(RunId, inputs, CancellationToken);
}
