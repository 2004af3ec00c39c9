using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;
using Rotation.Core.Tests.Stores.Fakes;

namespace Rotation.Core.Tests.Stores.Cloud;

public sealed class VaultKvStoreTests : IAsyncLifetime
{
    private VaultKvFake _fake = null!;

    public async Task InitializeAsync() => _fake = await VaultKvFake.StartAsync();

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    internal static StoreContext Context(Uri address, Dictionary<string, string>? env = null) => new()
    {
        Endpoint = address.ToString(),
        GetEnvironmentVariable = name => (env ?? new Dictionary<string, string> { ["VAULT_TOKEN"] = "root-token" }).GetValueOrDefault(name),
        MaxRetries = 2,
    };

    private ISecretStore Open(string path, StoreContext? context = null, string mount = "secret") =>
        SecretStoreRegistry.CreateDefault().Open($"vault://{mount}/{path}", context ?? Context(_fake.Server.BaseAddress));

    private static string NewPath() => "apps/" + Guid.NewGuid().ToString("N")[..10] + "/db";

    [Fact]
    public async Task A_string_is_stored_as_field_value_and_a_map_as_its_fields()
    {
        var path = NewPath();
        var store = Open(path);
        var v1 = await store.PutAsync(SecretValue.FromText("plain-value-1"), SecretStage.Current, new SecretWriteOptions());
        Assert.Equal("plain-value-1", _fake.Data("", "secret", path, 1)["value"]!.GetValue<string>());
        Assert.Equal("plain-value-1", (await store.GetAsync(SecretStage.Current)).Value.Text);

        var map = SecretValue.FromFields(new Dictionary<string, string> { ["username"] = "app", ["password"] = "map-value-2" });
        await store.PutAsync(map, SecretStage.Current, new SecretWriteOptions());
        var read = await store.GetAsync(SecretStage.Current);
        Assert.True(read.Value.IsFields);
        Assert.Equal("map-value-2", read.Value.Fields["password"]);
        Assert.Equal(v1.VersionId, (await store.GetAsync(SecretStage.Previous)).VersionId);

        // #field addresses one field of the map natively through the field wrapper.
        var field = SecretStoreRegistry.CreateDefault().Open($"vault://secret/{path}#password", Context(_fake.Server.BaseAddress));
        Assert.Equal("map-value-2", (await field.GetAsync(SecretStage.Current)).Value.Text);
    }

    [Fact]
    public async Task Stages_live_in_custom_metadata_and_retired_versions_are_soft_deleted()
    {
        var path = NewPath();
        var store = Open(path);
        await store.PutAsync(SecretValue.FromText("v-value-1"), SecretStage.Current, new SecretWriteOptions());
        await store.PutAsync(SecretValue.FromText("v-value-2"), SecretStage.Current, new SecretWriteOptions());
        var p = await store.PutAsync(SecretValue.FromText("v-value-3"), SecretStage.Pending, new SecretWriteOptions { RunId = "run-v" });
        var refused = await Assert.ThrowsAsync<RotationException>(() => store.PutAsync(SecretValue.FromText("v-value-x"), SecretStage.Pending, new SecretWriteOptions { RunId = "run-other" }));
        Assert.Equal(RotationErrorIds.RotationInProgress, refused.ErrorId);
        Assert.Contains("run-v", refused.Message, StringComparison.Ordinal);

        await store.CompleteAsync(p.VersionId);
        var custom = _fake.CustomMetadata("", "secret", path);
        Assert.Equal("3", custom["rotation-current"]);
        Assert.Equal("2", custom["rotation-previous"]);
        Assert.True(_fake.IsDeleted("", "secret", path, 1));
        Assert.False(_fake.IsDeleted("", "secret", path, 2));

        Assert.Equal("v-value-2", (await store.UndoAsync()).Value.Text);
        Assert.Equal("v-value-3", (await store.UndoAsync()).Value.Text);

        await store.PutAsync(SecretValue.FromText("v-value-4"), SecretStage.Pending, new SecretWriteOptions { RunId = "run-c" });
        await store.CancelPendingAsync("run-c");
        Assert.False((await store.DescribeAsync()).HasPending);
        Assert.True(_fake.IsDeleted("", "secret", path, 4));
    }

