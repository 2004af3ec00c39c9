using System.Globalization;
using Rotation.Core.Errors;

namespace Rotation.Core.Stores.Staging;

/// <summary>
/// Rotation's stage labels for a backend without native labels (Google, Azure, Vault): which version id is
/// Current, Pending and Previous, which run wrote each, and the last idempotency token. It is kept as a flat
/// string map (secret annotations, version tags, Vault custom_metadata) so one write moves every label at once.
/// Keys use only [a-z-] so they are valid annotation keys, tag names and custom_metadata keys alike.
/// </summary>
internal sealed record StageLedger
{
    public const string Prefix = "rotation-";
    private const string CurrentKey = Prefix + "current";
    private const string PendingKey = Prefix + "pending";
    private const string PreviousKey = Prefix + "previous";
    private const string CurrentRunKey = Prefix + "current-run";
    private const string PendingRunKey = Prefix + "pending-run";
    private const string PreviousRunKey = Prefix + "previous-run";
    private const string TokenKey = Prefix + "token";
    private const string TokenVersionKey = Prefix + "token-version";
    private const string SeqKey = Prefix + "seq";

    public static readonly StageLedger Empty = new();

    public string? Current { get; init; }
    public string? Pending { get; init; }
    public string? Previous { get; init; }
    public string? CurrentRunId { get; init; }
    public string? PendingRunId { get; init; }
    public string? PreviousRunId { get; init; }

    /// <summary>The ClientRequestToken of the last write and the version it created (a retry returns that version).</summary>
    public string? Token { get; init; }
    public string? TokenVersion { get; init; }

    /// <summary>Increases with every ledger write: orders ledgers where the backend has no etag (Azure tags).</summary>
    public long Seq { get; init; }

    public string? VersionOf(SecretStage stage) => stage switch
    {
        SecretStage.Current => Current,
        SecretStage.Pending => Pending,
        _ => Previous,
    };

    public string? RunOf(SecretStage stage) => stage switch
    {
        SecretStage.Current => CurrentRunId,
        SecretStage.Pending => PendingRunId,
        _ => PreviousRunId,
    };

    public IReadOnlyList<SecretStage> StagesOf(string versionId)
    {
        var stages = new List<SecretStage>(1);
        foreach (var s in (SecretStage[])[SecretStage.Current, SecretStage.Pending, SecretStage.Previous])
        {
            if (VersionOf(s) == versionId)
            {
                stages.Add(s);
            }
        }
        return stages;
    }

    public string? RunOfVersion(string versionId) =>
        Pending == versionId ? PendingRunId : Current == versionId ? CurrentRunId : Previous == versionId ? PreviousRunId : null;

    /// <summary>Version ids carrying any label.</summary>
    public IEnumerable<string> Labelled() => new[] { Current, Pending, Previous }.OfType<string>().Distinct(StringComparer.Ordinal);

    /// <summary>Pending written (or replaced) by a run.</summary>
    public StageLedger WithPending(string versionId, string? runId, string? token) => this with
    {
        Pending = versionId,
        PendingRunId = runId,
        Token = token ?? Token,
        TokenVersion = token is null ? TokenVersion : versionId,
        Seq = Seq + 1,
    };

    /// <summary>A new Current written directly: the old Current becomes Previous.</summary>
    public StageLedger WithCurrent(string versionId, string? runId, string? token) => this with
    {
        Previous = Current ?? Previous,
        PreviousRunId = Current is null ? PreviousRunId : CurrentRunId,
        Current = versionId,
        CurrentRunId = runId,
        Token = token ?? Token,
        TokenVersion = token is null ? TokenVersion : versionId,
        Seq = Seq + 1,
    };

    public StageLedger Completed() => this with
    {
        Previous = Current ?? Previous,
        PreviousRunId = Current is null ? PreviousRunId : CurrentRunId,
        Current = Pending,
        CurrentRunId = PendingRunId,
        Pending = null,
        PendingRunId = null,
        Seq = Seq + 1,
    };

    public StageLedger Undone() => this with
    {
        Current = Previous,
        CurrentRunId = PreviousRunId,
        Previous = Current,
        PreviousRunId = CurrentRunId,
        Seq = Seq + 1,
    };

    public StageLedger WithoutPending() => this with { Pending = null, PendingRunId = null, Seq = Seq + 1 };

    /// <summary>Replaces a placeholder version id (a ledger written together with the version it names).</summary>
    public StageLedger Resolve(string placeholder, string versionId)
    {
        string? R(string? v) => v == placeholder ? versionId : v;
        return this with { Current = R(Current), Pending = R(Pending), Previous = R(Previous), TokenVersion = R(TokenVersion) };
    }

    /// <summary>The ledger as string entries; absent labels are left out, so a writer can replace all rotation-* keys.</summary>
    public Dictionary<string, string> ToMap()
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal) { [SeqKey] = Seq.ToString(CultureInfo.InvariantCulture) };
        void Put(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                map[key] = value;
            }
        }
        Put(CurrentKey, Current);
        Put(PendingKey, Pending);
        Put(PreviousKey, Previous);
        Put(CurrentRunKey, CurrentRunId);
        Put(PendingRunKey, PendingRunId);
        Put(PreviousRunKey, PreviousRunId);
        Put(TokenKey, Token);
        Put(TokenVersionKey, TokenVersion);
        return map;
    }

    /// <summary>Merges the ledger into a backend's map, keeping foreign entries (someone else's annotations or tags).</summary>
    public Dictionary<string, string> MergeInto(IReadOnlyDictionary<string, string>? existing)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (existing is not null)
        {
            foreach (var (k, v) in existing)
            {
                if (!k.StartsWith(Prefix, StringComparison.Ordinal))
                {
                    map[k] = v;
                }
            }
        }
        foreach (var (k, v) in ToMap())
        {
            map[k] = v;
        }
        return map;
    }

    /// <summary>True when the map carries a ledger at all (Azure: only some versions do).</summary>
    public static bool IsPresent(IReadOnlyDictionary<string, string>? map) => map is not null && map.ContainsKey(SeqKey);

    public static StageLedger FromMap(IReadOnlyDictionary<string, string>? map, string target)
    {
        if (map is null || !map.ContainsKey(SeqKey))
        {
            return Empty;
        }
        string? Get(string key) => map.TryGetValue(key, out var v) && v.Length > 0 ? v : null;
        if (!long.TryParse(map[SeqKey], NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
        {
            throw new RotationException(RotationErrorIds.StoreDocumentMalformed, RotationErrorCategory.InvalidData, target,
                $"The rotation labels on '{target}' are damaged ('{SeqKey}' is not a number). Inspect the secret's " +
                $"{Prefix}* annotations, tags or metadata and repair or remove them.");
        }
        var ledger = new StageLedger
        {
            Seq = seq,
            Current = Get(CurrentKey),
            Pending = Get(PendingKey),
            Previous = Get(PreviousKey),
            CurrentRunId = Get(CurrentRunKey),
            PendingRunId = Get(PendingRunKey),
            PreviousRunId = Get(PreviousRunKey),
            Token = Get(TokenKey),
            TokenVersion = Get(TokenVersionKey),
        };
        return ledger;
    }
}
