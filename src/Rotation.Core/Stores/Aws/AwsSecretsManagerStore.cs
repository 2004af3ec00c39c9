using System.Text.Json;
using System.Text.Json.Nodes;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;

namespace Rotation.Core.Stores;

/// <summary>
/// <c>aws-sm://&lt;region&gt;/&lt;secret-id&gt;[#field]</c>: AWS Secrets Manager over its JSON 1.1 protocol
/// (<see cref="AwsSecretsManagerClient"/>). Stages are Secrets Manager's own labels: Current = AWSCURRENT, Pending =
/// AWSPENDING, Previous = AWSPREVIOUS, moved with UpdateSecretVersionStage (AWSPREVIOUS follows AWSCURRENT), and
/// always read by VersionStage.
///
/// Extra staging labels Rotation keeps on versions (visible in the console and in DescribeSecret):
/// - <c>rotation-run/&lt;run-id&gt;</c> on a version written by a run: the lease holder's name, readable by anyone
///   (and a label on the version itself, so it cannot drift from the version the way a secret-level tag could).
///   Removed again once the version has lost every AWS label, so it can be deprecated as usual.
/// - <c>rotation-lease</c> on exactly one version: the compare-and-swap token of the pending lease. It sits on the
///   Current version while no rotation runs. A Pending write moves it to its new version with
///   UpdateSecretVersionStage(RemoveFromVersionId = where it was seen), which Secrets Manager refuses when the label
///   has moved in the meantime, so of two agents exactly one wins; the loser gets RotationInProgress naming the
///   winner. Only the lease holder then moves AWSPENDING. Writes of Current move AWSCURRENT the same way
///   (RemoveFromVersionId = the Current that was seen), so a lost race is StoreWriteConflict, never a silent overwrite.
/// - <c>rotation-norun</c> on a version written without a run id while it has no AWS label yet (Secrets Manager
///   attaches AWSCURRENT to a version written with no label).
/// Idempotency: VersionId = ClientRequestToken, so a retried write finds its version and creates nothing; an
/// interrupted write (version made, labels not yet moved) is completed by the retry.
/// </summary>
public sealed class AwsSecretsManagerStore : ISecretStore
{
    public const string CurrentLabel = "AWSCURRENT";
    public const string PendingLabel = "AWSPENDING";
    public const string PreviousLabel = "AWSPREVIOUS";
    public const string LeaseLabel = "rotation-lease";
    public const string RunLabelPrefix = "rotation-run/";
    public const string NoRunLabel = "rotation-norun";

    private readonly AwsSecretsManagerClient _client;
    private readonly string _secretId;

    public AwsSecretsManagerStore(SecretStoreUri uri, StoreContext context)
    {
        if (uri.Scheme != SecretStoreUri.AwsSecretsManager)
        {
            throw new ArgumentException($"Not an aws-sm URI: {uri}", nameof(uri));
        }
        Uri = uri;
        _secretId = uri.Path;
        _client = new AwsSecretsManagerClient(uri.Authority, context, uri.Original);
    }

    public SecretStoreUri Uri { get; }

    /// <summary>The endpoint requests go to (after -Endpoint and the AWS_ENDPOINT_URL* variables).</summary>
    public Uri Endpoint => _client.Endpoint;

    private string Target => Uri.Original;

    public async Task<StoredSecret> GetAsync(SecretStage stage, CancellationToken cancellationToken = default)
    {
        try
        {
            var r = await CallAsync("GetSecretValue", new JsonObject { ["SecretId"] = _secretId, ["VersionStage"] = Label(stage) }, cancellationToken).ConfigureAwait(false);
            return ToStored(r);
        }
        catch (RotationException ex) when (ex.ErrorId == RotationErrorIds.SecretNotFound)
        {
            // Secrets Manager answers ResourceNotFoundException for a missing stage too: tell the two apart.
            if (await ListVersionsAsync(cancellationToken).ConfigureAwait(false) is null)
            {
                throw;
            }
            throw Errors.Errors.NotFound(RotationErrorIds.SecretStageNotFound, Target,
                $"The secret '{Target}' has no {stage} version ({Label(stage)}). Ask for another stage with -Stage, or write one with Set-RotationSecret.", ex);
        }
    }

