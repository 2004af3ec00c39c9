using System.Management.Automation;
using Rotation.Core.Runs;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Lists journaled rotation runs, or gets runs by id.</summary>
[Cmdlet(VerbsCommon.Get, "RotationRun")]
[OutputType(typeof(RotationRun))]
public sealed class GetRotationRunCommand : RotationCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? RunId { get; set; }

    [Parameter]
    public RunStatus[]? Status { get; set; }

    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Kind { get; set; }

    protected override void ProcessRecord()
    {
        var query = new RunQuery { RunId = RunId is null ? null : [RunId], Status = Status, Kind = Kind };
        if (!query.IsExactIds)
        {
            WriteObject(query.Find(Services.Journal), enumerateCollection: true);
            return;
        }
        ForItem(() =>
        {
            if (query.Load(Services.Journal, RunId!) is { } run)
            {
                WriteObject(run);
            }
        });
    }
}
