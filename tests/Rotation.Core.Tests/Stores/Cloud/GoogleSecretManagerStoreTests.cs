using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;
using Rotation.Core.Tests.Stores.Fakes;

namespace Rotation.Core.Tests.Stores.Cloud;

public sealed class GoogleSecretManagerStoreTests : IAsyncLifetime
{
    private GoogleSecretManagerFake _fake = null!;

    public async Task InitializeAsync() => _fake = await GoogleSecretManagerFake.StartAsync();

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    internal static StoreContext Context(Uri endpoint, Dictionary<string, string>? env = null, int maxRetries = 2) => new()
    {
        Endpoint = endpoint.ToString(),
        GetEnvironmentVariable = name => (env ?? new Dictionary<string, string> { ["GOOGLE_OAUTH_ACCESS_TOKEN"] = "test-token" }).GetValueOrDefault(name),
        MaxRetries = maxRetries,
        RequestTimeout = TimeSpan.FromSeconds(20),
    };

    private ISecretStore Open(string secret, StoreContext? context = null) =>
        SecretStoreRegistry.CreateDefault().Open($"gcp-sm://proj-1/{secret}", context ?? Context(_fake.Server.BaseAddress));

    private static string NewName() => "s-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task Pending_then_complete_moves_aliases_and_disables_the_version_that_drops_out()
    {
        var name = NewName();
        var store = Open(name);
        var v1 = await store.PutAsync(SecretValue.FromText("one-value-1"), SecretStage.Current, new SecretWriteOptions());
        var v2 = await store.PutAsync(SecretValue.FromText("two-value-2"), SecretStage.Current, new SecretWriteOptions());
        var p = await store.PutAsync(SecretValue.FromText("three-value-3"), SecretStage.Pending, new SecretWriteOptions { RunId = "run-a" });
        Assert.Equal(["1", "2", "3"], new[] { v1.VersionId, v2.VersionId, p.VersionId });
        Assert.Equal("run-a", (await store.DescribeAsync()).PendingRunId);

        var done = await store.CompleteAsync(p.VersionId);
        Assert.Equal("3", done.VersionId);
        Assert.Equal("three-value-3", (await store.GetAsync(SecretStage.Current)).Value.Text);
        Assert.Equal("two-value-2", (await store.GetAsync(SecretStage.Previous)).Value.Text);
        Assert.Equal("DISABLED", _fake.VersionState("proj-1", name, "1"));
        Assert.Equal("ENABLED", _fake.VersionState("proj-1", name, "2"));
        var annotations = _fake.Annotations("proj-1", name);
        Assert.Equal("3", annotations["rotation-current"]);
        Assert.False(annotations.ContainsKey("rotation-pending"));

        var undone = await store.UndoAsync();
        Assert.Equal("2", undone.VersionId);
        Assert.Equal([SecretStage.Current], undone.Stages);
    }

    [Fact]
    public async Task Undo_enables_a_previous_version_that_was_disabled_by_hand()
    {
        var name = NewName();
        await CloudStoreAssert.UndoRevivesAHandRetiredVersionAsync(Open(name), v => _fake.Disable("proj-1", name, v), v => _fake.VersionState("proj-1", name, v) == "ENABLED");
    }