    public async Task<SecretDescription> DescribeAsync(CancellationToken cancellationToken = default)
    {
        // DescribeSecret first: it answers a missing secret cleanly (moto's ListSecretVersionIds fails with a 500).
        var versions = await ListVersionsAsync(cancellationToken).ConfigureAwait(false) is null ? null : await ListAllVersionsAsync(cancellationToken).ConfigureAwait(false);
        return new SecretDescription
        {
            Uri = Uri,
            Exists = versions is not null,
            Versions = versions?.Select(v => new SecretVersionInfo { VersionId = v.Id, Stages = v.Stages, CreatedAt = v.Created, RunId = v.RunId }).ToList() ?? [],
        };
    }

    public async Task<StoredSecret> PutAsync(SecretValue value, SecretStage stage, SecretWriteOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        if (stage == SecretStage.Previous)
        {
            throw StoreErrors.PreviousNotWritable(Target);
        }
        var token = options.ClientRequestToken ?? Guid.NewGuid().ToString();
        for (var pass = 0; pass < 3; pass++)
        {
            var versions = await ListVersionsAsync(cancellationToken).ConfigureAwait(false);
            if (versions is not null)
            {
                return await PutExistingAsync(versions, value, stage, options, token, cancellationToken).ConfigureAwait(false);
            }
            if (stage == SecretStage.Current && await TryCreateWithValueAsync(value, options, token, cancellationToken).ConfigureAwait(false) is { } created)
            {
                return created;
            }
            if (stage == SecretStage.Pending)
            {
                await TryCreateAsync(new JsonObject { ["Name"] = _secretId }, options, cancellationToken).ConfigureAwait(false);
            }
        }
        throw new RotationException(RotationErrorIds.StoreWriteConflict, RotationErrorCategory.ResourceBusy, Target,
            $"The secret '{Target}' was created and removed again by someone else while it was being written. Nothing was written; retry.");
    }

