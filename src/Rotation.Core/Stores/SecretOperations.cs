using Rotation.Core.Audit;
using Rotation.Core.Errors;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;

namespace Rotation.Core.Stores;

/// <summary>
/// The store operations behind Set-, Get-, Complete- and Undo-RotationSecret. Every state change appends one audit
/// record through <see cref="RotationServices.Audit"/> (event, target URI, fingerprint, run id; never the value),
/// also when it fails (success false, the error id and message), so the trail shows attempts as well as changes.
/// An audit write that fails throws AuditWriteFailed: a change without evidence must not look successful.
/// </summary>
public sealed class SecretOperations
{
    public const string SetEvent = "secret.set";
    public const string CompletedEvent = "secret.completed";
    public const string UndoneEvent = "secret.undone";

    private readonly RotationServices _services;
    private readonly StoreContext _context;

    /// <param name="services">Stores, audit sink, clock and the identity recorded as performed_by.</param>
    /// <param name="endpoint">An explicit store endpoint (-Endpoint); overrides environment endpoint variables.</param>
    public SecretOperations(RotationServices services, string? endpoint = null)
    {
        _services = services;
        _context = services.StoreContext.WithEndpoint(endpoint);
    }

    /// <summary>Constructs the operations with a cmdlet's -Endpoint: DESIGN.md's vocabulary types Endpoint as
    /// string[] (Redis nodes), so a store takes its one endpoint URL as a one-element array.</summary>
    public SecretOperations(RotationServices services, string[]? endpoint, string target)
        : this(services, SingleEndpoint(endpoint, target))
    {
    }

    public ISecretStore Open(string uri) => _services.Stores.Open(uri, _context);

    public static string? SingleEndpoint(string[]? endpoint, string target) => endpoint switch
    {
        null or [] => null,
        [var one] => one,
        _ => throw Errors.Errors.InvalidArgument(target, $"A store has one endpoint; -Endpoint for '{target}' names {endpoint.Length}. Give a single URL such as http://127.0.0.1:4566."),
    };

    /// <summary>Writes <paramref name="value"/> as Pending (a lease for <paramref name="runId"/>) or Current.</summary>
    public Task<RotationSecret> SetAsync(string uri, SecretValue value, SecretStage stage, string? runId = null, string? credentialType = null,
        string? clientRequestToken = null, CancellationToken cancellationToken = default) =>
        AuditedAsync(SetEvent, uri, runId, credentialType, AuditReason.Routine, value.Fingerprint, async store =>
            ToSecret(await store.PutAsync(value, stage, new SecretWriteOptions { RunId = runId, ClientRequestToken = clientRequestToken }, cancellationToken).ConfigureAwait(false), stage));

    public async Task<RotationSecret> GetAsync(string uri, SecretStage stage, CancellationToken cancellationToken = default) =>
        ToSecret(await Open(uri).GetAsync(stage, cancellationToken).ConfigureAwait(false), stage);

    /// <summary>Pending becomes Current; with <paramref name="expectedVersionId"/>, only that version, and a retry after
    /// success returns it again.</summary>
    public Task<RotationSecret> CompleteAsync(string uri, string? expectedVersionId = null, CancellationToken cancellationToken = default) =>
        AuditedAsync(CompletedEvent, uri, null, null, AuditReason.Routine, null, async store =>
            ToSecret(await store.CompleteAsync(expectedVersionId, cancellationToken).ConfigureAwait(false), SecretStage.Current));

    /// <summary>Previous becomes Current again (and the old Current becomes Previous).</summary>
    public Task<RotationSecret> UndoAsync(string uri, CancellationToken cancellationToken = default) =>
        AuditedAsync(UndoneEvent, uri, null, null, AuditReason.Rollback, null, async store =>
            ToSecret(await store.UndoAsync(cancellationToken).ConfigureAwait(false), SecretStage.Current));

    public static RotationSecret ToSecret(StoredSecret stored, SecretStage stage) => new()
    {
        Name = stored.Uri.Field is null ? stored.Uri.Path : $"{stored.Uri.Path}#{stored.Uri.Field}",
        Value = stored.Value.ToSecureString(),
        Fingerprint = stored.Fingerprint,
        CreatedAt = stored.CreatedAt,
        Uri = stored.Uri.Original,
        Stage = stage,
        VersionId = stored.VersionId,
        RunId = stored.RunId,
    };

    private async Task<RotationSecret> AuditedAsync(string auditEvent, string uri, string? runId, string? credentialType, AuditReason reason,
        string? attemptedFingerprint, Func<ISecretStore, Task<RotationSecret>> change)
    {
        var store = Open(uri);
        RotationSecret result;
        try
        {
            result = await change(store).ConfigureAwait(false);
        }
        catch (RotationException ex)
        {
            Audit(auditEvent, uri, runId, credentialType, reason, attemptedFingerprint, success: false,
                error: $"{ex.ErrorId}: {ex.Message}");
            throw;
        }
        Audit(auditEvent, uri, result.RunId ?? runId, credentialType, reason, result.Fingerprint, success: true, error: null);
        return result;
    }

    private void Audit(string auditEvent, string uri, string? runId, string? credentialType, AuditReason reason, string? fingerprint, bool success, string? error) =>
        _services.Audit.Write(new RotationAuditRecord
        {
            Timestamp = _services.Clock.GetUtcNow(),
            Event = auditEvent,
            CredentialType = credentialType ?? "secret",
            Target = uri,
            PerformedBy = _services.PerformedBy,
            Reason = reason,
            Success = success,
            RollbackRequired = false,
            RunId = runId,
            Fingerprint = fingerprint,
            Error = error,
        });
}