    [Fact]
    public async Task Two_racing_writers_never_both_win_over_many_rounds() =>
        await CloudStoreAssert.ExactlyOneWinsEachRoundAsync(p => Open(p), NewPath, rounds: 30);

    [Fact]
    public async Task Undo_undeletes_a_previous_version_that_was_deleted_by_hand()
    {
        var path = NewPath();
        await CloudStoreAssert.UndoRevivesAHandRetiredVersionAsync(Open(path), v => _fake.SoftDelete("", "secret", path, int.Parse(v)), v => !_fake.IsDeleted("", "secret", path, int.Parse(v)));
    }

    [Fact]
    public async Task A_failed_check_and_set_is_a_write_conflict_that_writes_nothing()
    {
        var path = NewPath();
        var store = Open(path);
        await store.PutAsync(SecretValue.FromText("base-value-0"), SecretStage.Current, new SecretWriteOptions());
        _fake.Server.Inject(new FakeFault
        {
            Match = r => r.Method == "POST" && r.Path.Value!.Contains("/data/", StringComparison.Ordinal),
            Status = 400,
            Body = """{"errors":["check-and-set parameter did not match the current version"]}""",
        });
        var e = await Assert.ThrowsAsync<RotationException>(() => store.PutAsync(SecretValue.FromText("lost-value-1"), SecretStage.Current, new SecretWriteOptions()));
        Assert.Equal(RotationErrorIds.StoreWriteConflict, e.ErrorId);
        Assert.Single((await store.DescribeAsync()).Versions);
    }

