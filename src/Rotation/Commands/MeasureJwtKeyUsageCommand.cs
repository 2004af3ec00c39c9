using System.Management.Automation;
using Rotation.Core.Jwt;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Counts tokens per signing key in tokens or log lines and reports the share on the active key.</summary>
[Cmdlet(VerbsDiagnostic.Measure, "JwtKeyUsage", DefaultParameterSetName = InputSet)]
[OutputType(typeof(JwtKeyUsageReport))]
public sealed class MeasureJwtKeyUsageCommand : RotationCmdlet
{
    private const string InputSet = "Input";
    private const string PathSet = "Path";
    private readonly List<string> _lines = [];

    [Parameter(Mandatory = true, Position = 0)]
    public string Uri { get; set; } = string.Empty;

    /// <summary>Log files to read.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathSet)]
    public string[] Path { get; set; } = [];

    /// <summary>Tokens or log lines.</summary>
    [Parameter(Mandatory = true, ParameterSetName = InputSet, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string[] InputObject { get; set; } = [];

    /// <summary>The share of tokens on the active key that MeetsThreshold requires (0.95 = 95%).</summary>
    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double Threshold { get; set; } = 0.95;

    protected override void ProcessRecord()
    {
        if (ParameterSetName == InputSet)
        {
            _lines.AddRange(InputObject);
        }
    }

    protected override void EndProcessing() => ForItem(() =>
    {
        var manager = JwtKeyRingManager.Open(Services, Uri);
        var ring = Run(() => manager.GetAsync(CancellationToken));
        var lines = ParameterSetName == PathSet
            ? JwtKeyUsageMeter.ReadLines(Path.Select(GetUnresolvedProviderPathFromPSPath))
            : _lines;
        WriteObject(JwtKeyUsageMeter.Measure(ring, lines, Threshold));
    });
}
