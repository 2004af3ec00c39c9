using System.Management.Automation;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Reads one stage of a secret: a RotationSecret (value as SecureString), or the plain text with -AsPlainText.</summary>
[Cmdlet(VerbsCommon.Get, "RotationSecret")]
[OutputType(typeof(RotationSecret), typeof(string))]
public sealed class GetRotationSecretCommand : RotationCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Uri { get; set; } = string.Empty;

    /// <summary>Current when not given (or when a piped object carries no stage).</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    public SecretStage? Stage { get; set; }

    [Parameter]
    public SwitchParameter AsPlainText { get; set; }

    [Parameter]
    public string[]? Endpoint { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        var operations = new SecretOperations(Services, Endpoint, Uri);
        var secret = Run(() => operations.GetAsync(Uri, Stage ?? SecretStage.Current, CancellationToken));
        WriteObject(AsPlainText ? SecureStrings.ToPlainText(secret.Value) : secret);
    });
}
