using System.Security;

namespace Rotation.Core.Secrets;

/// <summary>
/// A generated asymmetric key pair, emitted by New-RotationKeyPair. The public key is not secret and is shown as
/// PEM; the private key exists only as SecureString (PKCS#8 PEM) and in the 0600 file when one was written.
/// ToString() never shows the private key.
/// </summary>
public sealed class RotationKeyPair
{
    /// <summary>The key id: the RFC 7638 thumbprint unless -Kid named another.</summary>
    public required string Kid { get; init; }

    /// <summary>RFC 7638 JWK thumbprint of the public key, whatever the kid.</summary>
    public required string Thumbprint { get; init; }

    /// <summary>"RSA" or "EC" (JWK kty).</summary>
    public required string Algorithm { get; init; }

    /// <summary>RSA modulus bits; null for EC.</summary>
    public int? KeySize { get; init; }

    /// <summary>P-256, P-384 or P-521; null for RSA.</summary>
    public string? Curve { get; init; }

    /// <summary>SubjectPublicKeyInfo PEM.</summary>
    public required string PublicKeyPem { get; init; }

    /// <summary>PKCS#8 PEM of the private key.</summary>
    public required SecureString PrivateKey { get; init; }

    public string? PrivateKeyPath { get; init; }

    public string? PublicKeyPath { get; init; }

    /// <summary>Fingerprint of the private key PEM: what a store holding that PEM reports for it.</summary>
    public required string Fingerprint { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public override string ToString() => $"{Algorithm} {Curve ?? KeySize?.ToString(System.Globalization.CultureInfo.InvariantCulture)} kid={Kid}";
}