    private async Task<StoredSecret> PutExistingAsync(List<AwsVersion> versions, SecretValue value, SecretStage stage, SecretWriteOptions options, string token, CancellationToken ct)
    {
        var text = value.ToStoreText();
        var mine = versions.FirstOrDefault(v => v.Id == token);
        if (mine is not null && mine.HasAwsStage)
        {
            // A retried write that already finished (or went on: completed, or a secret's first version, which is
            // Current from the start): return it, make nothing.
            var earlier = await GetVersionAsync(mine.Id, ct).ConfigureAwait(false);
            if (!earlier.Value.ValueEquals(value))
            {
                throw TokenReused();
            }
            return earlier;
        }

        var pending = versions.FirstOrDefault(v => v.Has(PendingLabel));
        var lease = versions.FirstOrDefault(v => v.Has(LeaseLabel));
        var holder = pending ?? (lease is { HasAwsStage: false } && lease.Id != token ? lease : null);
        if (holder is not null)
        {
            var sameRun = stage == SecretStage.Pending && options.RunId is not null && holder.RunId == options.RunId;
            if (!sameRun)
            {
                throw StoreErrors.InProgress(Target, holder.RunId);
            }
        }

        IReadOnlyList<string> labels;
        if (mine is null)
        {
            var put = await CallAsync("PutSecretValue", new JsonObject
            {
                ["SecretId"] = _secretId,
                ["ClientRequestToken"] = token,
                ["SecretString"] = text,
                ["VersionStages"] = new JsonArray(RunLabel(options.RunId)),
            }, ct).ConfigureAwait(false);
            labels = Strings(put, "VersionStages");
        }
        else
        {
            // An interrupted earlier attempt made the version; finish moving its labels (after checking its value).
            if (!(await GetVersionAsync(mine.Id, ct).ConfigureAwait(false)).Value.ValueEquals(value))
            {
                throw TokenReused();
            }
            labels = mine.Labels;
        }

        var current = versions.FirstOrDefault(v => v.Has(CurrentLabel));
        if (stage == SecretStage.Current)
        {
            if (!labels.Contains(CurrentLabel) && current is not null)
            {
                if (!await TryCompareAndMoveAsync(CurrentLabel, token, current.Id, ct).ConfigureAwait(false))
                {
                    throw new RotationException(RotationErrorIds.StoreWriteConflict, RotationErrorCategory.ResourceBusy, Target,
                        $"The current version of '{Target}' changed while a new one was being written. The new value was not made current; read the secret and retry.");
                }
                if (lease?.Id == current.Id)
                {
                    // Keep the free lease on Current, so it never strands on a version about to lose its labels.
                    await TryCompareAndMoveAsync(LeaseLabel, token, current.Id, ct).ConfigureAwait(false);
                }
            }
            else if (lease is null)
            {
                await TryMoveAsync(LeaseLabel, token, null, ct).ConfigureAwait(false);
            }
            await DropRotationLabelsAsync(versions.FirstOrDefault(v => v.Has(PreviousLabel) && v.Id != token), ct).ConfigureAwait(false);
            return Stored(token, [SecretStage.Current], value, options.RunId);
        }

        // Pending: win the lease first (compare-and-swap), then move AWSPENDING.
        var leaseAt = lease?.Id;
        if (leaseAt is null)
        {
            // A secret made outside Rotation: put the free lease on its Current version (or on this, its first version).
            leaseAt = current?.Id ?? token;
            await TryMoveAsync(LeaseLabel, leaseAt, null, ct).ConfigureAwait(false);
        }
        if (leaseAt != token)
        {
            if (!await TryCompareAndMoveAsync(LeaseLabel, token, leaseAt, ct).ConfigureAwait(false))
            {
                await DropRotationLabelsAsync(new AwsVersion(token, labels, null), ct).ConfigureAwait(false);
                var now = await ListVersionsAsync(ct).ConfigureAwait(false) ?? [];
                var winner = now.FirstOrDefault(v => v.Has(PendingLabel)) ?? now.FirstOrDefault(v => v.Has(LeaseLabel) && !v.HasAwsStage);
                throw winner is not null
                    ? StoreErrors.InProgress(Target, winner.RunId)
                    : new RotationException(RotationErrorIds.StoreWriteConflict, RotationErrorCategory.ResourceBusy, Target,
                        $"'{Target}' changed while a pending value was being written (another agent wrote or completed it). Nothing was staged; read the secret and retry.");
            }
        }
        if (pending?.Id != token)
        {
            if (!await TryCompareAndMoveAsync(PendingLabel, token, pending?.Id, ct).ConfigureAwait(false))
            {
                throw new RotationException(RotationErrorIds.StoreWriteConflict, RotationErrorCategory.ResourceBusy, Target,
                    $"The pending version of '{Target}' changed although this run holds its lease. Inspect the secret's labels before retrying.");
            }
        }
        if (pending is not null && pending.Id != token && !pending.Has(CurrentLabel) && !pending.Has(PreviousLabel))
        {
            await DropRotationLabelsAsync(pending, ct).ConfigureAwait(false);
        }
        var stages = labels.Contains(CurrentLabel) ? new[] { SecretStage.Pending, SecretStage.Current } : [SecretStage.Pending];
        return Stored(token, stages, value, options.RunId);
    }

    public async Task<StoredSecret> CompleteAsync(string? expectedVersionId = null, CancellationToken cancellationToken = default)
    {
        var versions = await ListVersionsAsync(cancellationToken).ConfigureAwait(false) ?? throw NotFound();
        var pending = versions.FirstOrDefault(v => v.Has(PendingLabel));
        var current = versions.FirstOrDefault(v => v.Has(CurrentLabel));
        if (pending is null)
        {
            if (expectedVersionId is not null && current?.Id == expectedVersionId)
            {
                return await GetAsync(SecretStage.Current, cancellationToken).ConfigureAwait(false);
            }
            throw StoreErrors.NoPending(Target);
        }
        if (expectedVersionId is not null && pending.Id != expectedVersionId)
        {
            throw StoreErrors.PendingMismatch(Target, expectedVersionId);
        }
        // AWSCURRENT first: a crash between the two moves leaves the version Current and Pending, which a retry finishes.
        if (current?.Id != pending.Id)
        {
            if (!await TryCompareAndMoveAsync(CurrentLabel, pending.Id, current?.Id, cancellationToken).ConfigureAwait(false))
            {
                throw new RotationException(RotationErrorIds.StoreWriteConflict, RotationErrorCategory.ResourceBusy, Target,
                    $"The current version of '{Target}' changed while the pending one was being promoted. Nothing was promoted; read the secret and retry.");
            }
        }
        await TryMoveAsync(PendingLabel, null, pending.Id, cancellationToken).ConfigureAwait(false);
        await DropRotationLabelsAsync(versions.FirstOrDefault(v => v.Has(PreviousLabel) && v.Id != pending.Id && v.Id != current?.Id), cancellationToken).ConfigureAwait(false);
        return await GetAsync(SecretStage.Current, cancellationToken).ConfigureAwait(false);
    }

