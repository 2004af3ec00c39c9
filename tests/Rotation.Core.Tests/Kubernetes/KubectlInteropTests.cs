using System.Text.Json.Nodes;
using Rotation.Core.Kubernetes;

namespace Rotation.Core.Tests.Kubernetes;

/// <summary>
/// Holds the fake API server to the real protocol: the installed kubectl 1.32 must work against it, and the requests
/// Rotation sends for an operation must match what kubectl sends for the same operation.
/// </summary>
public sealed class KubectlInteropTests
{
    private static async Task<(int, string, string)> Ok(KubeTestKit kit, params string[] args)
    {
        var r = await kit.KubectlAsync(args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)} failed ({r.ExitCode}): {r.Stderr}");
        return r;
    }

    [Fact]
    public async Task Kubectl_get_reads_a_secret_from_the_fake()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddSecret("default", "db", new Dictionary<string, string> { ["password"] = "pw-1" });
        var (_, stdout, _) = await Ok(kit, "get", "secret", "db", "-o", "json");
        var obj = JsonNode.Parse(stdout)!;
        Assert.Equal("db", obj["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(Convert.ToBase64String("pw-1"u8.ToArray()), obj["data"]!["password"]!.GetValue<string>());
    }

    [Fact]
    public async Task Kubectl_apply_and_patch_write_secrets_the_fake_stores()
    {
        await using var kit = KubeTestKit.Start();
        var manifest = kit.Dir.File("s.yaml");
        await File.WriteAllTextAsync(manifest, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\n  namespace: default\nstringData:\n  token: t-1\n");
        await Ok(kit, "apply", "--validate=false", "-f", manifest);
        Assert.Equal("t-1", kit.Server.DecodedSecretValue("default", "api", "token"));

        await Ok(kit, "patch", "secret", "api", "--type=merge", "-p", "{\"stringData\":{\"token\":\"t-2\"}}");
        Assert.Equal("t-2", kit.Server.DecodedSecretValue("default", "api", "token"));

        await Ok(kit, "apply", "--server-side", "--validate=false", "-f", manifest);
        Assert.Equal("t-1", kit.Server.DecodedSecretValue("default", "api", "token"));
        Assert.Contains(kit.Server.Requests, r => r.Method == "PATCH" && r.ContentType == "application/apply-patch+yaml");
    }

    [Fact]
    public async Task Kubectl_rollout_restart_and_status_complete_against_the_fake()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddWorkload("Deployment", "default", "backend", 3, KubeTestKit.PodSpec(envSecret: "db"));
        var before = kit.Server.Get("deployments", "default", "backend")!["metadata"]!["generation"]!.GetValue<long>();

        await Ok(kit, "rollout", "restart", "deployment/backend");
        var after = kit.Server.Get("deployments", "default", "backend")!;
        Assert.Equal(before + 1, after["metadata"]!["generation"]!.GetValue<long>());
        Assert.NotNull(after["spec"]!["template"]!["metadata"]!["annotations"]![KubeOperations.RestartedAtAnnotation]);

        var (_, stdout, _) = await Ok(kit, "rollout", "status", "deployment/backend", "--timeout=30s");
        Assert.Contains("successfully rolled out", stdout, StringComparison.Ordinal);
        // rollout status = GET, LIST with fieldSelector, WATCH from the list's resourceVersion.
        Assert.Contains(kit.Server.Requests, r => r.Method == "GET" && r.Target.Contains("fieldSelector=metadata.name%3Dbackend", StringComparison.Ordinal) && r.Target.Contains("watch=true", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Kubectl_rollout_status_times_out_on_a_stalled_rollout()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddWorkload("Deployment", "default", "backend", 2, KubeTestKit.PodSpec());
        kit.Server.StalledWorkloads["default/backend"] = "CrashLoopBackOff";
        await Ok(kit, "rollout", "restart", "deployment/backend");
        var r = await kit.KubectlAsync("rollout", "status", "deployment/backend", "--timeout=2s");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("timed out", r.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Kubectl_works_over_https_with_a_bearer_token_and_the_fake_refuses_a_wrong_one()
    {
        await using var kit = KubeTestKit.Start(https: true, token: "good-token");
        kit.Server.AddSecret("default", "db", new Dictionary<string, string> { ["password"] = "x" });
        await Ok(kit, "get", "secret", "db", "-o", "name");
        Assert.Contains(kit.Server.Requests, r => r.Headers.GetValueOrDefault("Authorization") == "Bearer good-token");

        kit.Server.RequiredToken = "another-token";
        var r = await kit.KubectlAsync("get", "secret", "db", "-o", "name");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Unauthorized", r.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Kubectl_reports_forbidden_for_a_forbidden_namespace()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.ForbiddenNamespaces["prod"] = true;
        var r = await kit.KubectlAsync("get", "secret", "db", "-n", "prod");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("forbidden", r.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Rotation_restart_sends_the_request_kubectl_rollout_restart_sends()
    {
        // Two servers, so neither restart sees the other's annotation (a second restart in the same second
        // deliberately gets sub-second precision; see Two_restarts_within_one_second_both_start_a_rollout).
        await using var kit = KubeTestKit.Start();
        await using var ours = KubeTestKit.Start();
        kit.Server.AddWorkload("Deployment", "default", "backend", 1, KubeTestKit.PodSpec());
        ours.Server.AddWorkload("Deployment", "default", "backend", 1, KubeTestKit.PodSpec());

        kit.Server.ClearRequests();
        await Ok(kit, "rollout", "restart", "deployment/backend");
        var kubectlPatch = Assert.Single(kit.Server.Requests, r => r.Method == "PATCH");

        ours.Server.ClearRequests();
        using (var ops = ours.Operations())
        {
            var targets = await ops.ResolveWorkloadsAsync(null, "default", ["deployment/backend"], null, null);
            await ops.RestartAsync(Assert.Single(targets));
        }
        var oursPatch = Assert.Single(ours.Server.Requests, r => r.Method == "PATCH");

        Assert.Equal(kubectlPatch.Path, oursPatch.Path);
        Assert.Equal(kubectlPatch.ContentType, oursPatch.ContentType);
        Assert.Equal(Shape(JsonNode.Parse(kubectlPatch.Body)), Shape(JsonNode.Parse(oursPatch.Body)));
        // Both stamp the same annotation with an RFC 3339 UTC second-precision time.
        foreach (var r in new[] { kubectlPatch, oursPatch })
        {
            var stamp = JsonNode.Parse(r.Body)!["spec"]!["template"]!["metadata"]!["annotations"]![KubeOperations.RestartedAtAnnotation]!.GetValue<string>();
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$", stamp);
        }
        // Both name a field manager (kubectl-rollout vs rotation), so managedFields tell who restarted.
        Assert.Contains("fieldManager=kubectl-rollout", kubectlPatch.Target, StringComparison.Ordinal);
        Assert.Contains("fieldManager=rotation", oursPatch.Target, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rotation_wait_uses_the_list_then_watch_requests_kubectl_rollout_status_uses()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddWorkload("Deployment", "default", "backend", 2, KubeTestKit.PodSpec());
        await Ok(kit, "rollout", "restart", "deployment/backend");
        kit.Server.ClearRequests();
        await Ok(kit, "rollout", "status", "deployment/backend", "--timeout=30s");
        var kubectl = kit.Server.Requests.Where(r => r.Path.Contains("/deployments", StringComparison.Ordinal)).ToList();

        using var ops = kit.Operations();
        await ops.RestartAsync((await ops.ResolveWorkloadsAsync(null, "default", ["deployment/backend"], null, null))[0]);
        kit.Server.ClearRequests();
        var result = await ops.WaitRolloutAsync(null, "default", "deployment/backend", TimeSpan.FromSeconds(30));
        Assert.Equal(KubeRolloutStatus.Complete, result.Status);
        var ours = kit.Server.Requests.Where(r => r.Path.Contains("/deployments", StringComparison.Ordinal)).ToList();

        static bool IsList(RecordedRequest r) => r.Path.EndsWith("/deployments", StringComparison.Ordinal) && r.Target.Contains("fieldSelector=metadata.name%3Dbackend", StringComparison.Ordinal) && !r.Target.Contains("watch=", StringComparison.Ordinal);
        static bool IsWatch(RecordedRequest r) => r.Path.EndsWith("/deployments", StringComparison.Ordinal) && r.Target.Contains("fieldSelector=metadata.name%3Dbackend", StringComparison.Ordinal) && r.Target.Contains("watch=true", StringComparison.Ordinal);
        Assert.Contains(kubectl, IsList);
        Assert.Contains(ours, IsList);
        // kubectl only watches when the list is not already done; both watch with resourceVersion from the list.
        Assert.All(ours.Where(IsWatch), r => Assert.Contains("resourceVersion=", r.Target, StringComparison.Ordinal));
    }

    /// <summary>The structure of a JSON body with leaf values replaced by their kind, to compare shapes.</summary>
    private static string Shape(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + ":" + Shape(kv.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Shape)) + "]",
        JsonValue v => v.GetValueKind().ToString(),
        _ => "null",
    };
}
