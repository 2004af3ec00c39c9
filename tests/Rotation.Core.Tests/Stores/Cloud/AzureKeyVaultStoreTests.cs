using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Azure.Core;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Stores.Azure;
using Rotation.Core.Tests.Stores.Fakes;

namespace Rotation.Core.Tests.Stores.Cloud;

/// <summary>A credential that hands out a fixed token and records what the SDK asked for (scopes, tenant from the challenge).</summary>
public sealed class StaticTokenCredential(string token) : TokenCredential
{
    public ConcurrentQueue<TokenRequestContext> Requests { get; } = new();

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        Requests.Enqueue(requestContext);
        return new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(GetToken(requestContext, cancellationToken));
}

public sealed class AzureKeyVaultStoreTests : IAsyncLifetime
{
    private X509Certificate2 _certificate = null!;
    private AzureKeyVaultFake _fake = null!;

    public async Task InitializeAsync()
    {
        _certificate = TestCertificates.Create("kv-fake");
        _fake = await AzureKeyVaultFake.StartAsync(_certificate);
    }

    public async Task DisposeAsync()
    {
        await _fake.DisposeAsync();
        _certificate.Dispose();
    }

    /// <summary>A store on https://testvault.vault.azure.net/ whose connections go to the fake, with the SDK's
    /// challenge resource verification left on.</summary>
    internal static AzureKeyVaultStore Open(AzureKeyVaultFake fake, X509Certificate2 trusted, string secret, TokenCredential? credential = null,
        AzureKeyVaultRotationPolicy? policy = null, string? endpoint = null, int maxRetries = 2) =>
        new(SecretStoreUri.Parse($"azure-kv://testvault/{secret}"),
            new StoreContext
            {
                Endpoint = endpoint,
                GetEnvironmentVariable = _ => null,
                HttpHandlerFactory = () => TestCertificates.PinnedHandler(trusted, fake.Server.Port),
                MaxRetries = maxRetries,
            },
            new AzureKeyVaultStoreOptions
            {
                Credential = credential ?? new StaticTokenCredential("kv-token"),
                RotationPolicy = policy,
                SettleDelay = TimeSpan.FromMilliseconds(150),
            });

    private AzureKeyVaultStore Open(string secret, TokenCredential? credential = null, AzureKeyVaultRotationPolicy? policy = null) =>
        Open(_fake, _certificate, secret, credential, policy);

    private static string NewName() => "kv-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task The_sdk_answers_the_challenge_and_stages_live_in_version_tags()
    {
        var name = NewName();
        var credential = new StaticTokenCredential("kv-token");
        var store = Open(name, credential);
        var v1 = await store.PutAsync(SecretValue.FromText("kv-value-1"), SecretStage.Current, new SecretWriteOptions());
        var v2 = await store.PutAsync(SecretValue.FromText("kv-value-2"), SecretStage.Current, new SecretWriteOptions());
        var p = await store.PutAsync(SecretValue.FromText("kv-value-3"), SecretStage.Pending, new SecretWriteOptions { RunId = "run-k" });
        Assert.True(credential.Requests.TryPeek(out var asked));
        Assert.Equal(["https://vault.azure.net/.default"], asked.Scopes);
        Assert.Equal(AzureKeyVaultFake.TenantId, asked.TenantId);

        Assert.Equal("kv-value-3", (await store.GetAsync(SecretStage.Pending)).Value.Text);
        var done = await store.CompleteAsync(p.VersionId);
        Assert.Equal(p.VersionId, done.VersionId);
        Assert.Equal("kv-value-2", (await store.GetAsync(SecretStage.Previous)).Value.Text);
        Assert.False(_fake.Version(name, v1.VersionId).Enabled);
        Assert.True(_fake.Version(name, v2.VersionId).Enabled);

        var undone = await store.UndoAsync();
        Assert.Equal(v2.VersionId, undone.VersionId);
        Assert.Equal("kv-value-2", (await store.GetAsync(SecretStage.Current)).Value.Text);
        Assert.Equal(p.VersionId, (await store.GetAsync(SecretStage.Previous)).VersionId);
        var stages = (await store.DescribeAsync()).Versions.ToDictionary(v => v.VersionId, v => v.Stages);
        Assert.Equal([SecretStage.Current], stages[v2.VersionId]);
        Assert.Empty(stages[v1.VersionId]);
    }

    [Fact]
    public async Task Undo_enables_a_previous_version_that_was_disabled_by_hand()
    {
        var name = NewName();
        await CloudStoreAssert.UndoRevivesAHandRetiredVersionAsync(Open(name), v => _fake.Disable(name, v), v => _fake.Version(name, v).Enabled);
    }

