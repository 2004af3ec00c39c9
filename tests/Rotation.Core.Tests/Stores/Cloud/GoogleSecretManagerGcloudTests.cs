using System.Text;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;
using Rotation.Core.Tests.Stores.Fakes;

namespace Rotation.Core.Tests.Stores.Cloud;

/// <summary>
/// Holds the Secret Manager fake to the real client: gcloud (installed at /usr/bin/gcloud) must add and read
/// versions against it, and read what the store wrote, byte for byte. Configuration as PROTOCOL-NOTES.md describes:
/// CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER, CLOUDSDK_AUTH_ACCESS_TOKEN and a temp CLOUDSDK_CONFIG.
/// </summary>
public sealed class GoogleSecretManagerGcloudTests : IAsyncLifetime
{
    private GoogleSecretManagerFake _fake = null!;
    private TempDirectory _dir = null!;

    public async Task InitializeAsync()
    {
        _fake = await GoogleSecretManagerFake.StartAsync();
        _dir = TestEnvironment.NewTempDirectory();
    }

    public async Task DisposeAsync()
    {
        await _fake.DisposeAsync();
        _dir.Dispose();
    }

    internal static async Task<byte[]> GcloudAsync(Uri endpoint, string configDir, string project, params string[] args)
    {
        var env = new Dictionary<string, string>
        {
            ["CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER"] = endpoint.ToString(),
            ["CLOUDSDK_AUTH_ACCESS_TOKEN"] = "test-token",
            ["CLOUDSDK_CONFIG"] = configDir,
            ["CLOUDSDK_CORE_DISABLE_PROMPTS"] = "1",
            ["CLOUDSDK_CORE_DISABLE_USAGE_REPORTING"] = "true",
            ["CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK"] = "true",
        };
        var (exit, stdout, stderr) = await ProcessRunner.RunAsync("/usr/bin/gcloud", [.. args, "--project=" + project], env, TimeSpan.FromMinutes(2));
        Assert.True(exit == 0, $"gcloud {string.Join(' ', args)} exited {exit}: {stderr}");
        return stdout;
    }

    [Fact]
    public async Task Gcloud_adds_and_reads_versions_and_reads_what_the_store_wrote()
    {
        var name = "g-" + Guid.NewGuid().ToString("N")[..10];
        var context = GoogleSecretManagerStoreTests.Context(_fake.Server.BaseAddress);
        var store = SecretStoreRegistry.CreateDefault().Open($"gcp-sm://proj-1/{name}", context);
        var first = await store.PutAsync(SecretValue.FromText("first-value-1"), SecretStage.Current, new SecretWriteOptions());

        // gcloud adds a version with a CRC32C checksum; the fake must accept and acknowledge it.
        var data = Encoding.UTF8.GetBytes("from-gcloud \u00e9\n\u0001binary-ish");
        File.WriteAllBytes(_dir.File("payload.bin"), data);
        await GcloudAsync(_fake.Server.BaseAddress, _dir.File("config"), "proj-1", "secrets", "versions", "add", name, "--data-file=" + _dir.File("payload.bin"));
        Assert.Equal(data, _fake.Payload("proj-1", name, "2"));
        Assert.True(_fake.HadClientChecksum("proj-1", name, "2"));
        Assert.True(_fake.HadClientChecksum("proj-1", name, first.VersionId));
        Assert.Equal(data, await GcloudAsync(_fake.Server.BaseAddress, _dir.File("config"), "proj-1", "secrets", "versions", "access", "latest", "--secret=" + name));

        // The store's labels stay on its own version; consumers pinned to the alias read the staged value.
        Assert.Equal(first.VersionId, (await store.GetAsync(SecretStage.Current)).VersionId);
        Assert.Equal("first-value-1"u8.ToArray(), await GcloudAsync(_fake.Server.BaseAddress, _dir.File("config"), "proj-1", "secrets", "versions", "access", "current", "--secret=" + name));
    }
}
