using System.Text.Json.Nodes;
using Rotation.Core.Errors;
using Rotation.Core.Kubernetes;

namespace Rotation.Core.Tests.Kubernetes;

public sealed class KubeRolloutTests
{
    [Fact]
    public async Task Restart_then_wait_completes_for_each_workload_kind()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddWorkload("Deployment", "default", "backend", 3, KubeTestKit.PodSpec());
        kit.Server.AddWorkload("StatefulSet", "default", "db", 2, KubeTestKit.PodSpec());
        kit.Server.AddWorkload("DaemonSet", "default", "agent", 0, KubeTestKit.PodSpec());
        using var ops = kit.Operations();
        var targets = await ops.ResolveWorkloadsAsync(null, "default", ["deployment/backend", "sts/db", "daemonset/agent"], null, null);
        Assert.Equal(["deployment/backend", "statefulset/db", "daemonset/agent"], targets.Select(t => t.Workload));
        foreach (var t in targets)
        {
            var restarted = await ops.RestartAsync(t);
            Assert.Equal(KubeRolloutStatus.Restarted, restarted.Status);
            Assert.Equal("fake", restarted.Context);
            Assert.NotNull(restarted.RestartedAt);
            var done = await ops.WaitRolloutAsync(restarted.Context, restarted.Namespace, restarted.Workload, TimeSpan.FromSeconds(20));
            Assert.Equal(KubeRolloutStatus.Complete, done.Status);
            Assert.True(done.ObservedGeneration >= done.Generation);
            Assert.Matches("successfully rolled out|rolling update complete", done.Message!);
        }
    }

    [Fact]
    public async Task A_stalled_rollout_times_out_naming_the_stuck_pods_and_why()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddWorkload("Deployment", "default", "backend", 2, KubeTestKit.PodSpec());
        kit.Server.StalledWorkloads["default/backend"] = "CrashLoopBackOff";
        using var ops = kit.Operations();
        await ops.RestartAsync((await ops.ResolveWorkloadsAsync(null, "default", ["deployment/backend"], null, null))[0]);
        var r = await ops.WaitRolloutAsync(null, "default", "deployment/backend", TimeSpan.FromSeconds(1.5));
        Assert.Equal(KubeRolloutStatus.TimedOut, r.Status);
        var stuck = Assert.Single(r.StuckPods);
        Assert.Equal("CrashLoopBackOff", stuck.Reason);
        Assert.Equal(7, stuck.RestartCount);
        var ex = KubeOperations.RolloutError(r, TimeSpan.FromSeconds(1.5));
        Assert.Equal(RotationErrorIds.RolloutTimedOut, ex.ErrorId);
        Assert.Contains(stuck.Name, ex.Message, StringComparison.Ordinal);
        Assert.Contains("CrashLoopBackOff", ex.Message, StringComparison.Ordinal);
        Assert.Contains("deployment/backend", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_watch_answered_410_Gone_is_relisted_and_the_wait_still_completes()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddWorkload("Deployment", "default", "backend", 2, KubeTestKit.PodSpec());
        kit.Server.WatchesToExpire = 1;
        using var ops = kit.Operations();
        await ops.RestartAsync((await ops.ResolveWorkloadsAsync(null, "default", ["deployment/backend"], null, null))[0]);
        var r = await ops.WaitRolloutAsync(null, "default", "deployment/backend", TimeSpan.FromSeconds(20));
        Assert.Equal(KubeRolloutStatus.Complete, r.Status);
        var lists = kit.Server.Requests.Count(q => q.Path.EndsWith("/deployments", StringComparison.Ordinal) && !q.Target.Contains("watch=", StringComparison.Ordinal));
        Assert.True(lists >= 2, $"expected a re-list after 410, saw {lists} lists");
    }

    [Fact]
    public async Task A_progress_deadline_ends_the_wait_at_once_as_RolloutFailed()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddWorkload("Deployment", "default", "backend", 2, KubeTestKit.PodSpec());
        kit.Server.StalledWorkloads["default/backend"] = "ErrImagePull";
        using var ops = kit.Operations();
        await ops.RestartAsync((await ops.ResolveWorkloadsAsync(null, "default", ["deployment/backend"], null, null))[0]);
        await Task.Delay(500);
        kit.Server.Mutate("deployments", "default", "backend", o => o["status"]!["conditions"] = new JsonArray(new JsonObject
        {
            ["type"] = "Progressing", ["status"] = "False", ["reason"] = "ProgressDeadlineExceeded",
        }));
        var started = DateTime.UtcNow;
        var r = await ops.WaitRolloutAsync(null, "default", "deployment/backend", TimeSpan.FromSeconds(30));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
        Assert.Equal(KubeRolloutStatus.Failed, r.Status);
        Assert.Equal("ErrImagePull", Assert.Single(r.StuckPods).Reason);
        Assert.Equal(RotationErrorIds.RolloutFailed, KubeOperations.RolloutError(r, TimeSpan.FromSeconds(30)).ErrorId);
    }

    [Fact]
    public async Task All_restarts_every_workload_reading_the_secret_once()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddWorkload("Deployment", "default", "by-volume", 1, KubeTestKit.PodSpec(volumeSecret: "db"));
        kit.Server.AddWorkload("Deployment", "default", "by-env", 1, KubeTestKit.PodSpec(envSecret: "db"));
        kit.Server.AddWorkload("StatefulSet", "default", "by-envfrom", 1, KubeTestKit.PodSpec(envFromSecret: "db"));
        kit.Server.AddWorkload("DaemonSet", "default", "by-projected", 0, KubeTestKit.PodSpec(projectedSecret: "db"));
        kit.Server.AddWorkload("Deployment", "default", "unrelated", 1, KubeTestKit.PodSpec(volumeSecret: "other"));
        using var ops = kit.Operations();
        var targets = await ops.ResolveWorkloadsAsync(null, "default", ["deployment/by-env"], null, "db");
        Assert.Equal(["deployment/by-env", "deployment/by-volume", "statefulset/by-envfrom", "daemonset/by-projected"], targets.Select(t => t.Workload));
        Assert.Equal(["volume"], targets.Single(t => t.Name == "by-volume").ConsumedVia);
        Assert.Equal(["projected"], targets.Single(t => t.Name == "by-projected").ConsumedVia);

        var set = new KubeRestartSet();
        foreach (var t in targets.Concat(targets))
        {
            if (set.TryAdd(t))
            {
                await ops.RestartAsync(t);
            }
        }
        Assert.Equal(4, kit.Server.Requests.Count(r => r.Method == "PATCH"));
        Assert.Null(kit.Server.Get("deployments", "default", "unrelated")!["spec"]!["template"]!["metadata"]!["annotations"]);
    }

    [Fact]
    public async Task Two_restarts_within_one_second_both_start_a_rollout()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddWorkload("Deployment", "default", "api", 1, KubeTestKit.PodSpec());
        using var ops = kit.Operations();
        var t = (await ops.ResolveWorkloadsAsync(null, "default", ["deployment/api"], null, null))[0];
        // Two rotations of one secret in one second: with kubectl's second precision the second restart would be
        // a no-op, and pods started by the first could hold the value the second replaced.
        var first = await ops.RestartAsync(t);
        var second = await ops.RestartAsync(t);
        if (first.RestartedAt!.Value.ToUnixTimeSeconds() == second.RestartedAt!.Value.ToUnixTimeSeconds())
        {
            Assert.Equal(first.Generation + 1, second.Generation);
        }
        Assert.True(second.Generation > 1);
        Assert.Equal(KubeRolloutStatus.Complete, (await ops.WaitRolloutAsync(null, "default", "deployment/api", TimeSpan.FromSeconds(20))).Status);
    }

    [Fact]
    public async Task A_label_selector_picks_the_matching_workloads()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddWorkload("Deployment", "default", "a", 1, KubeTestKit.PodSpec());
        kit.Server.AddWorkload("Deployment", "default", "b", 1, KubeTestKit.PodSpec());
        using var ops = kit.Operations();
        var targets = await ops.ResolveWorkloadsAsync(null, "default", null, "app=b", null);
        Assert.Equal(["deployment/b"], targets.Select(t => t.Workload));
    }

    [Fact]
    public async Task Bad_workload_references_fail_before_anything_is_restarted()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddWorkload("Deployment", "default", "a", 1, KubeTestKit.PodSpec());
        using var ops = kit.Operations();
        var kind = await Assert.ThrowsAsync<RotationException>(() => ops.ResolveWorkloadsAsync(null, "default", ["deployment/a", "cronjob/x"], null, null));
        Assert.Equal(RotationErrorIds.KubeWorkloadInvalid, kind.ErrorId);
        var missing = await Assert.ThrowsAsync<RotationException>(() => ops.ResolveWorkloadsAsync(null, "default", ["deployment/a", "deployment/nope"], null, null));
        Assert.Equal(RotationErrorIds.KubeObjectNotFound, missing.ErrorId);
        Assert.DoesNotContain(kit.Server.Requests, r => r.Method == "PATCH");
    }

    [Fact]
    public async Task A_paused_deployment_is_refused_like_kubectl_does()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddWorkload("Deployment", "default", "p", 1, KubeTestKit.PodSpec());
        kit.Server.Mutate("deployments", "default", "p", o => o["spec"]!["paused"] = true);
        using var ops = kit.Operations();
        var t = (await ops.ResolveWorkloadsAsync(null, "default", ["deployment/p"], null, null))[0];
        var ex = await Assert.ThrowsAsync<RotationException>(() => ops.RestartAsync(t));
        Assert.Equal(RotationErrorIds.KubeWorkloadInvalid, ex.ErrorId);
        Assert.Contains("rollout resume", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Waiting_on_a_deleted_workload_is_KubeObjectNotFound()
    {
        await using var kit = KubeTestKit.Start();
        using var ops = kit.Operations();
        var ex = await Assert.ThrowsAsync<RotationException>(() => ops.WaitRolloutAsync(null, "default", "deployment/ghost", TimeSpan.FromSeconds(2)));
        Assert.Equal(RotationErrorIds.KubeObjectNotFound, ex.ErrorId);
    }

    private static JsonObject Deployment(long generation, long observed, int desired, int replicas, int updated, int available, string? reason = null)
    {
        var d = new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "d", ["generation"] = generation },
            ["spec"] = new JsonObject { ["replicas"] = desired },
            ["status"] = new JsonObject { ["observedGeneration"] = observed, ["replicas"] = replicas, ["updatedReplicas"] = updated, ["availableReplicas"] = available },
        };
        if (reason is not null)
        {
            d["status"]!["conditions"] = new JsonArray(new JsonObject { ["type"] = "Progressing", ["status"] = "False", ["reason"] = reason });
        }
        return (JsonObject)JsonNode.Parse(d.ToJsonString())!;
    }

    [Theory]
    [InlineData(2, 1, 3, 3, 3, 3, false, "spec update to be observed")]
    [InlineData(2, 2, 3, 3, 2, 3, false, "2 out of 3 new replicas")]
    [InlineData(2, 2, 3, 4, 3, 3, false, "1 old replicas are pending termination")]
    [InlineData(2, 2, 3, 3, 3, 2, false, "2 of 3 updated replicas are available")]
    [InlineData(2, 3, 3, 3, 3, 3, true, "successfully rolled out")]
    public void Deployment_rollout_rules_follow_kubectl(long gen, long observed, int desired, int replicas, int updated, int available, bool done, string message)
    {
        var s = KubeRolloutEvaluator.Evaluate(KubeResourceType.Deployments, Deployment(gen, observed, desired, replicas, updated, available));
        Assert.Equal(done, s.Done);
        Assert.Contains(message, s.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Progress_deadline_exceeded_is_a_failure_not_a_wait()
    {
        var s = KubeRolloutEvaluator.Evaluate(KubeResourceType.Deployments, Deployment(2, 2, 3, 3, 1, 2, "ProgressDeadlineExceeded"));
        Assert.True(s.Failed);
        Assert.False(s.Done);
    }

    [Fact]
    public void Pod_problems_name_waiting_terminated_unschedulable_and_not_ready()
    {
        static JsonObject Pod(string statusJson) => (JsonObject)JsonNode.Parse($"{{\"metadata\":{{\"name\":\"p\"}},\"status\":{statusJson}}}")!;
        Assert.Equal("ImagePullBackOff", KubeRolloutEvaluator.Problem(Pod("""{"phase":"Pending","containerStatuses":[{"name":"app","ready":false,"state":{"waiting":{"reason":"ImagePullBackOff","message":"Back-off pulling image"}}}]}"""))!.Reason);
        Assert.Equal("OOMKilled", KubeRolloutEvaluator.Problem(Pod("""{"phase":"Running","containerStatuses":[{"name":"app","ready":false,"state":{"terminated":{"reason":"OOMKilled"}}}]}"""))!.Reason);
        Assert.Equal("Unschedulable", KubeRolloutEvaluator.Problem(Pod("""{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"Unschedulable","message":"0/3 nodes are available"}]}"""))!.Reason);
        Assert.Equal("NotReady", KubeRolloutEvaluator.Problem(Pod("""{"phase":"Running","conditions":[{"type":"Ready","status":"False"}],"containerStatuses":[{"name":"app","ready":false,"state":{"running":{}}}]}"""))!.Reason);
        Assert.Null(KubeRolloutEvaluator.Problem(Pod("""{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}""")));
    }

    [Fact]
    public void StatefulSet_and_DaemonSet_rules_follow_kubectl()
    {
        var sts = (JsonObject)JsonNode.Parse("""{"metadata":{"name":"s","generation":2},"spec":{"replicas":2},"status":{"observedGeneration":2,"readyReplicas":2,"updatedReplicas":2,"currentRevision":"a","updateRevision":"b"}}""")!;
        Assert.False(KubeRolloutEvaluator.Evaluate(KubeResourceType.StatefulSets, sts).Done);
        sts["status"]!["currentRevision"] = "b";
        Assert.True(KubeRolloutEvaluator.Evaluate(KubeResourceType.StatefulSets, (JsonObject)JsonNode.Parse(sts.ToJsonString())!).Done);
        var ds = (JsonObject)JsonNode.Parse("""{"metadata":{"name":"d","generation":3},"status":{"observedGeneration":3,"desiredNumberScheduled":3,"updatedNumberScheduled":3,"numberAvailable":2}}""")!;
        Assert.Contains("2 of 3 updated pods are available", KubeRolloutEvaluator.Evaluate(KubeResourceType.DaemonSets, ds).Message, StringComparison.Ordinal);
    }
}
