using Rotation.Core.Errors;
using Rotation.Core.Kubernetes;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

namespace Rotation.Core.Tests.Kubernetes;

public sealed class KubeConsumerAndSyncTests
{
    [Fact]
    public async Task Consumers_are_stale_after_the_secret_changes_and_current_after_a_restart()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddSecret("default", "db", new Dictionary<string, string> { ["password"] = "old" });
        kit.Server.AddWorkload("Deployment", "default", "api", 2, KubeTestKit.PodSpec(envSecret: "db"));
        kit.Server.AddWorkload("Deployment", "default", "other", 1, KubeTestKit.PodSpec(volumeSecret: "elsewhere"));
        using var ops = kit.Operations();
        await Task.Delay(1100); // pod start times have second precision
        await SecretStoreRegistry.CreateDefault().Open("k8s://fake/default/db#password", kit.StoreContext)
            .PutAsync(SecretValue.FromText("new"), SecretStage.Current, new SecretWriteOptions { RunId = "r" });

        var before = await ops.GetConsumersAsync(null, "default", "db");
        Assert.Equal(2, before.Count);
        Assert.All(before, c =>
        {
            Assert.Equal("deployment/api", c.Workload);
            Assert.True(c.Stale);
            Assert.Equal(["env"], c.ConsumedVia);
            Assert.Contains("environment variables", c.Reason!, StringComparison.Ordinal);
        });

        await ops.RestartAsync((await ops.ResolveWorkloadsAsync(null, "default", ["deployment/api"], null, null))[0]);
        Assert.Equal(KubeRolloutStatus.Complete, (await ops.WaitRolloutAsync(null, "default", "deployment/api", TimeSpan.FromSeconds(20))).Status);
        var after = await ops.GetConsumersAsync(null, "default", "db");
        Assert.Equal(2, after.Count);
        Assert.All(after, c => Assert.False(c.Stale));
    }

    [Fact]
    public async Task A_workload_without_pods_is_listed_once_without_a_pod()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddSecret("default", "db", new Dictionary<string, string> { ["password"] = "x" });
        kit.Server.AddWorkload("Deployment", "default", "idle", 0, KubeTestKit.PodSpec(volumeSecret: "db"));
        using var ops = kit.Operations();
        var c = Assert.Single(await ops.GetConsumersAsync(null, "default", "db"));
        Assert.Null(c.Pod);
        Assert.False(c.Stale);
    }

    [Fact]
    public async Task Consumers_of_a_missing_secret_is_KubeObjectNotFound()
    {
        await using var kit = KubeTestKit.Start();
        using var ops = kit.Operations();
        var ex = await Assert.ThrowsAsync<RotationException>(() => ops.GetConsumersAsync(null, "default", "nope"));
        Assert.Equal(RotationErrorIds.KubeObjectNotFound, ex.ErrorId);
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("v1beta1")]
    public async Task Sync_sets_force_sync_and_waits_for_a_refresh_after_the_request(string version)
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddExternalSecret("apps", "database-credentials", version);
        using var ops = kit.Operations();
        var target = Assert.Single(await ops.ResolveExternalSecretsAsync(null, "apps", "database-credentials"));
        var sync = await ops.SyncExternalSecretAsync(target, TimeSpan.FromSeconds(10));
        Assert.Equal(KubeExternalSecretSyncStatus.Synced, sync.Status);
        Assert.True(sync.Ready);
        Assert.True(sync.RefreshTime >= sync.RequestedAt!.Value.AddSeconds(-1));
        var patch = Assert.Single(kit.Server.Requests, r => r.Method == "PATCH");
        Assert.Equal("application/merge-patch+json", patch.ContentType);
        Assert.Contains("\"force-sync\"", patch.Body, StringComparison.Ordinal);
        Assert.StartsWith("/apis/external-secrets.io/v1/", patch.Path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_all_covers_every_external_secret_in_the_namespace()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddExternalSecret("apps", "a");
        kit.Server.AddExternalSecret("apps", "b");
        kit.Server.AddExternalSecret("other", "c");
        using var ops = kit.Operations();
        var targets = await ops.ResolveExternalSecretsAsync(null, "apps", null);
        Assert.Equal(["a", "b"], targets.Select(t => t.Name));
        foreach (var t in targets)
        {
            Assert.Equal(KubeExternalSecretSyncStatus.Requested, (await ops.SyncExternalSecretAsync(t, null)).Status);
        }
        Assert.Equal(2, kit.Server.Requests.Count(r => r.Method == "PATCH"));
    }

    [Fact]
    public async Task A_sync_that_never_refreshes_is_ExternalSecretSyncTimedOut()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddExternalSecret("apps", "stuck");
        kit.Server.StuckExternalSecrets["apps/stuck"] = true;
        using var ops = kit.Operations();
        var t = Assert.Single(await ops.ResolveExternalSecretsAsync(null, "apps", "stuck"));
        var ex = await Assert.ThrowsAsync<RotationException>(() => ops.SyncExternalSecretAsync(t, TimeSpan.FromSeconds(1)));
        Assert.Equal(RotationErrorIds.ExternalSecretSyncTimedOut, ex.ErrorId);
        Assert.Contains("externalsecret/stuck", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sync_the_operator_reports_as_failed_fails_with_its_message()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddExternalSecret("apps", "broken");
        kit.Server.FailingExternalSecrets["apps/broken"] = true;
        using var ops = kit.Operations();
        var t = Assert.Single(await ops.ResolveExternalSecretsAsync(null, "apps", "broken"));
        var ex = await Assert.ThrowsAsync<RotationException>(() => ops.SyncExternalSecretAsync(t, TimeSpan.FromSeconds(10)));
        Assert.Equal(RotationErrorIds.ExternalSecretSyncFailed, ex.ErrorId);
        Assert.Contains("could not get secret data from provider", ex.Message, StringComparison.Ordinal);
    }
}
