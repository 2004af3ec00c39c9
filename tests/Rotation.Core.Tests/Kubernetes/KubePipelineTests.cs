using Rotation.Core.Errors;
using Rotation.Core.Kubernetes;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Kubernetes;

/// <summary>
/// Acceptance: rotate a value, publish it into a Kubernetes Secret through the store, restart every consumer, wait for
/// the rollouts, and find no stale pod at the end. Then the faults, each with a clear error and nothing half-written.
/// </summary>
public sealed class KubePipelineTests
{
    private sealed class CapturingLog : IRotationLog
    {
        public List<string> Lines { get; } = [];

        public void Verbose(string message) => Lines.Add(message);

        public void Warning(string message) => Lines.Add(message);
    }

    private static void Seed(KubeTestKit kit)
    {
        kit.Server.AddSecret("default", "postgresql-credentials", new Dictionary<string, string> { ["username"] = "backend", ["password"] = "old-password-value" });
        kit.Server.AddWorkload("Deployment", "default", "backend", 2, KubeTestKit.PodSpec(envSecret: "postgresql-credentials"));
        kit.Server.AddWorkload("StatefulSet", "default", "worker", 1, KubeTestKit.PodSpec(volumeSecret: "postgresql-credentials"));
        kit.Server.AddWorkload("Deployment", "default", "frontend", 1, KubeTestKit.PodSpec());
    }

    [Fact]
    public async Task Rotate_publish_restart_wait_and_no_stale_consumers_remain()
    {
        await using var kit = KubeTestKit.Start(https: true, token: "pipeline-token");
        Seed(kit);
        await Task.Delay(1100); // the seeded pods must be visibly older than the change (second precision)
        var log = new CapturingLog();
        var password = SecretGenerator.NewPassword();
        var uri = "k8s://fake/default/postgresql-credentials#password";
        var store = SecretStoreRegistry.CreateDefault().Open(uri, kit.StoreContext);

        // Publish as Pending (the lease), then promote: pods read the new value only from Complete on.
        var pending = await store.PutAsync(SecretValue.FromText(password), SecretStage.Pending, new SecretWriteOptions { RunId = "r-pipeline", ClientRequestToken = "tok-pipeline" });
        Assert.Equal("old-password-value", kit.Server.DecodedSecretValue("default", "postgresql-credentials", "password"));
        await store.CompleteAsync(pending.VersionId);
        Assert.Equal(password, kit.Server.DecodedSecretValue("default", "postgresql-credentials", "password"));
        Assert.Equal("backend", kit.Server.DecodedSecretValue("default", "postgresql-credentials", "username"));

        using var ops = new KubeOperations(ctx => kit.Client(ctx ?? KubeTestKit.ContextName)) { Log = log };
        var stale = await ops.GetConsumersAsync("fake", "default", "postgresql-credentials");
        Assert.Equal(3, stale.Count(c => c.Stale));

        var targets = await ops.ResolveWorkloadsAsync("fake", "default", null, null, "postgresql-credentials");
        Assert.Equal(["deployment/backend", "statefulset/worker"], targets.Select(t => t.Workload));
        var rollouts = new List<KubeRollout>();
        var once = new KubeRestartSet();
        foreach (var t in targets.Where(once.TryAdd))
        {
            var restarted = await ops.RestartAsync(t);
            rollouts.Add(await ops.WaitRolloutAsync(restarted.Context, restarted.Namespace, restarted.Workload, TimeSpan.FromSeconds(30)));
        }
        Assert.All(rollouts, r => Assert.Equal(KubeRolloutStatus.Complete, r.Status));
        Assert.Null(kit.Server.Get("deployments", "default", "frontend")!["spec"]!["template"]!["metadata"]!["annotations"]);

        var consumers = await ops.GetConsumersAsync("fake", "default", "postgresql-credentials");
        Assert.Equal(3, consumers.Count);
        Assert.DoesNotContain(consumers, c => c.Stale);
        Assert.All(kit.Server.List("pods", "default").Where(p => p["metadata"]!["labels"]!["app"]!.GetValue<string>() != "frontend"),
            p => Assert.Contains(p["metadata"]!["name"]!.GetValue<string>(), consumers.Select(c => c.Pod)));

        var secret = await ops.GetSecretAsync("fake", "default", "postgresql-credentials");
        LeakAssert.NoneOf([password], log.Lines.Select(l => ("log", l))
            .Concat(rollouts.Select(r => ("rollout", r.ToString() + r.Message)))
            .Concat(consumers.Select(c => ("consumer", c.ToString() + c.Reason)))
            .Concat([("secret", secret.ToString()), ("annotations", kit.Server.Get("secrets", "default", "postgresql-credentials")!["metadata"]!.ToJsonString())]));
    }

