using Rotation.Core.Audit;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

namespace Rotation.Core.Tests.Jwt;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public static ManualClock At2026() => new(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

internal sealed class ListAuditSink : IAuditSink
{
    public List<RotationAuditRecord> Records { get; } = [];

    public void Write(RotationAuditRecord record)
    {
        lock (Records)
        {
            Records.Add(record);
        }
    }

    public string AsText() => string.Join("\n", Records.Select(r => System.Text.Json.JsonSerializer.Serialize(r)));
}

/// <summary>
/// A small in-memory store keeping ISecretStore's documented contract (stages, the Pending lease, Complete with an
/// expected version, Undo swap), enough to test the ring's compare-and-swap without a backend.
/// </summary>
internal sealed class InMemorySecretStore : ISecretStore
{
    private readonly object _gate = new();
    private readonly List<Version> _versions = [];
    private int _counter;

    public InMemorySecretStore(string uri = "file:///tmp/test.json#jwt-ring") => Uri = SecretStoreUri.Parse(uri);

    public SecretStoreUri Uri { get; }

    public int Writes { get; private set; }

    /// <summary>Runs once, just before the next Complete: lets a test slip a concurrent write in.</summary>
    public Action? BeforeComplete { get; set; }

    public string? CurrentVersionId
    {
        get
        {
            lock (_gate)
            {
                return _versions.FirstOrDefault(v => v.Stages.Contains(SecretStage.Current))?.Id;
            }
        }
    }

    public string CurrentText
    {
        get
        {
            lock (_gate)
            {
                return _versions.First(v => v.Stages.Contains(SecretStage.Current)).Value.ToStoreText();
            }
        }
    }

    /// <summary>Overwrites Current in place, as a hand edit of the document would.</summary>
    public void Tamper(Func<string, string> edit)
    {
        lock (_gate)
        {
            var v = _versions.First(x => x.Stages.Contains(SecretStage.Current));
            v.Value = SecretValue.FromText(edit(v.Value.ToStoreText()));
        }
    }

    public Task<StoredSecret> GetAsync(SecretStage stage, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_versions.Count == 0)
            {
                throw Errors.Errors.NotFound(RotationErrorIds.SecretNotFound, Uri.Original, $"The secret '{Uri}' does not exist.");
            }
            var v = _versions.FirstOrDefault(x => x.Stages.Contains(stage))
                ?? throw Errors.Errors.NotFound(RotationErrorIds.SecretStageNotFound, Uri.Original, $"No {stage} version of '{Uri}'.");
            return Task.FromResult(Stored(v));
        }
    }

    public Task<SecretDescription> DescribeAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(new SecretDescription
            {
                Uri = Uri,
                Exists = _versions.Count > 0,
                Versions = _versions.Select(v => new SecretVersionInfo { VersionId = v.Id, Stages = v.Stages.ToList(), RunId = v.RunId, CreatedAt = v.Created, Fingerprint = v.Value.Fingerprint }).ToList(),
            });
        }
    }

    public Task<StoredSecret> PutAsync(SecretValue value, SecretStage stage, SecretWriteOptions options, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var pending = _versions.FirstOrDefault(x => x.Stages.Contains(SecretStage.Pending));
            if (pending is not null && (stage == SecretStage.Current || pending.RunId != options.RunId))
            {
                throw Errors.Errors.InProgress(Uri.Original, pending.RunId ?? "unknown");
            }
            if (pending is not null)
            {
                pending.Stages.Remove(SecretStage.Pending);
            }
            var v = new Version($"v{++_counter}", value, options.RunId, DateTimeOffset.UtcNow);
            Writes++;
            if (stage == SecretStage.Current)
            {
                Promote(v);
            }
            else
            {
                v.Stages.Add(stage);
            }
            _versions.Add(v);
            return Task.FromResult(Stored(v));
        }
    }

    public Task<StoredSecret> CompleteAsync(string? expectedVersionId = null, CancellationToken cancellationToken = default)
    {
        var hook = BeforeComplete;
        BeforeComplete = null;
        hook?.Invoke();
        lock (_gate)
        {
            var pending = _versions.FirstOrDefault(x => x.Stages.Contains(SecretStage.Pending));
            if (pending is null)
            {
                var current = _versions.FirstOrDefault(x => x.Stages.Contains(SecretStage.Current));
                return current is not null && current.Id == expectedVersionId
                    ? Task.FromResult(Stored(current))
                    : throw new RotationException(RotationErrorIds.NoPendingVersion, RotationErrorCategory.InvalidOperation, Uri.Original, "No pending version.");
            }
            if (expectedVersionId is not null && pending.Id != expectedVersionId)
            {
                throw new RotationException(RotationErrorIds.StoreWriteConflict, RotationErrorCategory.ResourceBusy, Uri.Original, "The pending version changed.");
            }
            pending.Stages.Remove(SecretStage.Pending);
            Promote(pending);
            return Task.FromResult(Stored(pending));
        }
    }

    public Task<StoredSecret> UndoAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task CancelPendingAsync(string? runId = null, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var pending = _versions.FirstOrDefault(x => x.Stages.Contains(SecretStage.Pending));
            if (pending is not null && (runId is null || pending.RunId == runId))
            {
                _versions.Remove(pending);
            }
        }
        return Task.CompletedTask;
    }

    private void Promote(Version v)
    {
        foreach (var old in _versions)
        {
            old.Stages.Remove(SecretStage.Previous);
        }
        var current = _versions.FirstOrDefault(x => x.Stages.Contains(SecretStage.Current));
        if (current is not null)
        {
            current.Stages.Remove(SecretStage.Current);
            current.Stages.Add(SecretStage.Previous);
        }
        v.Stages.Add(SecretStage.Current);
    }

    private StoredSecret Stored(Version v) => new() { Uri = Uri, VersionId = v.Id, Stages = v.Stages.ToList(), Value = v.Value, RunId = v.RunId, CreatedAt = v.Created };

    private sealed class Version(string id, SecretValue value, string? runId, DateTimeOffset created)
    {
        public string Id { get; } = id;
        public SecretValue Value { get; set; } = value;
        public string? RunId { get; } = runId;
        public DateTimeOffset Created { get; } = created;
        public HashSet<SecretStage> Stages { get; } = [];
    }
}

