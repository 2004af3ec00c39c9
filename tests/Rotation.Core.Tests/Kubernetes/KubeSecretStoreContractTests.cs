using Rotation.Core.Kubernetes;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Stores;

namespace Rotation.Core.Tests.Kubernetes;

/// <summary>The shared store contract against k8s:// on the fake API server (one server per test).</summary>
public sealed class KubeSecretStoreContractTests : SecretStoreContractTests, IAsyncDisposable
{
    private readonly KubeTestKit _kit = KubeTestKit.Start();

    protected override SecretStoreUri NewSecretUri() => SecretStoreUri.Parse($"k8s://{KubeTestKit.ContextName}/default/s-{Guid.NewGuid():N}");

    protected override ISecretStore Open(SecretStoreUri uri) => new KubeSecretStore(uri, _kit.Client(), ownsClient: true);

    /// <summary>Values legitimately sit in the Secret's data; its metadata (annotations, labels) must never hold one.</summary>
    protected override IEnumerable<(string Name, string Text)> CapturedByBackend() =>
        _kit.Server.List("secrets", "default").Select(s => ("secret metadata", s["metadata"]!.ToJsonString()));

    public ValueTask DisposeAsync() => _kit.DisposeAsync();
}