    [Fact]
    public async Task A_forbidden_namespace_stops_the_pipeline_before_anything_is_written_or_restarted()
    {
        await using var kit = KubeTestKit.Start();
        Seed(kit);
        kit.Server.ForbiddenNamespaces["default"] = true;
        var store = SecretStoreRegistry.CreateDefault().Open("k8s://fake/default/postgresql-credentials#password", kit.StoreContext);
        var ex = await Assert.ThrowsAsync<RotationException>(() => store.PutAsync(SecretValue.FromText(SecretGenerator.NewPassword()), SecretStage.Pending, new SecretWriteOptions { RunId = "r" }));
        Assert.Equal(RotationErrorIds.StoreAccessDenied, ex.ErrorId);
        Assert.Contains("Forbidden (403)", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(kit.Server.Requests, r => r.Method is "PUT" or "PATCH" or "POST");
    }

    [Fact]
    public async Task A_rollout_that_never_completes_is_reported_with_its_stuck_pods_and_the_secret_stays_consistent()
    {
        await using var kit = KubeTestKit.Start();
        Seed(kit);
        kit.Server.StalledWorkloads["default/backend"] = "ImagePullBackOff";
        var password = SecretGenerator.NewPassword();
        var store = SecretStoreRegistry.CreateDefault().Open("k8s://fake/default/postgresql-credentials#password", kit.StoreContext);
        await store.PutAsync(SecretValue.FromText(password), SecretStage.Current, new SecretWriteOptions { RunId = "r" });
        using var ops = kit.Operations();
        var t = (await ops.ResolveWorkloadsAsync(null, "default", ["deployment/backend"], null, null))[0];
        await ops.RestartAsync(t);
        var r = await ops.WaitRolloutAsync(null, "default", t.Workload, TimeSpan.FromSeconds(1));
        var ex = KubeOperations.RolloutError(r, TimeSpan.FromSeconds(1));
        Assert.Equal(RotationErrorIds.RolloutTimedOut, ex.ErrorId);
        Assert.Contains("ImagePullBackOff", ex.Message, StringComparison.Ordinal);
        LeakAssert.NoneOf([password], [("error", ex.Message)]);
        // Current and Previous are both intact: Undo can put the old value back for the old pods.
        Assert.Equal("old-password-value", (await store.GetAsync(SecretStage.Previous)).Value.Text);
        Assert.Equal(password, (await store.GetAsync(SecretStage.Current)).Value.Text);
    }

    [Fact]
    public async Task Whole_secret_set_honours_the_expected_resourceVersion_and_the_rotation_lease()
    {
        await using var kit = KubeTestKit.Start();
        using var ops = kit.Operations();
        var created = await ops.SetSecretAsync(new KubeSecretWrite
        {
            Name = "api",
            Data = new Dictionary<string, byte[]> { ["a"] = "1"u8.ToArray() },
            StringData = new Dictionary<string, string> { ["b"] = "2" },
        });
        Assert.Equal(["a", "b"], created.Keys);
        Assert.Equal("2", kit.Server.DecodedSecretValue("default", "api", "b"));

        var merged = await ops.SetSecretAsync(new KubeSecretWrite { Name = "api", Data = new Dictionary<string, byte[]> { ["c"] = "3"u8.ToArray() }, Merge = true, ExpectedResourceVersion = created.ResourceVersion });
        Assert.Equal(["a", "b", "c"], merged.Keys);

        var stale = await Assert.ThrowsAsync<RotationException>(() => ops.SetSecretAsync(new KubeSecretWrite { Name = "api", Data = new Dictionary<string, byte[]> { ["a"] = "x"u8.ToArray() }, ExpectedResourceVersion = created.ResourceVersion }));
        Assert.Equal(RotationErrorIds.KubeConflict, stale.ErrorId);
        Assert.Equal("1", kit.Server.DecodedSecretValue("default", "api", "a"));

        var replaced = await ops.SetSecretAsync(new KubeSecretWrite { Name = "api", Data = new Dictionary<string, byte[]> { ["only"] = "x"u8.ToArray() } });
        Assert.Equal(["only"], replaced.Keys);

        await SecretStoreRegistry.CreateDefault().Open("k8s://fake/default/api#only", kit.StoreContext)
            .PutAsync(SecretValue.FromText("y"), SecretStage.Pending, new SecretWriteOptions { RunId = "r-lease" });
        var leased = await Assert.ThrowsAsync<RotationException>(() => ops.SetSecretAsync(new KubeSecretWrite { Name = "api", Data = new Dictionary<string, byte[]> { ["only"] = "z"u8.ToArray() } }));
        Assert.Equal(RotationErrorIds.RotationInProgress, leased.ErrorId);
        Assert.Contains("r-lease", leased.Message, StringComparison.Ordinal);

        var read = await ops.GetSecretAsync(null, "default", "api", asPlainText: true);
        Assert.Equal("x", read.PlainData!["only"]);
        Assert.Equal("r-lease", read.PendingRunId);
        Assert.Equal(["only"], read.Keys);
        Assert.Null((await ops.GetSecretAsync(null, "default", "api")).PlainData);
    }
}
