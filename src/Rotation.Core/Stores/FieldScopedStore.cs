using Rotation.Core.Errors;
using Rotation.Core.Secrets;

namespace Rotation.Core.Stores;

/// <summary>
/// Gives any store <c>#field</c> addressing: a read returns one field of the JSON document, a write sets that field
/// and keeps the others (read-modify-write under the backend's own optimistic concurrency).
/// </summary>
public sealed class FieldScopedStore : ISecretStore
{
    private readonly ISecretStore _inner;
    private readonly string _field;

    public FieldScopedStore(SecretStoreUri uri, ISecretStore inner)
    {
        Uri = uri;
        _inner = inner;
        _field = uri.Field ?? throw new ArgumentException("The URI names no field.", nameof(uri));
    }

    public SecretStoreUri Uri { get; }

    public async Task<StoredSecret> GetAsync(SecretStage stage, CancellationToken cancellationToken = default) =>
        Scope(await _inner.GetAsync(stage, cancellationToken).ConfigureAwait(false));

    public Task<SecretDescription> DescribeAsync(CancellationToken cancellationToken = default) => _inner.DescribeAsync(cancellationToken);

    public async Task<StoredSecret> PutAsync(SecretValue value, SecretStage stage, SecretWriteOptions options, CancellationToken cancellationToken = default)
    {
        if (value.IsFields)
        {
            throw Errors.Errors.InvalidArgument(Uri.Original, $"'{Uri}' addresses the single field '{_field}'; write a single string to it, or address the whole secret without '#{_field}'.");
        }
        var description = await _inner.DescribeAsync(cancellationToken).ConfigureAwait(false);
        SecretValue document = SecretValue.FromFields(new Dictionary<string, string>());
        if (description.Exists)
        {
            // A pending document of this same run is the base (a second field of one rotation); otherwise Current.
            var baseStage = stage == SecretStage.Pending && description.HasPending && description.PendingRunId == options.RunId && options.RunId is not null
                ? SecretStage.Pending
                : SecretStage.Current;
            if (description.Versions.Any(v => v.Stages.Contains(baseStage)))
            {
                document = (await _inner.GetAsync(baseStage, cancellationToken).ConfigureAwait(false)).Value;
            }
        }
        var merged = document.WithField(_field, value.Text, Uri.Original);
        return Scope(await _inner.PutAsync(merged, stage, options, cancellationToken).ConfigureAwait(false));
    }

    public async Task<StoredSecret> CompleteAsync(string? expectedVersionId = null, CancellationToken cancellationToken = default) =>
        Scope(await _inner.CompleteAsync(expectedVersionId, cancellationToken).ConfigureAwait(false));

    public async Task<StoredSecret> UndoAsync(CancellationToken cancellationToken = default) =>
        Scope(await _inner.UndoAsync(cancellationToken).ConfigureAwait(false));

    public Task CancelPendingAsync(string? runId = null, CancellationToken cancellationToken = default) => _inner.CancelPendingAsync(runId, cancellationToken);

    private StoredSecret Scope(StoredSecret s) => new()
    {
        Uri = Uri,
        VersionId = s.VersionId,
        Stages = s.Stages,
        CreatedAt = s.CreatedAt,
        RunId = s.RunId,
        Value = SecretValue.FromText(s.Value.GetField(_field, Uri.Original)),
    };
}
