using System.Text.Json.Nodes;
using Rotation.Core.Errors;
using Rotation.Core.Kubernetes;

namespace Rotation.Core.Tests.Kubernetes;

public sealed class KubeClientTests
{
    private static readonly Dictionary<string, string> Pw = new() { ["password"] = "pw" };

    [Fact]
    public async Task Https_with_the_cluster_CA_and_a_bearer_token_reads_a_secret()
    {
        await using var kit = KubeTestKit.Start(https: true, token: "t-123");
        kit.Server.AddSecret("default", "db", Pw);
        using var client = kit.Client();
        var secret = await client.GetAsync(KubeResourceType.Secrets, "default", "db");
        Assert.Equal("db", secret["metadata"]!["name"]!.GetValue<string>());
        Assert.All(kit.Server.Requests.Where(r => r.Path != "/version"), r => Assert.Equal("Bearer t-123", r.Headers["Authorization"]));
    }

    [Fact]
    public async Task A_server_certificate_not_signed_by_the_configured_CA_is_refused()
    {
        await using var kit = KubeTestKit.Start(https: true, token: "t");
        await using var other = FakeKubeApiServer.Start(https: true);
        // The kubeconfig trusts kit's CA but the server is another one.
        KubeTestKit.WriteKubeconfig(kit.KubeconfigPath, kit.Server, "t", null);
        var config = File.ReadAllText(kit.KubeconfigPath).Replace(kit.Server.BaseUri.ToString().TrimEnd('/'), other.BaseUri.ToString().TrimEnd('/'), StringComparison.Ordinal);
        File.WriteAllText(kit.KubeconfigPath, config);
        using var client = kit.Client();
        var ex = await Assert.ThrowsAsync<RotationException>(() => client.GetAsync(KubeResourceType.Secrets, "default", "db"));
        Assert.Equal(RotationErrorIds.KubeUnreachable, ex.ErrorId);
        Assert.Empty(other.Requests);
    }

    [Fact]
    public async Task Insecure_skip_tls_verify_accepts_any_server_certificate()
    {
        await using var kit = KubeTestKit.Start(https: true, token: "t");
        kit.Server.AddSecret("default", "db", Pw);
        var config = File.ReadAllLines(kit.KubeconfigPath).Select(l => l.Contains("certificate-authority-data", StringComparison.Ordinal) ? "    insecure-skip-tls-verify: true" : l);
        File.WriteAllLines(kit.KubeconfigPath, config);
        using var client = kit.Client();
        Assert.NotNull(await client.GetAsync(KubeResourceType.Secrets, "default", "db"));
    }

