using System.Management.Automation;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>
/// Generates secrets to a policy: a named preset, or an explicit format, size, exclusions and class minimums.
/// Writes RotationSecret objects (value as SecureString); -AsPlainText writes the plain strings instead.
/// </summary>
[Cmdlet(VerbsCommon.New, "RotationSecret", DefaultParameterSetName = PolicySet)]
[OutputType(typeof(RotationSecret), typeof(string))]
public sealed class NewRotationSecretCommand : RotationCmdlet
{
    private const string PolicySet = "Policy";
    private const string PresetSet = "Preset";

    private SecretPolicy? _policy;

    [Parameter(Mandatory = true, ParameterSetName = PresetSet)]
    public SecretPreset Preset { get; set; }

    [Parameter(ParameterSetName = PolicySet)]
    public int Length { get; set; }

    [Parameter(ParameterSetName = PolicySet)]
    public int ByteLength { get; set; }

    [Parameter]
    public SecretFormat Format { get; set; }

    [Parameter(ParameterSetName = PolicySet)]
    public string[]? ExcludeCharacter { get; set; }

    [Parameter(ParameterSetName = PolicySet)]
    public int MinUpper { get; set; }

    [Parameter(ParameterSetName = PolicySet)]
    public int MinLower { get; set; }

    [Parameter(ParameterSetName = PolicySet)]
    public int MinDigit { get; set; }

    [Parameter(ParameterSetName = PolicySet)]
    public int MinSymbol { get; set; }

    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public string? Name { get; set; }

    [Parameter]
    [ValidateRange(1, 10000)]
    public int Count { get; set; } = 1;

    [Parameter]
    public SwitchParameter AsPlainText { get; set; }

    protected override void BeginProcessing()
    {
        try
        {
            _policy = SecretPolicy.Resolve(
                ParameterSetName == PresetSet ? Preset : null,
                Bound(nameof(Format)) ? Format : null,
                Bound(nameof(Length)) ? Length : null,
                Bound(nameof(ByteLength)) ? ByteLength : null,
                ExcludeCharacter,
                MinUpper, MinLower, MinDigit, MinSymbol);
        }
        catch (RotationException ex)
        {
            ThrowRotationError(ex);
        }
    }

    protected override void ProcessRecord()
    {
        for (var i = 0; i < Count; i++)
        {
            if (AsPlainText)
            {
                WriteObject(SecretGenerator.GenerateText(_policy!));
            }
            else
            {
                WriteObject(SecretGenerator.Generate(_policy!, Name));
            }
        }
    }

    private bool Bound(string parameter) => MyInvocation.BoundParameters.ContainsKey(parameter);
}
