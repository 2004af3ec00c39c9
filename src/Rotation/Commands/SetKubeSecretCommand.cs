using System.Collections;
using System.Management.Automation;
using Rotation.Core.Kubernetes;
using Rotation.Infrastructure;

namespace Rotation.Commands;

/// <summary>
/// Creates or replaces a whole Kubernetes Secret from -Data (sent base64 in data) and -StringData (sent as stringData).
/// -ResourceVersion (bound from Get-KubeSecret output) makes the write conditional: it fails if anyone changed the
/// Secret since. Refuses while a rotation holds a Pending lease on the Secret.
/// </summary>
[Cmdlet(VerbsCommon.Set, "KubeSecret", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KubeSecret))]
public sealed class SetKubeSecretCommand : KubeCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = string.Empty;

    /// <summary>Keys and values (SecureString, string or byte[]), stored base64-encoded in data.</summary>
    [Parameter(Position = 1)]
    public Hashtable? Data { get; set; }

    /// <summary>Keys and plain strings sent as stringData; the API server encodes them.</summary>
    [Parameter]
    public Hashtable? StringData { get; set; }

    /// <summary>The Secret type when creating it (Opaque by default).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Type { get; set; }

    /// <summary>Write only if the Secret is still at this resourceVersion (optimistic concurrency).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ResourceVersion { get; set; }

    /// <summary>Keep the keys not named here (otherwise they are removed).</summary>
    [Parameter]
    public SwitchParameter Merge { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => ForItem(() =>
    {
        var write = new KubeSecretWrite
        {
            Context = Context,
            Namespace = Namespace,
            Name = Name,
            Data = Data?.Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => KubeOperations.ToSecretBytes(Unwrap(e.Value), e.Key.ToString()!), StringComparer.Ordinal),
            StringData = StringData?.Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => Unwrap(e.Value)?.ToString() ?? string.Empty, StringComparer.Ordinal),
            Type = Type,
            ExpectedResourceVersion = ResourceVersion,
            Merge = Merge,
        };
        var keys = string.Join(", ", (write.Data?.Keys ?? []).Concat(write.StringData?.Keys ?? []));
        if (!ShouldProcess($"secret '{Namespace ?? "(context namespace)"}/{Name}' in context '{Context ?? "(current)"}'", $"{(Merge ? "Set keys" : "Replace the keys with")} {keys}"))
        {
            return;
        }
        var secret = Run(() => Kube.SetSecretAsync(write, CancellationToken));
        if (PassThru)
        {
            WriteObject(secret);
        }
    });
}