    [Fact]
    public async Task Fields_are_json_and_the_rotation_policy_sets_the_validity_window()
    {
        var name = NewName();
        var policy = new AzureKeyVaultRotationPolicy { ExpiresAfter = TimeSpan.FromDays(90), NotBeforeDelay = TimeSpan.Zero };
        var store = Open(name, policy: policy);
        var map = SecretValue.FromFields(new Dictionary<string, string> { ["username"] = "app", ["password"] = "kv-map-1" });
        var written = await store.PutAsync(map, SecretStage.Current, new SecretWriteOptions());
        var read = await store.GetAsync(SecretStage.Current);
        Assert.True(read.Value.IsFields);
        Assert.Equal("kv-map-1", read.Value.Fields["password"]);
        var (_, expires, notBefore, _) = _fake.Version(name, written.VersionId);
        Assert.InRange(expires!.Value, DateTimeOffset.UtcNow.AddDays(89), DateTimeOffset.UtcNow.AddDays(91));
        Assert.InRange(notBefore!.Value, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task Two_racing_writers_never_both_win_over_many_rounds() =>
        await CloudStoreAssert.ExactlyOneWinsEachRoundAsync(name => Open(name), NewName, rounds: 10);

    [Fact]
    public async Task Expired_token_forbidden_missing_and_throttled_have_their_own_error_ids()
    {
        var name = NewName();
        await Open(name).PutAsync(SecretValue.FromText("kv-value-1"), SecretStage.Current, new SecretWriteOptions());

        var expired = await Assert.ThrowsAsync<RotationException>(() => Open(name, new StaticTokenCredential("expired")).GetAsync(SecretStage.Current));
        Assert.Equal(RotationErrorIds.StoreAuthenticationFailed, expired.ErrorId);

        _fake.ForbiddenTokens.Add("reader");
        Assert.Equal(RotationErrorIds.StoreAccessDenied, (await Assert.ThrowsAsync<RotationException>(() => Open(name, new StaticTokenCredential("reader")).GetAsync(SecretStage.Current))).ErrorId);
        Assert.Equal(RotationErrorIds.SecretNotFound, (await Assert.ThrowsAsync<RotationException>(() => Open(NewName()).GetAsync(SecretStage.Current))).ErrorId);

        _fake.Server.Inject(new FakeFault { Match = r => r.Method == "GET", Status = 429, Headers = new Dictionary<string, string> { ["Retry-After"] = "1" } });
        Assert.Equal("kv-value-1", (await Open(name).GetAsync(SecretStage.Current)).Value.Text);
        _fake.Server.Inject(new FakeFault { Match = _ => true, Status = 429, Times = 20, Headers = new Dictionary<string, string> { ["Retry-After"] = "0" } });
        Assert.Equal(RotationErrorIds.StoreThrottled, (await Assert.ThrowsAsync<RotationException>(() => Open(name).GetAsync(SecretStage.Current))).ErrorId);
    }

    [Fact]
    public async Task A_failed_version_write_is_retried_only_when_the_service_did_not_act()
    {
        var name = NewName();
        _fake.Server.Inject(new FakeFault { Match = r => r.Method == "PUT", Status = 503, Headers = new Dictionary<string, string> { ["Retry-After"] = "0" } });
        await Open(name).PutAsync(SecretValue.FromText("kv-value-1"), SecretStage.Current, new SecretWriteOptions());
        Assert.Single(_fake.Versions(name));

        _fake.Server.Inject(new FakeFault { Match = r => r.Method == "PUT", Status = 500, Times = 1 });
        var e = await Assert.ThrowsAsync<RotationException>(() => Open(name).PutAsync(SecretValue.FromText("kv-value-2"), SecretStage.Current, new SecretWriteOptions()));
        Assert.Equal(RotationErrorIds.StoreUnreachable, e.ErrorId);
        Assert.Equal(3, _fake.Server.Requests.Count(r => r.StartsWith("PUT ", StringComparison.Ordinal)));

        _fake.Server.Inject(new FakeFault { Match = r => r.Method == "PUT", Status = 409, Body = """{"error":{"code":"Conflict","message":"There was a conflict while updating the secret."}}""" });
        Assert.Equal(RotationErrorIds.StoreWriteConflict, (await Assert.ThrowsAsync<RotationException>(() => Open(name).PutAsync(SecretValue.FromText("kv-value-3"), SecretStage.Current, new SecretWriteOptions()))).ErrorId);
        _fake.Server.Inject(new FakeFault { Match = r => r.Method == "PUT", Status = 409, Body = """{"error":{"code":"Conflict","message":"Secret is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged."}}""" });
        var deleted = await Assert.ThrowsAsync<RotationException>(() => Open(name).PutAsync(SecretValue.FromText("kv-value-4"), SecretStage.Current, new SecretWriteOptions()));
        Assert.Equal(RotationErrorIds.StoreRequestFailed, deleted.ErrorId);
        Assert.Contains("recover", deleted.Message, StringComparison.Ordinal);
        Assert.Single(_fake.Versions(name));
    }

    [Fact]
    public async Task A_wrong_certificate_is_a_tls_failure_and_a_loopback_endpoint_works_without_resource_verification()
    {
        using var other = TestCertificates.Create("not-the-fake");
        var e = await Assert.ThrowsAsync<RotationException>(() => Open(_fake, other, NewName()).GetAsync(SecretStage.Current));
        Assert.Equal(RotationErrorIds.StoreUnreachable, e.ErrorId);
        Assert.Contains("certificate", e.Message, StringComparison.Ordinal);

        var name = NewName();
        var loopback = Open(_fake, _certificate, name, endpoint: $"https://127.0.0.1:{_fake.Server.Port}/");
        await loopback.PutAsync(SecretValue.FromText("kv-loop-1"), SecretStage.Current, new SecretWriteOptions());
        Assert.Equal("kv-loop-1", (await loopback.GetAsync(SecretStage.Current)).Value.Text);
    }
}