    public async Task<StoredSecret> UndoAsync(CancellationToken cancellationToken = default)
    {
        var versions = await ListVersionsAsync(cancellationToken).ConfigureAwait(false) ?? throw NotFound();
        var previous = versions.FirstOrDefault(v => v.Has(PreviousLabel)) ?? throw StoreErrors.NoPrevious(Target);
        var current = versions.FirstOrDefault(v => v.Has(CurrentLabel));
        if (!await TryCompareAndMoveAsync(CurrentLabel, previous.Id, current?.Id, cancellationToken).ConfigureAwait(false))
        {
            throw new RotationException(RotationErrorIds.StoreWriteConflict, RotationErrorCategory.ResourceBusy, Target,
                $"The current version of '{Target}' changed while it was being rolled back. Nothing was changed; read the secret and retry.");
        }
        if (current is not null && current.Has(LeaseLabel) && !versions.Any(v => v.Has(PendingLabel)))
        {
            await TryCompareAndMoveAsync(LeaseLabel, previous.Id, current.Id, cancellationToken).ConfigureAwait(false);
        }
        return await GetAsync(SecretStage.Current, cancellationToken).ConfigureAwait(false);
    }

    public async Task CancelPendingAsync(string? runId = null, CancellationToken cancellationToken = default)
    {
        var versions = await ListVersionsAsync(cancellationToken).ConfigureAwait(false);
        if (versions is null)
        {
            return;
        }
        var pending = versions.FirstOrDefault(v => v.Has(PendingLabel));
        var lease = versions.FirstOrDefault(v => v.Has(LeaseLabel));
        var held = pending ?? (lease is { HasAwsStage: false } ? lease : null);
        if (held is null || (runId is not null && held.RunId != runId))
        {
            return;
        }
        if (pending is not null)
        {
            await TryMoveAsync(PendingLabel, null, pending.Id, cancellationToken).ConfigureAwait(false);
        }
        var current = versions.FirstOrDefault(v => v.Has(CurrentLabel));
        if (lease is not null && current is not null && lease.Id != current.Id)
        {
            await TryCompareAndMoveAsync(LeaseLabel, current.Id, lease.Id, cancellationToken).ConfigureAwait(false);
        }
        if (!held.Has(CurrentLabel) && !held.Has(PreviousLabel))
        {
            await DropRotationLabelsAsync(held, cancellationToken).ConfigureAwait(false);
        }
    }

    // ---- labels

    /// <summary>
    /// Moves <paramref name="label"/> to <paramref name="moveTo"/>, removing it from <paramref name="removeFrom"/>;
    /// Secrets Manager refuses when the label is no longer where we saw it (the compare-and-swap). A refusal is
    /// checked against the state, so a retried request that had already succeeded counts as success. False: lost.
    /// </summary>
    private async Task<bool> TryCompareAndMoveAsync(string label, string moveTo, string? removeFrom, CancellationToken ct)
    {
        try
        {
            await MoveAsync(label, moveTo, removeFrom, ct).ConfigureAwait(false);
            return true;
        }
        catch (AwsErrorException ex) when (ex.Type is "InvalidParameterException" or "InvalidRequestException")
        {
            var now = await ListVersionsAsync(ct).ConfigureAwait(false);
            return now?.FirstOrDefault(v => v.Id == moveTo)?.Has(label) == true && now.Count(v => v.Has(label)) == 1;
        }
    }

    private async Task TryMoveAsync(string label, string? moveTo, string? removeFrom, CancellationToken ct)
    {
        try
        {
            await MoveAsync(label, moveTo, removeFrom, ct).ConfigureAwait(false);
        }
        catch (AwsErrorException ex) when (ex.Type is "InvalidParameterException" or "InvalidRequestException")
        {
            // Already where it should be (a retry after success, or a concurrent identical move).
        }
    }

    private Task MoveAsync(string label, string? moveTo, string? removeFrom, CancellationToken ct)
    {
        var body = new JsonObject { ["SecretId"] = _secretId, ["VersionStage"] = label };
        if (moveTo is not null)
        {
            body["MoveToVersionId"] = moveTo;
        }
        if (removeFrom is not null)
        {
            body["RemoveFromVersionId"] = removeFrom;
        }
        return CallAsync("UpdateSecretVersionStage", body, ct);
    }