    [Fact]
    public async Task AppRole_and_Kubernetes_logins_and_the_cli_token_file_authenticate_within_a_namespace()
    {
        var path = NewPath();
        _fake.AppRoles["role-1"] = "secret-1";
        var appRole = Context(_fake.Server.BaseAddress, new() { ["VAULT_ROLE_ID"] = "role-1", ["VAULT_SECRET_ID"] = "secret-1", ["VAULT_NAMESPACE"] = "team-a" });
        await Open(path, appRole).PutAsync(SecretValue.FromText("ns-value-1"), SecretStage.Current, new SecretWriteOptions());
        Assert.Equal("ns-value-1", _fake.Data("team-a", "secret", path, 1)["value"]!.GetValue<string>());

        using var dir = TestEnvironment.NewTempDirectory();
        File.WriteAllText(dir.File("sa-token"), "eyJhbGciOiJSUzI1NiJ9.sa.sig\n");
        _fake.KubernetesRoles["rotator"] = "eyJhbGciOiJSUzI1NiJ9.sa.sig";
        var k8s = Context(_fake.Server.BaseAddress, new() { ["VAULT_K8S_ROLE"] = "rotator", ["VAULT_K8S_TOKEN_PATH"] = dir.File("sa-token"), ["VAULT_NAMESPACE"] = "team-a" });
        Assert.Equal("ns-value-1", (await Open(path, k8s).GetAsync(SecretStage.Current)).Value.Text);

        _fake.Tokens["cli-token"] = "team-a";
        File.WriteAllText(dir.File(".vault-token"), "cli-token");
        var cli = Context(_fake.Server.BaseAddress, new() { ["HOME"] = dir.Path, ["VAULT_NAMESPACE"] = "team-a" });
        Assert.Equal("ns-value-1", (await Open(path, cli).GetAsync(SecretStage.Current)).Value.Text);

        // The same path outside the namespace is another secret.
        Assert.Equal(RotationErrorIds.SecretNotFound, (await Assert.ThrowsAsync<RotationException>(() => Open(path).GetAsync(SecretStage.Current))).ErrorId);

        var badLogin = Context(_fake.Server.BaseAddress, new() { ["VAULT_ROLE_ID"] = "role-1", ["VAULT_SECRET_ID"] = "wrong" });
        var e = await Assert.ThrowsAsync<RotationException>(() => Open(path, badLogin).GetAsync(SecretStage.Current));
        Assert.Equal(RotationErrorIds.StoreAuthenticationFailed, e.ErrorId);
        Assert.DoesNotContain("wrong", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_token_and_a_missing_policy_are_told_apart()
    {
        var path = NewPath();
        await Open(path).PutAsync(SecretValue.FromText("p-value-1"), SecretStage.Current, new SecretWriteOptions());
        var expired = await Assert.ThrowsAsync<RotationException>(() => Open(path, Context(_fake.Server.BaseAddress, new() { ["VAULT_TOKEN"] = "hvs.expired" })).GetAsync(SecretStage.Current));
        Assert.Equal(RotationErrorIds.StoreAuthenticationFailed, expired.ErrorId);
        Assert.DoesNotContain("hvs.expired", expired.Message, StringComparison.Ordinal);

        _fake.Tokens["reader"] = "";
        _fake.PolicyDenied.Add("reader");
        var denied = await Assert.ThrowsAsync<RotationException>(() => Open(path, Context(_fake.Server.BaseAddress, new() { ["VAULT_TOKEN"] = "reader" })).GetAsync(SecretStage.Current));
        Assert.Equal(RotationErrorIds.StoreAccessDenied, denied.ErrorId);
    }

    [Fact]
    public async Task Throttling_is_retried_and_a_wrong_certificate_is_a_tls_failure()
    {
        var path = NewPath();
        var store = Open(path);
        await store.PutAsync(SecretValue.FromText("t-value-1"), SecretStage.Current, new SecretWriteOptions());
        _fake.Server.Inject(new FakeFault { Match = r => r.Method == "GET", Status = 429, Times = 2, Headers = new Dictionary<string, string> { ["Retry-After"] = "0" } });
        Assert.Equal("t-value-1", (await store.GetAsync(SecretStage.Current)).Value.Text);
        _fake.Server.Inject(new FakeFault { Match = _ => true, Status = 429, Times = 10 });
        Assert.Equal(RotationErrorIds.StoreThrottled, (await Assert.ThrowsAsync<RotationException>(() => store.GetAsync(SecretStage.Current))).ErrorId);

        using var served = TestCertificates.Create("impostor");
        using var trusted = TestCertificates.Create("expected");
        await using var tls = await VaultKvFake.StartAsync(served);
        var context = new StoreContext
        {
            Endpoint = tls.Server.BaseAddress.ToString(),
            GetEnvironmentVariable = n => n == "VAULT_TOKEN" ? "root-token" : null,
            HttpHandlerFactory = () => TestCertificates.PinnedHandler(trusted),
        };
        var e = await Assert.ThrowsAsync<RotationException>(() => Open(path, context).GetAsync(SecretStage.Current));
        Assert.Equal(RotationErrorIds.StoreUnreachable, e.ErrorId);
        Assert.Contains("TLS", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VAULT_CACERT_trusts_a_private_authority_and_only_it()
    {
        using var serverCert = TestCertificates.Create("vault-private-ca");
        using var otherCa = TestCertificates.Create("some-other-ca");
        await using var tls = await VaultKvFake.StartAsync(serverCert);
        using var dir = TestEnvironment.NewTempDirectory();
        File.WriteAllText(dir.File("ca.pem"), serverCert.ExportCertificatePem());
        File.WriteAllText(dir.File("other.pem"), otherCa.ExportCertificatePem());
        var path = NewPath();
        StoreContext With(string ca) => new()
        {
            GetEnvironmentVariable = new Dictionary<string, string> { ["VAULT_ADDR"] = tls.Server.BaseAddress.ToString(), ["VAULT_TOKEN"] = "root-token", ["VAULT_CACERT"] = ca }.GetValueOrDefault,
        };
        await Open(path, With(dir.File("ca.pem"))).PutAsync(SecretValue.FromText("tls-value-1"), SecretStage.Current, new SecretWriteOptions());
        var e = await Assert.ThrowsAsync<RotationException>(() => Open(path, With(dir.File("other.pem"))).GetAsync(SecretStage.Current));
        Assert.Equal(RotationErrorIds.StoreUnreachable, e.ErrorId);
        Assert.Contains("certificate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_registry_opens_every_cloud_scheme_and_wraps_fields()
    {
        var registry = SecretStoreRegistry.CreateDefault();
        Assert.Superset(new HashSet<string> { "gcp-sm", "azure-kv", "vault" }, registry.Schemes.ToHashSet());
        var context = new StoreContext { GetEnvironmentVariable = _ => null };
        Assert.IsType<FieldScopedStore>(registry.Open("gcp-sm://p/s#password", context));
        Assert.IsType<FieldScopedStore>(registry.Open("vault://secret/a/b#password", context));
        Assert.IsType<FieldScopedStore>(registry.Open("azure-kv://v/s#password", context));
        Assert.Equal(RotationErrorIds.InvalidArgument, Assert.Throws<RotationException>(() => registry.Open("gcp-sm://p/a/b", context)).ErrorId);
        Assert.Equal(RotationErrorIds.InvalidArgument, Assert.Throws<RotationException>(() => registry.Open("azure-kv://v/a/b", context)).ErrorId);
    }

    /// <summary>The fake answers the documented samples of the KV v2 API page with the documented shapes.</summary>
    [Fact]
    public async Task The_fake_answers_the_samples_of_the_kv_v2_api_documentation()
    {
        using var http = new HttpClient { BaseAddress = _fake.Server.BaseAddress };
        http.DefaultRequestHeaders.Add("X-Vault-Token", "root-token");
        // "Create/Update Secret" sample payload, then the same cas again (must now fail).
        var payload = """{"options":{"cas":0},"data":{"foo":"bar","zip":"zap"}}""";
        var created = await http.PostAsync("v1/secret/data/my-secret", new StringContent(payload, Encoding.UTF8, "application/json"));
        var createdJson = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        Assert.Equal(["created_time", "custom_metadata", "deletion_time", "destroyed", "version"], ((JsonObject)createdJson["data"]!).Select(p => p.Key).Order());
        Assert.Equal(1, createdJson["data"]!["version"]!.GetValue<int>());
        var again = await http.PostAsync("v1/secret/data/my-secret", new StringContent(payload, Encoding.UTF8, "application/json"));
        Assert.Equal(400, (int)again.StatusCode);
        Assert.Contains("check-and-set parameter did not match the current version", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // "Create/Update Metadata" sample payload (custom_metadata), then "Read Secret Metadata".
        var meta = await http.PostAsync("v1/secret/metadata/my-secret", new StringContent("""{"max_versions":5,"cas_required":false,"delete_version_after":"3h25m19s","custom_metadata":{"foo":"abc","bar":"123"}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(204, (int)meta.StatusCode);
        var read = (await http.GetFromJsonAsync<JsonNode>("v1/secret/metadata/my-secret"))!["data"]!;
        foreach (var key in new[] { "cas_required", "created_time", "current_version", "delete_version_after", "max_versions", "oldest_version", "updated_time", "custom_metadata", "versions" })
        {
            Assert.True(((JsonObject)read).ContainsKey(key), key);
        }
        Assert.Equal("abc", read["custom_metadata"]!["foo"]!.GetValue<string>());
        Assert.Equal(["created_time", "deletion_time", "destroyed"], ((JsonObject)read["versions"]!["1"]!).Select(p => p.Key).Order());

        // "Read Secret Version": data.data and data.metadata; "Delete Secret Versions" sample payload, then the read is a 404.
        var version = (await http.GetFromJsonAsync<JsonNode>("v1/secret/data/my-secret?version=1"))!["data"]!;
        Assert.Equal("bar", version["data"]!["foo"]!.GetValue<string>());
        Assert.Equal(1, version["metadata"]!["version"]!.GetValue<int>());
        Assert.Equal(204, (int)(await http.PostAsync("v1/secret/delete/my-secret", new StringContent("""{"versions":[1]}""", Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(404, (int)(await http.GetAsync("v1/secret/data/my-secret?version=1")).StatusCode);
    }
}
