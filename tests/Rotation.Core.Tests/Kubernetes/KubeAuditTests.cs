using Rotation.Core.Audit;
using Rotation.Core.Errors;
using Rotation.Core.Kubernetes;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Kubernetes;

public sealed class KubeAuditTests
{
    private sealed class MemoryAudit : IAuditSink
    {
        public List<RotationAuditRecord> Records { get; } = [];

        public void Write(RotationAuditRecord record)
        {
            lock (Records)
            {
                Records.Add(record);
            }
        }
    }

    [Fact]
    public async Task Restarts_secret_writes_and_verified_rollouts_are_audited_with_fingerprints_never_values()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddWorkload("Deployment", "default", "api", 1, KubeTestKit.PodSpec());
        var audit = new MemoryAudit();
        using var ops = new KubeOperations(c => kit.Client(c ?? KubeTestKit.ContextName)) { Audit = audit, PerformedBy = "ci" };
        var value = Rotation.Core.Secrets.SecretGenerator.NewPassword();
        var written = await ops.SetSecretAsync(new KubeSecretWrite { Name = "db", Data = new Dictionary<string, byte[]> { ["password"] = System.Text.Encoding.UTF8.GetBytes(value) } });
        var restarted = await ops.RestartAsync((await ops.ResolveWorkloadsAsync(null, "default", ["deployment/api"], null, null))[0]);
        await ops.WaitRolloutAsync(null, "default", restarted.Workload, TimeSpan.FromSeconds(20));
        kit.Server.ForbiddenNamespaces["default"] = true;
        await Assert.ThrowsAsync<RotationException>(() => ops.SetSecretAsync(new KubeSecretWrite { Name = "db", Data = new Dictionary<string, byte[]> { ["password"] = "x"u8.ToArray() } }));

        Assert.Equal(["k8s.secret_written", "k8s.workload_restarted", "k8s.rollout_verified", "k8s.secret_written"], audit.Records.Select(r => r.Event));
        Assert.Equal(written.Fingerprint, audit.Records[0].Fingerprint);
        Assert.Equal("k8s://fake/default/deployment/api", audit.Records[1].Target);
        Assert.All(audit.Records.Take(3), r => Assert.True(r.Success));
        Assert.False(audit.Records[3].Success);
        Assert.StartsWith(RotationErrorIds.KubeForbidden, audit.Records[3].Error, StringComparison.Ordinal);
        Assert.All(audit.Records, r => Assert.Equal("ci", r.PerformedBy));
        LeakAssert.NoneOf([value], audit.Records.Select(r => ("audit", System.Text.Json.JsonSerializer.Serialize(r))));
    }
}