/// <summary>A ring in an in-memory store with a manual clock and a captured audit log.</summary>
internal sealed class RingFixture
{
    public ManualClock Clock { get; } = ManualClock.At2026();
    public InMemorySecretStore Store { get; } = new();
    public ListAuditSink Audit { get; } = new();
    public Rotation.Core.Jwt.JwtKeyRingManager Manager { get; }

    public RingFixture() => Manager = new Rotation.Core.Jwt.JwtKeyRingManager(Store, Audit, Clock, "tester");

    public Rotation.Core.Jwt.JwtKey NewKey(Rotation.Core.Jwt.JwtAlgorithm alg, string? kid = null) => Rotation.Core.Jwt.JwtKeyFactory.New(alg, Clock, kid);

    /// <summary>Builds a token with the key as a real issuer would (Microsoft.IdentityModel), times from the manual clock.</summary>
    public string Sign(Rotation.Core.Jwt.JwtKey key, TimeSpan lifetime, bool includeKid = true)
    {
        var now = Clock.GetUtcNow().UtcDateTime;
        var descriptor = new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Subject = new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim("sub", "user-1")]),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = Rotation.Core.Jwt.JwtKeyCrypto.SigningCredentials(key, includeKid),
        };
        return new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    public async Task<Rotation.Core.Jwt.JwtTokenTestResult> Test(string token)
    {
        var ring = await Manager.GetAsync();
        return await new Rotation.Core.Jwt.JwtTokenVerifier(ring, Clock).TestAsync(token);
    }
}