    /// <summary>Removes Rotation's run labels from a version that has lost (or is losing) its AWS labels, so Secrets
    /// Manager can deprecate it as usual. Best effort: a leftover label only keeps an old version listed.</summary>
    private async Task DropRotationLabelsAsync(AwsVersion? version, CancellationToken ct)
    {
        if (version is null)
        {
            return;
        }
        foreach (var label in version.Labels.Where(l => l.StartsWith(RunLabelPrefix, StringComparison.Ordinal) || l == NoRunLabel).ToList())
        {
            await TryMoveAsync(label, null, version.Id, ct).ConfigureAwait(false);
        }
    }

    // ---- creation

    private async Task<StoredSecret?> TryCreateWithValueAsync(SecretValue value, SecretWriteOptions options, string token, CancellationToken ct)
    {
        var body = new JsonObject { ["Name"] = _secretId, ["ClientRequestToken"] = token, ["SecretString"] = value.ToStoreText() };
        if (!await TryCreateAsync(body, options, ct).ConfigureAwait(false))
        {
            return null;
        }
        // The creator places the free lease (and the run label) on the first version before anyone else can race for it.
        await TryMoveAsync(LeaseLabel, token, null, ct).ConfigureAwait(false);
        if (options.RunId is not null)
        {
            await TryMoveAsync(RunLabel(options.RunId), token, null, ct).ConfigureAwait(false);
        }
        return Stored(token, [SecretStage.Current], value, options.RunId);
    }

    /// <summary>CreateSecret; false when the secret already exists (someone else created it, or a retry).</summary>
    private async Task<bool> TryCreateAsync(JsonObject body, SecretWriteOptions options, CancellationToken ct)
    {
        if (options.Description is not null)
        {
            body["Description"] = options.Description;
        }
        try
        {
            await CallAsync("CreateSecret", body, ct).ConfigureAwait(false);
            return true;
        }
        catch (AwsErrorException ex) when (ex.Type == "ResourceExistsException")
        {
            return false;
        }
    }

    // ---- reads

    /// <summary>
    /// The labelled versions (DescribeSecret's VersionIdsToStages), or null when the secret does not exist. The
    /// store's decisions read this: one call, and it answers a missing secret cleanly on every implementation.
    /// </summary>
    private async Task<List<AwsVersion>?> ListVersionsAsync(CancellationToken ct)
    {
        JsonElement described;
        try
        {
            described = await _client.CallAsync("DescribeSecret", new JsonObject { ["SecretId"] = _secretId }, ct).ConfigureAwait(false);
        }
        catch (AwsErrorException ex) when (ex.Type == "ResourceNotFoundException")
        {
            return null;
        }
        catch (AwsErrorException ex)
        {
            throw Map(ex);
        }
        var result = new List<AwsVersion>();
        if (described.TryGetProperty("VersionIdsToStages", out var map) && map.ValueKind == JsonValueKind.Object)
        {
            foreach (var v in map.EnumerateObject())
            {
                result.Add(new AwsVersion(v.Name, v.Value.EnumerateArray().Select(x => x.GetString()!).Distinct().ToList(), null));
            }
        }
        return result;
    }

