using System.Management.Automation;
using System.Security;
using Rotation.Core.Errors;
using Rotation.Core.Kubernetes;
using Rotation.Core.Secrets;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>Reads a whole Kubernetes Secret (values as SecureString), or one key's value with -Key.</summary>
[Cmdlet(VerbsCommon.Get, "KubeSecret")]
[OutputType(typeof(KubeSecret), typeof(SecureString), typeof(string))]
public sealed class GetKubeSecretCommand : KubeCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = string.Empty;

    /// <summary>Return only this key's value.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Key { get; set; }

    [Parameter]
    public SwitchParameter AsPlainText { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        var secret = Run(() => Kube.GetSecretAsync(Context, Namespace, Name, AsPlainText, CancellationToken));
        if (Key is null)
        {
            WriteObject(secret);
            return;
        }
        if (!secret.Data.TryGetValue(Key, out var value))
        {
            throw Errors.NotFound(RotationErrorIds.SecretFieldNotFound, secret.Uri,
                $"The Secret '{secret.Namespace}/{secret.Name}' in context '{secret.Context}' has no key '{Key}'. Its keys are: {string.Join(", ", secret.Keys)}.");
        }
        WriteObject(AsPlainText ? secret.PlainData![Key] : value);
    });
}
