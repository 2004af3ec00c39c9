using System.Text.Json;
using Rotation.Core.Audit;
using Rotation.Core.Errors;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Stores;

public sealed class SecretOperationsTests : IDisposable
{
    private readonly TempDirectory _dir = TestEnvironment.NewTempDirectory();
    private readonly RecordingAudit _audit = new();

    public void Dispose() => _dir.Dispose();

    private SecretOperations Ops(IAuditSink? audit = null) => new(new RotationServices
    {
        Stores = SecretStoreRegistry.CreateDefault(),
        StoreContext = StoreContext.Default,
        Journal = new NoJournal(),
        Audit = audit ?? _audit,
        PerformedBy = "tester",
    });

    private string Uri(string name = "api-key") => $"file://{_dir.File("s.json")}#{name}";

    [Fact]
    public async Task Set_complete_and_undo_each_leave_one_audit_record_without_the_value()
    {
        var ops = Ops();
        var uri = Uri();
        var v1 = SecretGenerator.NewPassword(30);
        var v2 = SecretGenerator.NewPassword(30);
        var first = await ops.SetAsync(uri, SecretValue.FromText(v1), SecretStage.Current);
        var pending = await ops.SetAsync(uri, SecretValue.FromText(v2), SecretStage.Pending, runId: "r-ops-1");
        var completed = await ops.CompleteAsync(uri, pending.VersionId);
        var undone = await ops.UndoAsync(uri);

        Assert.Equal(SecretStage.Pending, pending.Stage);
        Assert.Equal("r-ops-1", pending.RunId);
        Assert.Equal(pending.VersionId, completed.VersionId);
        Assert.Equal(first.VersionId, undone.VersionId);
        Assert.Equal(Fingerprint.Of(v1), undone.Fingerprint);
        Assert.Equal("api-key", undone.Name);
        Assert.Equal(uri, undone.Uri);

        Assert.Equal([SecretOperations.SetEvent, SecretOperations.SetEvent, SecretOperations.CompletedEvent, SecretOperations.UndoneEvent], _audit.Records.Select(r => r.Event));
        Assert.All(_audit.Records, r =>
        {
            Assert.Equal(uri, r.Target);
            Assert.True(r.Success);
            Assert.Equal("tester", r.PerformedBy);
            Assert.NotNull(r.Fingerprint);
        });
        Assert.Equal(Fingerprint.Of(v2), _audit.Records[1].Fingerprint);
        Assert.Equal("r-ops-1", _audit.Records[1].RunId);
        Assert.Equal(Fingerprint.Of(v2), _audit.Records[2].Fingerprint);
        Assert.Equal(AuditReason.Rollback, _audit.Records[3].Reason);
        LeakAssert.NoneOf([v1, v2], _audit.Records.Select(r => ("audit", JsonSerializer.Serialize(r)))
            .Concat([("outputs", $"{first} {pending} {completed} {undone}")]));
    }

    [Fact]
    public async Task A_refused_change_is_audited_as_a_failure_and_rethrown()
    {
        var ops = Ops();
        var uri = Uri();
        await ops.SetAsync(uri, SecretValue.FromText("current-value-1"), SecretStage.Current);
        await ops.SetAsync(uri, SecretValue.FromText("pending-value-1"), SecretStage.Pending, runId: "r-holder");
        var ex = await Assert.ThrowsAsync<RotationException>(() => ops.SetAsync(uri, SecretValue.FromText("intruder-value-1"), SecretStage.Pending, runId: "r-other"));
        Assert.Equal(RotationErrorIds.RotationInProgress, ex.ErrorId);
        var failed = _audit.Records.Last();
        Assert.False(failed.Success);
        Assert.Equal(SecretOperations.SetEvent, failed.Event);
        Assert.StartsWith(RotationErrorIds.RotationInProgress, failed.Error);
        Assert.Equal(Fingerprint.Of("intruder-value-1"), failed.Fingerprint);
        Assert.Equal("r-other", failed.RunId);
        LeakAssert.NoneOf(["intruder-value-1", "pending-value-1", "current-value-1"], [("audit", JsonSerializer.Serialize(failed))]);
    }