    [Fact]
    public async Task The_payload_is_stored_byte_for_byte_with_its_crc32c()
    {
        var name = NewName();
        var text = "postgresql://app:p%40ss%C3%A9@db:5432/app?sslmode=require ünïcode";
        var written = await Open(name).PutAsync(SecretValue.FromText(text), SecretStage.Current, new SecretWriteOptions());
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(text), _fake.Payload("proj-1", name, written.VersionId));
        Assert.Contains(_fake.Server.Requests, r => r.StartsWith("POST /v1/projects/proj-1/secrets/" + name + ":addVersion", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_retried_write_with_the_same_token_creates_nothing()
    {
        var store = Open(NewName());
        var options = new SecretWriteOptions { RunId = "run-t", ClientRequestToken = "run-t/step-1" };
        var a = await store.PutAsync(SecretValue.FromText("token-value-1"), SecretStage.Pending, options);
        var b = await store.PutAsync(SecretValue.FromText("token-value-1"), SecretStage.Pending, options);
        Assert.Equal(a.VersionId, b.VersionId);
        Assert.Single((await store.DescribeAsync()).Versions);
    }

    [Fact]
    public async Task Two_racing_writers_never_both_win_over_many_rounds() =>
        await CloudStoreAssert.ExactlyOneWinsEachRoundAsync(name => Open(name), NewName, rounds: 20);

    [Fact]
    public async Task A_stale_etag_is_a_write_conflict_and_leaves_no_labelled_version()
    {
        var name = NewName();
        var store = Open(name);
        await store.PutAsync(SecretValue.FromText("base-value-0"), SecretStage.Current, new SecretWriteOptions());
        _fake.Server.Inject(new FakeFault
        {
            Match = r => r.Method == "PATCH",
            Status = 409,
            Body = """{"error":{"code":409,"message":"The etag provided does not match.","status":"ABORTED"}}""",
        });
        var e = await Assert.ThrowsAsync<RotationException>(() => store.PutAsync(SecretValue.FromText("lost-value-1"), SecretStage.Pending, new SecretWriteOptions { RunId = "r" }));
        Assert.Equal(RotationErrorIds.StoreWriteConflict, e.ErrorId);
        var d = await store.DescribeAsync();
        Assert.False(d.HasPending);
        Assert.Equal("DISABLED", _fake.VersionState("proj-1", name, "2"));
    }

    [Fact]
    public async Task Expired_token_forbidden_and_missing_secret_have_their_own_error_ids()
    {
        var name = NewName();
        await Open(name).PutAsync(SecretValue.FromText("some-value-1"), SecretStage.Current, new SecretWriteOptions());

        var expired = Open(name, Context(_fake.Server.BaseAddress, new() { ["CLOUDSDK_AUTH_ACCESS_TOKEN"] = "expired" }));
        var e401 = await Assert.ThrowsAsync<RotationException>(() => expired.GetAsync(SecretStage.Current));
        Assert.Equal(RotationErrorIds.StoreAuthenticationFailed, e401.ErrorId);
        Assert.Contains("GOOGLE_OAUTH_ACCESS_TOKEN", e401.Message, StringComparison.Ordinal);

        _fake.ForbiddenTokens.Add("reader");
        var forbidden = Open(name, Context(_fake.Server.BaseAddress, new() { ["GOOGLE_OAUTH_ACCESS_TOKEN"] = "reader" }));
        Assert.Equal(RotationErrorIds.StoreAccessDenied, (await Assert.ThrowsAsync<RotationException>(() => forbidden.GetAsync(SecretStage.Current))).ErrorId);

        Assert.Equal(RotationErrorIds.SecretNotFound, (await Assert.ThrowsAsync<RotationException>(() => Open(NewName()).GetAsync(SecretStage.Current))).ErrorId);
        Assert.Equal(RotationErrorIds.SecretStageNotFound, (await Assert.ThrowsAsync<RotationException>(() => Open(name).GetAsync(SecretStage.Pending))).ErrorId);
        LeakAssert.NoneOf(["some-value-1"], [("401", e401.Message)]);
    }

    [Fact]
    public async Task Throttling_is_retried_after_retry_after_and_reported_when_it_persists()
    {
        var name = NewName();
        var store = Open(name);
        await store.PutAsync(SecretValue.FromText("some-value-1"), SecretStage.Current, new SecretWriteOptions());
        _fake.Server.Inject(new FakeFault { Match = r => r.Method == "GET", Status = 429, Headers = new Dictionary<string, string> { ["Retry-After"] = "1" } });
        var watch = Stopwatch.StartNew();
        Assert.Equal("some-value-1", (await store.GetAsync(SecretStage.Current)).Value.Text);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.9), $"retried after {watch.Elapsed}, before Retry-After");

        // A write is retried on 429 too: the server did not act on it.
        _fake.Server.Inject(new FakeFault { Match = r => r.Path.Value!.EndsWith(":addVersion", StringComparison.Ordinal), Status = 429, Headers = new Dictionary<string, string> { ["Retry-After"] = "0" } });
        await store.PutAsync(SecretValue.FromText("some-value-2"), SecretStage.Current, new SecretWriteOptions());
        Assert.Equal(3, (await store.DescribeAsync()).Versions.Count + 1);

        _fake.Server.Inject(new FakeFault { Match = _ => true, Status = 429, Times = 10, Headers = new Dictionary<string, string> { ["Retry-After"] = "0" } });
        var e = await Assert.ThrowsAsync<RotationException>(() => store.GetAsync(SecretStage.Current));
        Assert.Equal(RotationErrorIds.StoreThrottled, e.ErrorId);
    }

