using System.Security.Cryptography.X509Certificates;
using Rotation.Core.Stores;
using Rotation.Core.Stores.Azure;
using Rotation.Core.Stores.Google;
using Rotation.Core.Stores.Vault;
using Rotation.Core.Tests.Stores.Fakes;

namespace Rotation.Core.Tests.Stores.Cloud;

/// <summary>One fake per test class, shared by its tests (each test uses its own secret names).</summary>
public sealed class GoogleFakeFixture : IAsyncLifetime
{
    public GoogleSecretManagerFake Fake { get; private set; } = null!;

    public async Task InitializeAsync() => Fake = await GoogleSecretManagerFake.StartAsync();

    public async Task DisposeAsync() => await Fake.DisposeAsync();
}

public sealed class VaultFakeFixture : IAsyncLifetime
{
    public VaultKvFake Fake { get; private set; } = null!;

    public async Task InitializeAsync() => Fake = await VaultKvFake.StartAsync();

    public async Task DisposeAsync() => await Fake.DisposeAsync();
}

public sealed class AzureFakeFixture : IAsyncLifetime
{
    public X509Certificate2 Certificate { get; } = TestCertificates.Create("kv-contract");

    public AzureKeyVaultFake Fake { get; private set; } = null!;

    public async Task InitializeAsync() => Fake = await AzureKeyVaultFake.StartAsync(Certificate);

    public async Task DisposeAsync()
    {
        await Fake.DisposeAsync();
        Certificate.Dispose();
    }
}

/// <summary>The shared store contract against the Secret Manager fake (REST v1, etag-guarded annotations and aliases).</summary>
public sealed class GoogleSecretManagerStoreContractTests(GoogleFakeFixture fixture) : SecretStoreContractTests, IClassFixture<GoogleFakeFixture>
{
    protected override SecretStoreUri NewSecretUri() => SecretStoreUri.Parse($"gcp-sm://proj-contract/c-{Guid.NewGuid():N}");

    protected override ISecretStore Open(SecretStoreUri uri) => new GoogleSecretManagerStore(uri, GoogleSecretManagerStoreTests.Context(fixture.Fake.Server.BaseAddress));

    protected override IEnumerable<(string Name, string Text)> CapturedByBackend() => [("request log", string.Join('\n', fixture.Fake.Server.Requests))];
}

/// <summary>The shared store contract against the Vault KV v2 fake (check-and-set versions, custom_metadata labels).</summary>
public sealed class VaultKvStoreContractTests(VaultFakeFixture fixture) : SecretStoreContractTests, IClassFixture<VaultFakeFixture>
{
    protected override SecretStoreUri NewSecretUri() => SecretStoreUri.Parse($"vault://secret/contract/c-{Guid.NewGuid():N}");

    protected override ISecretStore Open(SecretStoreUri uri) => new VaultKvStore(uri, VaultKvStoreTests.Context(fixture.Fake.Server.BaseAddress));

    protected override IEnumerable<(string Name, string Text)> CapturedByBackend() => [("request log", string.Join('\n', fixture.Fake.Server.Requests))];
}

/// <summary>The shared store contract against the Key Vault fake, through the Azure SDK over TLS with the bearer challenge.</summary>
public sealed class AzureKeyVaultStoreContractTests(AzureFakeFixture fixture) : SecretStoreContractTests, IClassFixture<AzureFakeFixture>
{
    protected override SecretStoreUri NewSecretUri() => SecretStoreUri.Parse($"azure-kv://testvault/c-{Guid.NewGuid():N}");

    protected override ISecretStore Open(SecretStoreUri uri) => AzureKeyVaultStoreTests.Open(fixture.Fake, fixture.Certificate, uri.Path);

    protected override IEnumerable<(string Name, string Text)> CapturedByBackend() => [("request log", string.Join('\n', fixture.Fake.Server.Requests))];
}