    [Fact]
    public async Task Get_reads_a_stage_and_writes_no_audit_record()
    {
        var ops = Ops();
        var uri = Uri();
        await ops.SetAsync(uri, SecretValue.FromText("value-to-read-1"), SecretStage.Current);
        var read = await ops.GetAsync(uri, SecretStage.Current);
        Assert.Equal("value-to-read-1", SecureStrings.ToPlainText(read.Value));
        Assert.Equal(SecretStage.Current, read.Stage);
        Assert.Single(_audit.Records);
        var missing = await Assert.ThrowsAsync<RotationException>(() => ops.GetAsync(uri, SecretStage.Previous));
        Assert.Equal(RotationErrorIds.SecretStageNotFound, missing.ErrorId);
    }

    [Fact]
    public async Task A_field_URI_reads_and_writes_one_field()
    {
        var ops = Ops();
        var uri = Uri("db");
        await ops.SetAsync(uri, SecretShaper.UserPassword(RotationCredential.FromPlainText("app", "first-pw-1")), SecretStage.Current);
        var written = await ops.SetAsync(uri + "#password", SecretValue.FromText("second-pw-2"), SecretStage.Current);
        Assert.Equal("db#password", written.Name);
        var whole = (await ops.GetAsync(uri, SecretStage.Current)).Value;
        using var doc = JsonDocument.Parse(SecureStrings.ToPlainText(whole));
        Assert.Equal("app", doc.RootElement.GetProperty("username").GetString());
        Assert.Equal("second-pw-2", doc.RootElement.GetProperty("password").GetString());
    }

    [Fact]
    public async Task An_audit_sink_that_fails_makes_the_operation_fail()
    {
        var ops = Ops(new FailingAudit());
        var ex = await Assert.ThrowsAsync<RotationException>(() => ops.SetAsync(Uri(), SecretValue.FromText("value-unaudited"), SecretStage.Current));
        Assert.Equal(RotationErrorIds.AuditWriteFailed, ex.ErrorId);
    }

    [Fact]
    public async Task An_unknown_scheme_is_refused_before_anything_is_audited()
    {
        var ex = await Assert.ThrowsAsync<RotationException>(() => Ops().SetAsync("s3://bucket/key", SecretValue.FromText("v-123456"), SecretStage.Current));
        Assert.Equal(RotationErrorIds.UnknownStoreScheme, ex.ErrorId);
        Assert.Empty(_audit.Records);
    }

    [Fact]
    public void An_explicit_endpoint_reaches_the_store()
    {
        var store = Assert.IsType<AwsSecretsManagerStore>(new SecretOperations(new RotationServices
        {
            Stores = SecretStoreRegistry.CreateDefault(),
            StoreContext = StoreContext.Default,
            Journal = new NoJournal(),
            Audit = _audit,
        }, endpoint: "http://127.0.0.1:4566").Open("aws-sm://us-east-1/app/db"));
        Assert.Equal("http://127.0.0.1:4566/", store.Endpoint.ToString());
    }

    [Fact]
    public void A_cmdlet_endpoint_is_one_URL()
    {
        Assert.Null(SecretOperations.SingleEndpoint(null, "t"));
        Assert.Null(SecretOperations.SingleEndpoint([], "t"));
        Assert.Equal("http://a:1", SecretOperations.SingleEndpoint(["http://a:1"], "t"));
        var ex = Assert.Throws<RotationException>(() => SecretOperations.SingleEndpoint(["http://a:1", "http://b:2"], "aws-sm://us-east-1/x"));
        Assert.Equal(RotationErrorIds.InvalidArgument, ex.ErrorId);
        Assert.Equal("aws-sm://us-east-1/x", ex.TargetName);
    }

    private sealed class RecordingAudit : IAuditSink
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

    private sealed class FailingAudit : IAuditSink
    {
        public void Write(RotationAuditRecord record) =>
            throw new RotationException(RotationErrorIds.AuditWriteFailed, RotationErrorCategory.WriteError, record.Target, "disk full");
    }

    private sealed class NoJournal : IRunJournal
    {
        public void Save(RotationRun run) => throw new NotSupportedException();

        public RotationRun Load(string runId) => throw new NotSupportedException();

        public IReadOnlyList<RotationRun> List() => [];

        public IDisposable Lock(string runId) => throw new NotSupportedException();
    }
}
