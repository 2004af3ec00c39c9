using System.Management.Automation;
using Rotation.Core.Kubernetes;

namespace Rotation.Infrastructure;

/// <summary>
/// The Kube cmdlets' shared parameters (-Context, -Namespace: DESIGN section 1) and their one core entry point,
/// <see cref="KubeOperations"/>, opened once per call so each context's client and credentials are reused.
/// </summary>
public abstract class KubeCmdlet : RotationCmdlet
{
    private KubeOperations? _kube;

    /// <summary>The kubeconfig context; the current context when left out.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Context { get; set; }

    /// <summary>The namespace; the context's namespace when left out.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Namespace { get; set; }

    protected KubeOperations Kube => _kube ??= KubeOperations.Create(Services.StoreContext, Services.Log, Services.Audit, Services.PerformedBy);

    protected override void EndProcessing()
    {
        _kube?.Dispose();
        base.EndProcessing();
    }

    /// <summary>Hashtable values may arrive wrapped in PSObject; the core takes the plain .NET value.</summary>
    protected static object? Unwrap(object? value) => value is PSObject pso ? pso.BaseObject : value;
}
