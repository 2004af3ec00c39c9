using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;

namespace Rotation.Core.Jwt;

/// <summary>
/// The ring's JSON document. The "integrity" member is "sha256:" + the SHA-256 (hex) of the canonical document
/// without it (this serializer's compact output, members in a fixed order). What it protects against: accidental or
/// naive edits (a hand-changed status, a pasted key, a truncated copy) are detected as JwtKeyRingTampered instead of
/// silently changing which key signs. What it does not: anyone who can write the secret can also recompute the hash,
/// so it is not a signature and gives no protection against an attacker with write access to the store; the store's
/// own access control does that.
/// </summary>
internal static class JwtKeyRingSerializer
{
    public const string Format = "rotation.jwt-key-ring/1";

    private static readonly JsonSerializerOptions Options = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = false,
    };

    public static string Serialize(JwtKeyRing ring, DateTimeOffset updatedAt)
    {
        var doc = ToDocument(ring, updatedAt);
        doc.Integrity = IntegrityOf(doc);
        return JsonSerializer.Serialize(doc, Options);
    }

    public static JwtKeyRing Deserialize(string text, string uri, string? versionId)
    {
        RingDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize<RingDocument>(text, Options);
        }
        catch (JsonException ex)
        {
            // The JsonException message can quote the document (key material): keep only its position.
            throw JwtKeyFactory.Invalid(uri, $"The secret '{uri}' is not a JWT key ring document (invalid JSON or unknown members near line {ex.LineNumber + 1}). Create a ring with New-JwtSigningKey | Add-JwtSigningKey -Uri {uri} -Activate.");
        }
        if (doc is null || doc.Format != Format || doc.Keys is null)
        {
            throw JwtKeyFactory.Invalid(uri, $"The secret '{uri}' is not a JWT key ring document (expected format '{Format}').");
        }
        var expected = IntegrityOf(doc);
        if (!string.Equals(doc.Integrity, expected, StringComparison.Ordinal))
        {
            throw new RotationException(RotationErrorIds.JwtKeyRingTampered, RotationErrorCategory.SecurityError, uri,
                $"The key ring '{uri}' was changed outside Rotation: its integrity hash does not match its content (version {versionId ?? "unknown"}). " +
                "Restore the previous version of the secret, or inspect the change; Rotation will not sign with or rotate a ring it cannot trust.");
        }
        var ring = new JwtKeyRing
        {
            Uri = uri,
            VersionId = versionId,
            UpdatedAt = doc.Updated,
            NextVersion = doc.NextVersion,
            Integrity = doc.Integrity,
            LastSwitch = doc.LastSwitch is { } s ? new JwtKeySwitch { FromKid = s.From, ToKid = s.To, At = s.At } : null,
            Keys = doc.Keys.Select(k => FromDocument(k, uri)).ToList(),
        };
        JwtKeyRingRules.Check(ring, uri);
        return ring;
    }

    private static string IntegrityOf(RingDocument doc)
    {
        var saved = doc.Integrity;
        doc.Integrity = null;
        try
        {
            var canonical = JsonSerializer.SerializeToUtf8Bytes(doc, Options);
            return "sha256:" + Convert.ToHexString(SHA256.HashData(canonical)).ToLowerInvariant();
        }
        finally
        {
            doc.Integrity = saved;
        }
    }

    private static RingDocument ToDocument(JwtKeyRing ring, DateTimeOffset updatedAt) => new()
    {
        Format = Format,
        Updated = updatedAt,
        NextVersion = ring.NextVersion,
        LastSwitch = ring.LastSwitch is { } s ? new SwitchDocument { From = s.FromKid, To = s.ToKid, At = s.At } : null,
        Keys = ring.Keys.OrderBy(k => k.Version).Select(k => new KeyDocument
        {
            Kid = k.Kid,
            Alg = k.Algorithm.ToString(),
            Use = k.Use,
            Status = k.Status.ToString(),
            Version = k.Version,
            KeySize = k.KeySize,
            Fingerprint = k.Fingerprint,
            Created = k.CreatedAt,
            Published = k.PublishedAt,
            Activated = k.ActivatedAt,
            RetiringSince = k.RetiringSince,
            Retired = k.RetiredAt,
            Revoked = k.Revoked ? true : null,
            Secret = k.Material?.HmacSecret,
            PrivateKey = k.Material?.Pkcs8 is { } p ? Convert.ToBase64String(p) : null,
            PublicJwk = k.PublicJwk is { } j ? new SortedDictionary<string, string>(j.ToDictionary(), StringComparer.Ordinal) : null,
        }).ToList(),
    };

    private static JwtKey FromDocument(KeyDocument k, string uri)
    {
        if (string.IsNullOrEmpty(k.Kid) || !JwtAlgorithmInfo.TryParse(k.Alg, out var alg) ||
            !Enum.TryParse<JwtKeyStatus>(k.Status, ignoreCase: false, out var status) || !Enum.IsDefined(status))
        {
            throw JwtKeyFactory.Invalid(uri, $"A key in '{uri}' has a missing kid, an unsupported alg or an unknown status (kid '{k.Kid}'). Supported: {string.Join(", ", Enum.GetNames<JwtAlgorithm>())}.");
        }
        byte[]? pkcs8 = null;
        if (k.PrivateKey is not null)
        {
            try
            {
                pkcs8 = Convert.FromBase64String(k.PrivateKey);
            }
            catch (FormatException ex)
            {
                throw JwtKeyFactory.Invalid(uri, $"The private key of '{k.Kid}' in '{uri}' is not base64.", ex);
            }
        }
        return new JwtKey
        {
            Kid = k.Kid,
            Algorithm = alg,
            Use = k.Use ?? "sig",
            Status = status,
            Version = k.Version,
            KeySize = k.KeySize,
            Fingerprint = k.Fingerprint ?? string.Empty,
            CreatedAt = k.Created,
            PublishedAt = k.Published,
            ActivatedAt = k.Activated,
            RetiringSince = k.RetiringSince,
            RetiredAt = k.Retired,
            Revoked = k.Revoked == true,
            PublicJwk = k.PublicJwk,
            Uri = uri,
            Material = k.Secret is null && pkcs8 is null ? null : new JwtKeyMaterial { HmacSecret = k.Secret, Pkcs8 = pkcs8 },
        };
    }

    /// <summary>
    /// A ring is one JSON object; a store that hands back field maps (it parsed the object) gets it reassembled:
    /// members holding JSON arrays or objects come back as raw text, so they are parsed again.
    /// </summary>
    public static string DocumentText(SecretValue value)
    {
        if (!value.IsFields)
        {
            return value.Text;
        }
        var obj = new System.Text.Json.Nodes.JsonObject();
        foreach (var (name, text) in value.Fields)
        {
            var trimmed = text.TrimStart();
            obj[name] = trimmed.StartsWith('[') || trimmed.StartsWith('{') || name == "nextVersion" || text == "null"
                ? System.Text.Json.Nodes.JsonNode.Parse(text)
                : System.Text.Json.Nodes.JsonValue.Create(text);
        }
        return obj.ToJsonString();
    }

    private sealed class RingDocument
    {
        [JsonPropertyName("format")] public string? Format { get; set; }
        [JsonPropertyName("updated")] public DateTimeOffset? Updated { get; set; }
        [JsonPropertyName("nextVersion")] public int NextVersion { get; set; } = 1;
        [JsonPropertyName("lastSwitch")] public SwitchDocument? LastSwitch { get; set; }
        [JsonPropertyName("keys")] public List<KeyDocument>? Keys { get; set; }
        [JsonPropertyName("integrity")] public string? Integrity { get; set; }
    }

    private sealed class SwitchDocument
    {
        [JsonPropertyName("from")] public string From { get; set; } = string.Empty;
        [JsonPropertyName("to")] public string To { get; set; } = string.Empty;
        [JsonPropertyName("at")] public DateTimeOffset At { get; set; }
    }

    private sealed class KeyDocument
    {
        [JsonPropertyName("kid")] public string Kid { get; set; } = string.Empty;
        [JsonPropertyName("alg")] public string? Alg { get; set; }
        [JsonPropertyName("use")] public string? Use { get; set; }
        [JsonPropertyName("status")] public string? Status { get; set; }
        [JsonPropertyName("version")] public int Version { get; set; }
        [JsonPropertyName("keySize")] public int KeySize { get; set; }
        [JsonPropertyName("fingerprint")] public string? Fingerprint { get; set; }
        [JsonPropertyName("created")] public DateTimeOffset Created { get; set; }
        [JsonPropertyName("published")] public DateTimeOffset? Published { get; set; }
        [JsonPropertyName("activated")] public DateTimeOffset? Activated { get; set; }
        [JsonPropertyName("retiringSince")] public DateTimeOffset? RetiringSince { get; set; }
        [JsonPropertyName("retired")] public DateTimeOffset? Retired { get; set; }
        [JsonPropertyName("revoked")] public bool? Revoked { get; set; }
        [JsonPropertyName("secret")] public string? Secret { get; set; }
        [JsonPropertyName("privateKey")] public string? PrivateKey { get; set; }
        [JsonPropertyName("publicJwk")] public SortedDictionary<string, string>? PublicJwk { get; set; }
    }
}
