using System.Text;
using Rotation.Core.Audit;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;
using Rotation.Core.Tests.Stores.Fakes;

namespace Rotation.Core.Tests.Stores.Cloud;

/// <summary>
/// Seed 002 end to end against the Secret Manager fake, as Set-RotationSecret runs it:
/// <c>$r | Set-RotationSecret -Uri gcp-sm://aivo-prod/auth-database-url -Shape DatabaseUrl</c>, staged Pending then
/// completed, and what External Secrets would read (gcloud's <c>versions access latest</c>) is the DATABASE_URL byte for byte.
/// </summary>
public sealed class Seed002PipelineTests : IAsyncLifetime
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

    [Fact]
    public async Task A_rotated_credential_is_written_as_a_database_url_and_gcloud_reads_it_byte_for_byte()
    {
        var secret = "auth-database-url-" + Guid.NewGuid().ToString("N")[..8];
        var uri = $"gcp-sm://aivo-prod/{secret}";
        var auditPath = _dir.File("audit.jsonl");
        var operations = new SecretOperations(new RotationServices
        {
            Stores = SecretStoreRegistry.CreateDefault(),
            // Configured as in CI: an access token and the endpoint override from the environment, nothing else.
            StoreContext = new StoreContext
            {
                GetEnvironmentVariable = new Dictionary<string, string>
                {
                    ["CLOUDSDK_AUTH_ACCESS_TOKEN"] = "test-token",
                    ["CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER"] = _fake.Server.BaseAddress.ToString(),
                }.GetValueOrDefault,
            },
            Journal = new FileRunJournal(_dir.File("journal")),
            Audit = new JsonlAuditLog(auditPath),
            PerformedBy = "seed-002",
        });
        var shape = new SecretShapeInput { Server = "auth-db.aivo-prod.svc", Port = 5432, Database = "auth" };

        // The old credential, as it stood before the rotation.
        var old = RotationCredential.FromPlainText("auth_app", SecretGenerator.NewPassword(32));
        await operations.SetAsync(uri, SecretShaper.Shape(SecretShape.DatabaseUrl, WithCredential(shape, old), uri), SecretStage.Current, credentialType: "DatabaseUrl");

        // The rotation: a new password with characters a URL must escape, staged Pending, then completed.
        var password = SecretGenerator.NewPassword(24) + "@:/?#%&+ é";
        var rotated = RotationCredential.FromPlainText("auth_app_v2", password);
        var runId = RunIds.New(TimeProvider.System);
        var value = SecretShaper.Shape(SecretShape.DatabaseUrl, WithCredential(shape, rotated), uri);
        var pending = await operations.SetAsync(uri, value, SecretStage.Pending, runId, "DatabaseUrl", RunIds.Token(runId, "store"));
        var completed = await operations.CompleteAsync(uri, pending.VersionId);
        Assert.Equal(pending.VersionId, completed.VersionId);

        var expected = Encoding.UTF8.GetBytes(SecretShaper.DatabaseUrl(rotated, "auth-db.aivo-prod.svc", 5432, "auth"));
        var config = _dir.File("gcloud");
        var latest = await GoogleSecretManagerGcloudTests.GcloudAsync(_fake.Server.BaseAddress, config, "aivo-prod", "secrets", "versions", "access", "latest", "--secret=" + secret);
        Assert.Equal(expected, latest);
        Assert.Equal(expected, await GoogleSecretManagerGcloudTests.GcloudAsync(_fake.Server.BaseAddress, config, "aivo-prod", "secrets", "versions", "access", "current", "--secret=" + secret));
        Assert.Equal(expected, _fake.Payload("aivo-prod", secret, completed.VersionId!));

        // The URL parses back to the credential (the password survives escaping).
        var parsed = new Uri(Encoding.UTF8.GetString(latest));
        Assert.Equal("auth_app_v2:" + Uri.EscapeDataString(password), parsed.UserInfo);
        Assert.Equal(password, Uri.UnescapeDataString(parsed.UserInfo.Split(':', 2)[1]));

        LeakAssert.NoneOf([password, old.GetNetworkCredential().Password, Encoding.UTF8.GetString(expected)],
            [("audit log", File.ReadAllText(auditPath)), ("request log", string.Join('\n', _fake.Server.Requests)), ("results", $"{pending} {completed}")]);
    }

    private static SecretShapeInput WithCredential(SecretShapeInput shape, RotationCredential credential) =>
        new() { Credential = credential, Server = shape.Server, Port = shape.Port, Database = shape.Database };
}
