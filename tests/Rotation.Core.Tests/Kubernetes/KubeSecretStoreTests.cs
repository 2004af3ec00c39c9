using System.Text.Json.Nodes;
using Rotation.Core.Errors;
using Rotation.Core.Kubernetes;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

namespace Rotation.Core.Tests.Kubernetes;

/// <summary>The ISecretStore contract on k8s:// (the shared contract suite subclasses run too once it lands on main),
/// plus what is special to Kubernetes: what pods read stays Current, staging lives in one Secret.</summary>
public sealed class KubeSecretStoreTests
{
    private static ISecretStore Open(KubeTestKit kit, string uri) => SecretStoreRegistry.CreateDefault().Open(uri, kit.StoreContext);

    private static SecretWriteOptions Run(string runId, string? token = null) => new() { RunId = runId, ClientRequestToken = token };

    [Fact]
    public async Task The_registry_opens_k8s_uris_natively_with_fields()
    {
        await using var kit = KubeTestKit.Start();
        Assert.IsType<KubeSecretStore>(Open(kit, "k8s://fake/default/db#password"));
        Assert.Contains(SecretStoreUri.Kubernetes, SecretStoreRegistry.CreateDefault().Schemes);
    }

    [Fact]
    public async Task Reads_a_secret_created_by_someone_else_as_a_map_or_one_key()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddSecret("default", "db", new Dictionary<string, string> { ["username"] = "app", ["password"] = "pw-0" });
        var whole = await Open(kit, "k8s://fake/default/db").GetAsync(SecretStage.Current);
        Assert.Equal("app", whole.Value.Fields["username"]);
        var key = await Open(kit, "k8s://fake/default/db#password").GetAsync(SecretStage.Current);
        Assert.Equal("pw-0", key.Value.Text);
        Assert.StartsWith("fp-", key.VersionId, StringComparison.Ordinal);
        var missing = await Assert.ThrowsAsync<RotationException>(() => Open(kit, "k8s://fake/default/db#nope").GetAsync(SecretStage.Current));
        Assert.Equal(RotationErrorIds.SecretFieldNotFound, missing.ErrorId);
    }

    [Fact]
    public async Task Writing_one_key_keeps_the_other_keys_and_pods_read_only_current()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddSecret("default", "db", new Dictionary<string, string> { ["username"] = "app", ["password"] = "pw-0" });
        var store = Open(kit, "k8s://fake/default/db#password");

        var pending = await store.PutAsync(SecretValue.FromText("pw-1"), SecretStage.Pending, Run("r1"));
        Assert.Equal([SecretStage.Pending], pending.Stages);
        // Pending is staged: the keys pods read still hold the old value.
        Assert.Equal("pw-0", kit.Server.DecodedSecretValue("default", "db", "password"));
        Assert.Equal("app", kit.Server.DecodedSecretValue("default", "db", "username"));

        var current = await store.CompleteAsync(pending.VersionId);
        Assert.Equal(pending.VersionId, current.VersionId);
        Assert.Equal("pw-1", kit.Server.DecodedSecretValue("default", "db", "password"));
        Assert.Equal("app", kit.Server.DecodedSecretValue("default", "db", "username"));
        Assert.Equal("pw-0", (await store.GetAsync(SecretStage.Previous)).Value.Text);
        var annotations = kit.Server.Get("secrets", "default", "db")!["metadata"]!["annotations"]!.AsObject();
        Assert.True(annotations.ContainsKey(KubeSecretDocument.ChangedAtAnnotation));
        Assert.DoesNotContain("pw-1", annotations.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_binary_key_beside_the_rotated_key_survives_byte_for_byte()
    {
        await using var kit = KubeTestKit.Start();
        var binary = new byte[] { 0xFE, 0xED, 0xFE, 0xED, 0x00, 0x00, 0x00, 0x02, 0xC3, 0x28, 0xFF };
        kit.Server.AddSecret("default", "tls", new Dictionary<string, string> { ["password"] = "old" });
        kit.Server.Mutate("secrets", "default", "tls", o => o["data"]!["keystore.jks"] = Convert.ToBase64String(binary));
        var store = Open(kit, "k8s://fake/default/tls#password");
        var p = await store.PutAsync(SecretValue.FromText("new"), SecretStage.Pending, Run("r"));
        await store.CompleteAsync(p.VersionId);
        Assert.Equal("new", kit.Server.DecodedSecretValue("default", "tls", "password"));
        Assert.Equal(Convert.ToBase64String(binary), kit.Server.Get("secrets", "default", "tls")!["data"]!["keystore.jks"]!.GetValue<string>());
    }

    [Fact]
    public async Task Pending_is_a_lease_another_run_cannot_take()
    {
        await using var kit = KubeTestKit.Start();
        var store = Open(kit, "k8s://fake/default/api#token");
        await store.PutAsync(SecretValue.FromText("a"), SecretStage.Current, Run("r0"));
        await store.PutAsync(SecretValue.FromText("b"), SecretStage.Pending, Run("r1"));
        var ex = await Assert.ThrowsAsync<RotationException>(() => store.PutAsync(SecretValue.FromText("c"), SecretStage.Pending, Run("r2")));
        Assert.Equal(RotationErrorIds.RotationInProgress, ex.ErrorId);
        Assert.Contains("r1", ex.Message, StringComparison.Ordinal);
        var cur = await Assert.ThrowsAsync<RotationException>(() => store.PutAsync(SecretValue.FromText("c"), SecretStage.Current, Run("r2")));
        Assert.Equal(RotationErrorIds.RotationInProgress, cur.ErrorId);

        // The same run replaces its own pending value; a second key of that run builds on it.
        await store.PutAsync(SecretValue.FromText("b2"), SecretStage.Pending, Run("r1"));
        await Open(kit, "k8s://fake/default/api#user").PutAsync(SecretValue.FromText("u"), SecretStage.Pending, Run("r1"));
        var whole = await Open(kit, "k8s://fake/default/api").GetAsync(SecretStage.Pending);
        Assert.Equal("b2", whole.Value.Fields["token"]);
        Assert.Equal("u", whole.Value.Fields["user"]);

        await store.CancelPendingAsync("someone-else");
        Assert.True((await store.DescribeAsync()).HasPending);
        await store.CancelPendingAsync("r1");
        var d = await store.DescribeAsync();
        Assert.False(d.HasPending);
        Assert.Null(kit.Server.Get("secrets", "default", "api")!["data"]![KubeSecretDocument.PendingKey]);
    }

    [Fact]
    public async Task Two_runs_racing_for_the_lease_one_wins_the_other_gets_RotationInProgress()
    {
        await using var kit = KubeTestKit.Start();
        var store = Open(kit, "k8s://fake/default/race#token");
        await store.PutAsync(SecretValue.FromText("a"), SecretStage.Current, Run("r0"));
        var results = await Task.WhenAll(Enumerable.Range(1, 6).Select(async i =>
        {
            try
            {
                await Open(kit, "k8s://fake/default/race#token").PutAsync(SecretValue.FromText("v" + i), SecretStage.Pending, Run("run-" + i));
                return null;
            }
            catch (RotationException ex)
            {
                return ex.ErrorId;
            }
        }));
        Assert.Single(results, r => r is null);
        Assert.All(results.Where(r => r is not null), r => Assert.True(r is RotationErrorIds.RotationInProgress or RotationErrorIds.StoreWriteConflict, r));
    }

    [Fact]
    public async Task A_retried_write_with_the_same_token_creates_nothing_new()
    {
        await using var kit = KubeTestKit.Start();
        var store = Open(kit, "k8s://fake/default/idem#token");
        var first = await store.PutAsync(SecretValue.FromText("x"), SecretStage.Pending, Run("r1", "tok-1"));
        var rv = kit.Server.Get("secrets", "default", "idem")!["metadata"]!["resourceVersion"]!.GetValue<string>();
        var again = await store.PutAsync(SecretValue.FromText("x"), SecretStage.Pending, Run("r1", "tok-1"));
        Assert.Equal(first.VersionId, again.VersionId);
        Assert.Equal(rv, kit.Server.Get("secrets", "default", "idem")!["metadata"]!["resourceVersion"]!.GetValue<string>());
        await store.CompleteAsync("tok-1");
        var retried = await store.CompleteAsync("tok-1");
        Assert.Equal([SecretStage.Current], retried.Stages);
        await Assert.ThrowsAsync<RotationException>(() => store.CompleteAsync());
    }

    [Fact]
    public async Task Undo_swaps_current_and_previous_and_twice_restores()
    {
        await using var kit = KubeTestKit.Start();
        var store = Open(kit, "k8s://fake/default/u#k");
        var none = await Assert.ThrowsAsync<RotationException>(() => store.UndoAsync());
        Assert.Equal(RotationErrorIds.SecretNotFound, none.ErrorId);
        await store.PutAsync(SecretValue.FromText("one"), SecretStage.Current, Run("a"));
        Assert.Equal(RotationErrorIds.NoPreviousVersion, (await Assert.ThrowsAsync<RotationException>(() => store.UndoAsync())).ErrorId);
        await store.PutAsync(SecretValue.FromText("two"), SecretStage.Current, Run("b"));
        Assert.Equal("one", (await store.UndoAsync()).Value.Text);
        Assert.Equal("one", kit.Server.DecodedSecretValue("default", "u", "k"));
        Assert.Equal("two", (await store.GetAsync(SecretStage.Previous)).Value.Text);
        Assert.Equal("two", (await store.UndoAsync()).Value.Text);
        Assert.Equal("two", kit.Server.DecodedSecretValue("default", "u", "k"));
    }

    [Fact]
    public async Task Describe_lists_the_stages_without_values()
    {
        await using var kit = KubeTestKit.Start();
        var store = Open(kit, "k8s://fake/default/d");
        Assert.False((await store.DescribeAsync()).Exists);
        await store.PutAsync(SecretValue.FromFields(new Dictionary<string, string> { ["a"] = "1" }), SecretStage.Current, Run("r1"));
        await store.PutAsync(SecretValue.FromFields(new Dictionary<string, string> { ["a"] = "2" }), SecretStage.Pending, Run("r2"));
        var d = await store.DescribeAsync();
        Assert.True(d.Exists);
        Assert.Equal("r2", d.PendingRunId);
        Assert.Equal(2, d.Versions.Count);
        Assert.Equal(RotationErrorIds.SecretStageNotFound, (await Assert.ThrowsAsync<RotationException>(() => store.GetAsync(SecretStage.Previous))).ErrorId);
    }

    [Fact]
    public async Task Whole_secret_writes_take_a_map_of_valid_keys_or_one_string_kept_under_value()
    {
        await using var kit = KubeTestKit.Start();
        var store = Open(kit, "k8s://fake/default/w");
        var bad = await Assert.ThrowsAsync<RotationException>(() => store.PutAsync(SecretValue.FromFields(new Dictionary<string, string> { ["bad key"] = "v" }), SecretStage.Current, Run("r")));
        Assert.Equal(RotationErrorIds.SecretShapeInvalid, bad.ErrorId);
        Assert.Null(kit.Server.Get("secrets", "default", "w"));

        await store.PutAsync(SecretValue.FromText("plain"), SecretStage.Current, Run("r"));
        Assert.Equal("plain", kit.Server.DecodedSecretValue("default", "w", KubeSecretDocument.TextKey));
        Assert.Equal("plain", (await store.GetAsync(SecretStage.Current)).Value.Text);

        await store.PutAsync(SecretValue.FromText("{\"username\":\"u\",\"password\":\"p\"}"), SecretStage.Current, Run("r"));
        Assert.Equal("p", kit.Server.DecodedSecretValue("default", "w", "password"));
        Assert.Equal("plain", (await store.GetAsync(SecretStage.Previous)).Value.Text);
    }

    [Fact]
    public async Task A_concurrent_writer_between_read_and_write_is_absorbed_by_a_fresh_read()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddSecret("default", "c", new Dictionary<string, string> { ["k"] = "0" });
        kit.Server.ConcurrentWritesToInject = 1;
        await Open(kit, "k8s://fake/default/c#k").PutAsync(SecretValue.FromText("1"), SecretStage.Current, Run("r"));
        Assert.Equal("1", kit.Server.DecodedSecretValue("default", "c", "k"));
        Assert.Equal(2, kit.Server.Requests.Count(r => r.Method == "PUT"));
    }

    [Fact]
    public async Task Store_errors_use_store_ids_and_keep_the_kubernetes_detail()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.ForbiddenNamespaces["prod"] = true;
        var forbidden = await Assert.ThrowsAsync<RotationException>(() => Open(kit, "k8s://fake/prod/db").GetAsync(SecretStage.Current));
        Assert.Equal(RotationErrorIds.StoreAccessDenied, forbidden.ErrorId);
        Assert.Equal(RotationErrorIds.KubeForbidden, ((RotationException)forbidden.InnerException!).ErrorId);
        Assert.Contains("'prod'", forbidden.Message, StringComparison.Ordinal);

        var missing = await Assert.ThrowsAsync<RotationException>(() => Open(kit, "k8s://fake/default/none").GetAsync(SecretStage.Current));
        Assert.Equal(RotationErrorIds.SecretNotFound, missing.ErrorId);

        var ctx = Assert.Throws<RotationException>(() => Open(kit, "k8s://nope/default/db"));
        Assert.Equal(RotationErrorIds.KubeContextNotFound, ctx.ErrorId);
        Assert.Contains("fake", ctx.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_secret_deleted_mid_rotation_fails_complete_clearly_and_creates_nothing()
    {
        await using var kit = KubeTestKit.Start();
        var store = Open(kit, "k8s://fake/default/gone#k");
        await store.PutAsync(SecretValue.FromText("a"), SecretStage.Current, Run("r0"));
        var p = await store.PutAsync(SecretValue.FromText("b"), SecretStage.Pending, Run("r1"));
        kit.Server.Delete("secrets", "default", "gone");
        var ex = await Assert.ThrowsAsync<RotationException>(() => store.CompleteAsync(p.VersionId));
        Assert.Equal(RotationErrorIds.SecretNotFound, ex.ErrorId);
        Assert.Contains("default/gone", ex.Message, StringComparison.Ordinal);
        Assert.Null(kit.Server.Get("secrets", "default", "gone"));
    }

    [Fact]
    public async Task An_outside_edit_of_the_keys_is_seen_as_a_new_current_version()
    {
        await using var kit = KubeTestKit.Start();
        var store = Open(kit, "k8s://fake/default/e#k");
        var mine = await store.PutAsync(SecretValue.FromText("ours"), SecretStage.Current, Run("r"));
        kit.Server.Mutate("secrets", "default", "e", o => o["data"]!["k"] = JsonValue.Create(Convert.ToBase64String("theirs"u8.ToArray())));
        var now = await store.GetAsync(SecretStage.Current);
        Assert.Equal("theirs", now.Value.Text);
        Assert.NotEqual(mine.VersionId, now.VersionId);
    }
}