    [Fact]
    public async Task A_client_certificate_from_the_kubeconfig_is_presented_over_tls()
    {
        await using var kit = KubeTestKit.Start(https: true);
        kit.Server.RequestClientCertificate = true;
        kit.Server.AddSecret("default", "db", Pw);
        var (certPem, keyPem, _) = KubeConfigLoaderTests.NewClientCertificate();
        File.WriteAllText(kit.Dir.File("client.crt"), certPem);
        File.WriteAllText(kit.Dir.File("client.key"), keyPem);
        var lines = File.ReadAllLines(kit.KubeconfigPath).Select(l => l.Trim() == "{}" ? "    client-certificate: client.crt\n    client-key: client.key" : l);
        File.WriteAllLines(kit.KubeconfigPath, lines);
        using var client = kit.Client();
        await client.GetAsync(KubeResourceType.Secrets, "default", "db");
        Assert.Contains(kit.Server.Requests, r => r.Headers.GetValueOrDefault("X-Client-Certificate")?.Contains("CN=rotation-test", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task An_exec_plugin_token_is_cached_until_its_expirationTimestamp_then_refreshed()
    {
        await using var kit = KubeTestKit.Start(https: true, token: "exec-token");
        var count = kit.Dir.File("count");
        var plugin = kit.WriteExecPlugin("plugin.sh", "exec-token", DateTimeOffset.UtcNow.AddSeconds(2), count);
        KubeTestKit.WriteKubeconfig(kit.KubeconfigPath, kit.Server, null, plugin);
        kit.Server.AddSecret("default", "db", Pw);
        using var client = kit.Client();
        await client.GetAsync(KubeResourceType.Secrets, "default", "db");
        await client.GetAsync(KubeResourceType.Secrets, "default", "db");
        Assert.Single(File.ReadAllLines(count));
        // Past its expiry the plugin runs again (it now hands out a fresh token).
        kit.WriteExecPlugin("plugin.sh", "exec-token", DateTimeOffset.UtcNow.AddHours(1), count);
        await Task.Delay(2500);
        await client.GetAsync(KubeResourceType.Secrets, "default", "db");
        Assert.Equal(2, File.ReadAllLines(count).Length);
    }

    [Fact]
    public async Task A_bearer_token_is_never_sent_over_plain_http()
    {
        await using var kit = KubeTestKit.Start(https: false, token: "t-plain");
        kit.Server.AddSecret("default", "db", Pw);
        using var client = kit.Client();
        await client.GetAsync(KubeResourceType.Secrets, "default", "db");
        Assert.DoesNotContain(kit.Server.Requests, r => r.Headers.ContainsKey("Authorization"));
    }

    [Fact]
    public async Task An_exec_plugin_returning_an_expired_token_fails_before_anything_is_sent()
    {
        await using var kit = KubeTestKit.Start(https: true, token: "exec-token");
        var plugin = kit.WriteExecPlugin("plugin.sh", "exec-token", DateTimeOffset.UtcNow.AddMinutes(-5));
        KubeTestKit.WriteKubeconfig(kit.KubeconfigPath, kit.Server, null, plugin);
        using var client = kit.Client();
        var ex = await Assert.ThrowsAsync<RotationException>(() => client.GetAsync(KubeResourceType.Secrets, "default", "db"));
        Assert.Equal(RotationErrorIds.KubeUnauthorized, ex.ErrorId);
        Assert.Contains("expired", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'fake'", ex.Message, StringComparison.Ordinal);
        Assert.Empty(kit.Server.Requests);
        Assert.DoesNotContain("exec-token", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_401_reruns_the_exec_plugin_once_then_reports_KubeUnauthorized()
    {
        await using var kit = KubeTestKit.Start(https: true, token: "the-server-wants-this");
        var count = kit.Dir.File("count");
        var plugin = kit.WriteExecPlugin("plugin.sh", "revoked-token", DateTimeOffset.UtcNow.AddHours(1), count);
        KubeTestKit.WriteKubeconfig(kit.KubeconfigPath, kit.Server, null, plugin);
        using var client = kit.Client();
        var ex = await Assert.ThrowsAsync<RotationException>(() => client.GetAsync(KubeResourceType.Secrets, "default", "db"));
        Assert.Equal(RotationErrorIds.KubeUnauthorized, ex.ErrorId);
        Assert.Equal(2, File.ReadAllLines(count).Length);
        Assert.Contains(plugin, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("revoked-token", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_exec_plugin_reports_its_stderr_not_its_stdout()
    {
        await using var kit = KubeTestKit.Start(https: true, token: "t");
        var plugin = kit.Dir.File("fail.sh");
        File.WriteAllText(plugin, "#!/bin/sh\necho secret-on-stdout\necho 'Reauthentication required: run gcloud auth login' >&2\nexit 1\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(plugin, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
        }
        KubeTestKit.WriteKubeconfig(kit.KubeconfigPath, kit.Server, null, plugin);
        using var client = kit.Client();
        var ex = await Assert.ThrowsAsync<RotationException>(() => client.GetAsync(KubeResourceType.Secrets, "default", "db"));
        Assert.Equal(RotationErrorIds.KubeExecPluginFailed, ex.ErrorId);
        Assert.Contains("gcloud auth login", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-on-stdout", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_exec_plugin_says_how_to_install_it()
    {
        await using var kit = KubeTestKit.Start(https: true, token: "t");
        KubeTestKit.WriteKubeconfig(kit.KubeconfigPath, kit.Server, null, kit.Dir.File("no-such-plugin"));
        using var client = kit.Client();
        var ex = await Assert.ThrowsAsync<RotationException>(() => client.GetAsync(KubeResourceType.Secrets, "default", "db"));
        Assert.Equal(RotationErrorIds.KubeExecPluginFailed, ex.ErrorId);
    }

    [Fact]
    public async Task Forbidden_names_the_context_user_verb_and_namespace()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.ForbiddenNamespaces["prod"] = true;
        using var client = kit.Client();
        var ex = await Assert.ThrowsAsync<RotationException>(() => client.GetAsync(KubeResourceType.Secrets, "prod", "db"));
        Assert.Equal(RotationErrorIds.KubeForbidden, ex.ErrorId);
        Assert.Contains("'fake'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'prod'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'get'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("fake-user", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Not_found_names_the_kind_namespace_name_and_context()
    {
        await using var kit = KubeTestKit.Start();
        using var client = kit.Client();
        var ex = await Assert.ThrowsAsync<RotationException>(() => client.GetAsync(KubeResourceType.Secrets, "default", "nope"));
        Assert.Equal(RotationErrorIds.KubeObjectNotFound, ex.ErrorId);
        Assert.Contains("Secret 'default/nope'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'fake'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_409_is_retried_on_a_fresh_read_and_the_change_is_reapplied()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddSecret("default", "db", Pw);
        kit.Server.ConcurrentWritesToInject = 2;
        using var client = kit.Client();
        var calls = 0;
        var written = await client.UpdateAsync(KubeResourceType.Secrets, "default", "db", obj =>
        {
            calls++;
            obj!["data"]!["extra"] = Convert.ToBase64String("e"u8.ToArray());
            return obj;
        });
        Assert.Equal(3, calls);
        Assert.Equal("e", kit.Server.DecodedSecretValue("default", "db", "extra"));
        // The concurrent writer's change survived: we re-applied ours on top of theirs.
        Assert.NotNull(kit.Server.Get("secrets", "default", "db")!["metadata"]!["labels"]!["touched-by"]);
        Assert.NotNull(written);
    }

    [Fact]
    public async Task Conflicts_that_never_stop_end_in_KubeConflict_after_bounded_attempts_with_nothing_written()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddSecret("default", "db", Pw);
        kit.Server.AlwaysConflict = true;
        using var client = new KubeClient(new KubeConfigLoader { GetEnvironmentVariable = n => kit.Env.GetValueOrDefault(n) }.Resolve(null)) { MaxConflictAttempts = 3 };
        var ex = await Assert.ThrowsAsync<RotationException>(() => client.UpdateAsync(KubeResourceType.Secrets, "default", "db", obj =>
        {
            obj!["data"]!["extra"] = "ZQ==";
            return obj;
        }));
        Assert.Equal(RotationErrorIds.KubeConflict, ex.ErrorId);
        Assert.Contains("3 attempts", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, kit.Server.Requests.Count(r => r.Method == "PUT"));
        Assert.Null(kit.Server.Get("secrets", "default", "db")!["data"]!["extra"]);
    }

    [Fact]
    public async Task A_watch_reconnects_from_the_last_resourceVersion_when_the_server_ends_it()
    {
        await using var kit = KubeTestKit.Start();
        kit.Server.AddSecret("default", "db", Pw);
        using var client = new KubeClient(new KubeConfigLoader { GetEnvironmentVariable = n => kit.Env.GetValueOrDefault(n) }.Resolve(null)) { WatchTimeoutSeconds = 1 };
        var list = await client.ListAsync(KubeResourceType.Secrets, "default");
        var rv = list["metadata"]!["resourceVersion"]!.GetValue<string>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = new List<string>();
        var writer = Task.Run(async () =>
        {
            await Task.Delay(300);
            kit.Server.Mutate("secrets", "default", "db", o => o["metadata"]!["labels"] = new JsonObject { ["n"] = "1" });
            await Task.Delay(1800); // past the server's 1 s watch timeout: the client must reconnect
            kit.Server.Mutate("secrets", "default", "db", o => o["metadata"]!["labels"] = new JsonObject { ["n"] = "2" });
        });
        await foreach (var ev in client.WatchAsync(KubeResourceType.Secrets, "default", rv, "metadata.name=db", cancellationToken: cts.Token))
        {
            seen.Add(ev.Object!["metadata"]!["labels"]!["n"]!.GetValue<string>());
            if (seen.Count == 2)
            {
                break;
            }
        }
        await writer;
        Assert.Equal(["1", "2"], seen);
        Assert.True(kit.Server.Requests.Count(r => r.Target.Contains("watch=true", StringComparison.Ordinal)) >= 2);
    }

    [Fact]
    public async Task In_cluster_service_account_token_authenticates_over_https()
    {
        await using var kit = KubeTestKit.Start(https: true, token: "sa-token");
        kit.Server.AddSecret("payments", "db", Pw);
        using var sa = Infrastructure.TestEnvironment.NewTempDirectory();
        File.WriteAllText(sa.File("token"), "sa-token");
        File.WriteAllText(sa.File("ca.crt"), kit.Server.CertificatePem);
        File.WriteAllText(sa.File("namespace"), "payments");
        var env = new Dictionary<string, string?> { ["KUBERNETES_SERVICE_HOST"] = "127.0.0.1", ["KUBERNETES_SERVICE_PORT"] = kit.Server.BaseUri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var settings = new KubeConfigLoader { GetEnvironmentVariable = n => env.GetValueOrDefault(n), ServiceAccountDirectory = sa.Path }.Resolve(null);
        using var client = new KubeClient(settings);
        Assert.Equal("payments", client.DefaultNamespace);
        Assert.NotNull(await client.GetAsync(KubeResourceType.Secrets, client.DefaultNamespace, "db"));
    }
}
