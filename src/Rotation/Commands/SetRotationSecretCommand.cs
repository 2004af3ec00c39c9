using System.Collections;
using System.Management.Automation;
using System.Security;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>
/// Writes a value to a store as Current or Pending: a generated secret (-Value), a rotation's credential shaped
/// for its consumer (-Credential -Shape), or a field map (-Fields). Writes nothing to the pipeline unless -PassThru.
/// </summary>
[Cmdlet(VerbsCommon.Set, "RotationSecret", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(RotationSecret))]
public sealed class SetRotationSecretCommand : RotationCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Uri { get; set; } = string.Empty;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SecureString? Value { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [CredentialTransformation]
    public PSCredential? Credential { get; set; }

    /// <summary>A field map (ConvertTo-JwtKeyLayout's output, or a hashtable) written as a JSON object.</summary>
    [Parameter(ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("InputObject")]
    public IDictionary? Fields { get; set; }

    [Parameter]
    public SecretShape? Shape { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Server { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 65535)]
    public int? Port { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Database { get; set; }

    // Not bound by property name: a piped RotationSecret's Stage says where it was read from, not where to write.
    [Parameter]
    [ValidateSet(nameof(SecretStage.Current), nameof(SecretStage.Pending))]
    public SecretStage Stage { get; set; } = SecretStage.Current;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? RunId { get; set; }

    // Not bound by property name: a Redis rotation's Endpoint (its nodes) must never become the store's endpoint.
    [Parameter]
    public string[]? Endpoint { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        var value = SecretShaper.Shape(Shape, new SecretShapeInput
        {
            Credential = Credential is null ? null : CredentialConvert.ToCore(Credential),
            Value = Value,
            Fields = Fields,
            Server = Server,
            Port = Port,
            Database = Database,
        }, Uri);
        var action = $"Write a value ({value.Fingerprint}) as {Stage}" + (RunId is null ? string.Empty : $" for run {RunId}");
        if (!ShouldProcess(Uri, action))
        {
            return;
        }
        var operations = new SecretOperations(Services, Endpoint, Uri);
        var written = Run(() => operations.SetAsync(Uri, value, Stage, RunId, Shape?.ToString(), cancellationToken: CancellationToken));
        if (PassThru)
        {
            WriteObject(written);
        }
    });
}
