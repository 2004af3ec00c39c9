using System.Security;
using Rotation.Core.Stores;

namespace Rotation.Core.Secrets;

/// <summary>
/// A secret value with what identifies it: emitted by New-RotationSecret and Get-RotationSecret, consumed by
/// Set-RotationSecret (Value, Uri and Stage bind by property name). ToString() never shows the value.
/// </summary>
public sealed class RotationSecret
{
    public string? Name { get; init; }

    public required SecureString Value { get; init; }

    public required string Fingerprint { get; init; }

    /// <summary>Entropy of a generated value in bits; null for a value read from a store.</summary>
    public double? EntropyBits { get; init; }

    /// <summary>Base64, Base64Url, Hex, Alphanumeric or Password; null when read from a store.</summary>
    public string? Format { get; init; }

    /// <summary>The preset a generated value followed (JwtHmac, Aes256Key, DbPassword, ApiKey); null otherwise.</summary>
    public string? Preset { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>The store address it was read from or written to.</summary>
    public string? Uri { get; init; }

    public SecretStage? Stage { get; init; }

    public string? VersionId { get; init; }

    public string? RunId { get; init; }

    public override string ToString() => $"{Name ?? Uri ?? "secret"} {Fingerprint}";
}