    [Fact]
    public async Task A_server_error_on_a_write_is_not_retried()
    {
        var store = Open(NewName());
        _fake.Server.Inject(new FakeFault { Match = r => r.Path.Value!.EndsWith(":addVersion", StringComparison.Ordinal), Status = 500, Times = 5 });
        var e = await Assert.ThrowsAsync<RotationException>(() => store.PutAsync(SecretValue.FromText("v-value-1"), SecretStage.Current, new SecretWriteOptions()));
        Assert.Equal(RotationErrorIds.StoreUnreachable, e.ErrorId);
        Assert.Single(_fake.Server.Requests, r => r.Contains(":addVersion", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_server_with_the_wrong_certificate_is_a_tls_failure()
    {
        using var served = TestCertificates.Create("impostor");
        using var trusted = TestCertificates.Create("expected");
        await using var tls = await GoogleSecretManagerFake.StartAsync(served);
        var context = new StoreContext
        {
            Endpoint = tls.Server.BaseAddress.ToString(),
            GetEnvironmentVariable = n => n == "GOOGLE_OAUTH_ACCESS_TOKEN" ? "test-token" : null,
            HttpHandlerFactory = () => TestCertificates.PinnedHandler(trusted),
        };
        var e = await Assert.ThrowsAsync<RotationException>(() => Open(NewName(), context).GetAsync(SecretStage.Current));
        Assert.Equal(RotationErrorIds.StoreUnreachable, e.ErrorId);
        Assert.Contains("certificate", e.Message, StringComparison.Ordinal);

        // The same fake, trusted, answers.
        var ok = new StoreContext
        {
            Endpoint = context.Endpoint,
            GetEnvironmentVariable = context.GetEnvironmentVariable,
            HttpHandlerFactory = () => TestCertificates.PinnedHandler(served),
        };
        Assert.Equal(RotationErrorIds.SecretNotFound, (await Assert.ThrowsAsync<RotationException>(() => Open(NewName(), ok).GetAsync(SecretStage.Current))).ErrorId);
    }

    [Fact]
    public async Task A_service_account_key_file_is_exchanged_for_a_token_through_application_default_credentials()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        using var rsa = RSA.Create(2048);
        var key = new JsonObject
        {
            ["type"] = "service_account",
            ["project_id"] = "proj-1",
            ["private_key_id"] = "k1",
            ["private_key"] = rsa.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = "rotator@proj-1.iam.gserviceaccount.com",
            ["client_id"] = "1",
            ["token_uri"] = new Uri(_fake.Server.BaseAddress, "token").ToString(),
        };
        File.WriteAllText(dir.File("key.json"), key.ToJsonString());
        var context = Context(_fake.Server.BaseAddress, new() { ["GOOGLE_APPLICATION_CREDENTIALS"] = dir.File("key.json") });
        var name = NewName();
        await Open(name, context).PutAsync(SecretValue.FromText("sa-value-1"), SecretStage.Current, new SecretWriteOptions());
        Assert.Contains(_fake.Server.Requests, r => r == "POST /token");
        Assert.Equal("sa-value-1", (await Open(name, context).GetAsync(SecretStage.Current)).Value.Text);
    }
}