    /// <summary>Every version including deprecated ones, with creation dates (ListSecretVersionIds, all pages).</summary>
    private async Task<List<AwsVersion>> ListAllVersionsAsync(CancellationToken ct)
    {
        var result = new List<AwsVersion>();
        string? next = null;
        do
        {
            var body = new JsonObject { ["SecretId"] = _secretId, ["IncludeDeprecated"] = true, ["MaxResults"] = 100 };
            if (!string.IsNullOrEmpty(next))
            {
                body["NextToken"] = next;
            }
            var page = await CallAsync("ListSecretVersionIds", body, ct).ConfigureAwait(false);
            if (page.TryGetProperty("Versions", out var versions))
            {
                foreach (var v in versions.EnumerateArray())
                {
                    result.Add(new AwsVersion(v.GetProperty("VersionId").GetString()!, Strings(v, "VersionStages").Distinct().ToList(), Date(v, "CreatedDate")));
                }
            }
            next = page.TryGetProperty("NextToken", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        }
        while (!string.IsNullOrEmpty(next));
        return result;
    }

    private async Task<StoredSecret> GetVersionAsync(string versionId, CancellationToken ct) =>
        ToStored(await CallAsync("GetSecretValue", new JsonObject { ["SecretId"] = _secretId, ["VersionId"] = versionId }, ct).ConfigureAwait(false));

    private StoredSecret ToStored(JsonElement r)
    {
        if (!r.TryGetProperty("SecretString", out var s) || s.ValueKind != JsonValueKind.String)
        {
            throw new RotationException(RotationErrorIds.SecretShapeInvalid, RotationErrorCategory.InvalidData, Target,
                $"The secret '{Target}' holds a binary value (SecretBinary); Rotation reads and writes SecretString values only.");
        }
        var version = new AwsVersion(r.GetProperty("VersionId").GetString()!, Strings(r, "VersionStages"), Date(r, "CreatedDate"));
        return new StoredSecret
        {
            Uri = Uri,
            VersionId = version.Id,
            Stages = version.Stages,
            Value = SecretValue.FromText(s.GetString()!),
            CreatedAt = version.Created,
            RunId = version.RunId,
        };
    }

    private StoredSecret Stored(string versionId, IReadOnlyList<SecretStage> stages, SecretValue value, string? runId) => new()
    {
        Uri = Uri,
        VersionId = versionId,
        Stages = stages,
        Value = value,
        CreatedAt = null,
        RunId = runId,
    };

    private async Task<JsonElement> CallAsync(string operation, JsonObject body, CancellationToken ct)
    {
        try
        {
            return await _client.CallAsync(operation, body, ct).ConfigureAwait(false);
        }
        catch (AwsErrorException ex) when (ex.Type != "InvalidParameterException" && ex.Type != "InvalidRequestException" && ex.Type != "ResourceExistsException")
        {
            throw Map(ex);
        }
    }

    private RotationException Map(AwsErrorException ex) => ex.Type == "ResourceNotFoundException"
        ? NotFound(ex)
        : new RotationException(RotationErrorIds.StoreRequestFailed, RotationErrorCategory.InvalidOperation, Target,
            $"AWS Secrets Manager refused {ex.Operation} on '{Target}' (HTTP {ex.Status} {ex.Type}: {ex.Detail}).", ex);

    private RotationException NotFound(Exception? inner = null) =>
        Errors.Errors.NotFound(RotationErrorIds.SecretNotFound, Target,
            $"The secret '{_secretId}' does not exist in AWS Secrets Manager ({_client.Region}, {_client.Endpoint.Host}). Write it first with Set-RotationSecret -Uri '{Target}', or check the region, the secret id and the endpoint.", inner);

    private RotationException TokenReused() =>
        new(RotationErrorIds.StoreWriteConflict, RotationErrorCategory.ResourceExists, Target,
            $"A version of '{Target}' was already written with this ClientRequestToken but holds a different value. A retry must send the same value; use a new token for a new value.");

    private static string RunLabel(string? runId) => runId is null ? NoRunLabel : RunLabelPrefix + runId;

    private static string Label(SecretStage stage) => stage switch
    {
        SecretStage.Current => CurrentLabel,
        SecretStage.Pending => PendingLabel,
        _ => PreviousLabel,
    };

    private static IReadOnlyList<string> Strings(JsonElement e, string name) =>
        e.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array ? a.EnumerateArray().Select(x => x.GetString()!).ToList() : [];

    private static DateTimeOffset? Date(JsonElement e, string name) =>
        e.TryGetProperty(name, out var d) && d.ValueKind == JsonValueKind.Number ? DateTimeOffset.FromUnixTimeMilliseconds((long)(d.GetDouble() * 1000)) : null;

    private sealed record AwsVersion(string Id, IReadOnlyList<string> Labels, DateTimeOffset? Created)
    {
        public bool Has(string label) => Labels.Contains(label);

        public bool HasAwsStage => Has(CurrentLabel) || Has(PendingLabel) || Has(PreviousLabel);

        public string? RunId => Labels.FirstOrDefault(l => l.StartsWith(RunLabelPrefix, StringComparison.Ordinal))?[RunLabelPrefix.Length..];

        public IReadOnlyList<SecretStage> Stages =>
            [.. new[] { (CurrentLabel, SecretStage.Current), (PendingLabel, SecretStage.Pending), (PreviousLabel, SecretStage.Previous) }
                .Where(p => Has(p.Item1)).Select(p => p.Item2)];
    }
}
