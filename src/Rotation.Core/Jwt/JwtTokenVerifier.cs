using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Rotation.Core.Errors;

namespace Rotation.Core.Jwt;

/// <summary>What Test-JwtToken checks besides the signature.</summary>
public sealed class JwtTokenValidationOptions
{
    public string? Issuer { get; init; }

    public string? Audience { get; init; }

    /// <summary>Check exp/nbf against the clock (and require exp). Off for tokens from old logs.</summary>
    public bool ValidateLifetime { get; init; } = true;

    public TimeSpan ClockSkew { get; init; } = JwtKeyLifecycle.DefaultClockSkew;
}

/// <summary>Test-JwtToken -Detailed: whether the ring accepts a token, which key verified it, or why none did.</summary>
public sealed class JwtTokenTestResult
{
    public required bool IsValid { get; init; }

    /// <summary>The kid in the token's header, if any.</summary>
    public string? Kid { get; init; }

    public string? Algorithm { get; init; }

    /// <summary>The ring key whose signature check passed.</summary>
    public string? VerifiedByKid { get; init; }

    public JwtKeyStatus? KeyStatus { get; init; }

    public DateTimeOffset? Expires { get; init; }

    /// <summary>A stable reason id when invalid: JwtTokenMalformed, JwtKeyNotFound, SignatureInvalid, AlgorithmMismatch, Expired, NotYetValid, IssuerInvalid, AudienceInvalid, LifetimeMissing.</summary>
    public string? ErrorId { get; init; }

    public required string Reason { get; init; }

    public string? RingUri { get; init; }

    public override string ToString() => IsValid ? $"valid ({VerifiedByKid})" : $"invalid: {Reason}";
}

/// <summary>
/// Validates tokens against a ring with Microsoft.IdentityModel's JsonWebTokenHandler, the way a verifier that
/// fetched the ring's keys would: every Next, Active and Retiring key, each accepted only with its own algorithm
/// (no algorithm confusion). Build one per ring and reuse it: the keys are imported once.
/// </summary>
public sealed class JwtTokenVerifier
{
    private readonly JwtKeyRing _ring;
    private readonly TokenValidationParameters _parameters;
    private readonly JsonWebTokenHandler _handler = new();
    private readonly Dictionary<string, JwtKey> _byKid;
    private readonly TimeProvider _clock;
    private readonly JwtTokenValidationOptions _options;

    public JwtTokenVerifier(JwtKeyRing ring, TimeProvider clock, JwtTokenValidationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(ring);
        ArgumentNullException.ThrowIfNull(clock);
        options ??= new JwtTokenValidationOptions();
        _options = options;
        _clock = clock;
        _ring = ring;
        _byKid = ring.VerificationKeys.ToDictionary(k => k.Kid, StringComparer.Ordinal);
        // Kid-less tokens are tried against every key in this order; the Active key first saves work on most.
        var keys = JwtKeyOrder.MostLikelySignerFirst(ring).Select(JwtKeyCrypto.VerificationKey).ToList();
        _parameters = new TokenValidationParameters
        {
            IssuerSigningKeys = keys,
            TryAllIssuerSigningKeys = true,
            ValidAlgorithms = ring.VerificationKeys.Select(k => k.Algorithm.ToString()).Distinct().ToList(),
            AlgorithmValidator = (alg, key, _, _) => key.KeyId is { } kid && _byKid.TryGetValue(kid, out var k) && k.Algorithm.ToString() == alg,
            ValidateIssuer = options.Issuer is not null,
            ValidIssuer = options.Issuer,
            ValidateAudience = options.Audience is not null,
            ValidAudience = options.Audience,
            // Lifetime is checked below against the injected clock (TimeProvider on TokenValidationParameters is
            // not public in 8.16), so a simulated rollover validates with simulated time.
            ValidateLifetime = false,
            RequireExpirationTime = false,
            ValidateIssuerSigningKey = false,
        };
    }

    public async Task<JwtTokenTestResult> TestAsync(string token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        token = token.Trim();
        JsonWebToken parsed;
        try
        {
            parsed = new JsonWebToken(token);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenMalformedException)
        {
            return Invalid(RotationErrorIds.JwtTokenMalformed, "The value is not a compact JWS (three base64url parts separated by dots).", null, null);
        }
        var kid = string.IsNullOrEmpty(parsed.Kid) ? null : parsed.Kid;
        var alg = parsed.Alg;
        cancellationToken.ThrowIfCancellationRequested();
        var result = await _handler.ValidateTokenAsync(parsed, _parameters).ConfigureAwait(false);
        if (result.IsValid && result.SecurityToken is JsonWebToken jwt && jwt.SigningKey?.KeyId is { } by && _byKid.TryGetValue(by, out var key))
        {
            if (_options.ValidateLifetime && LifetimeProblem(parsed) is { } problem)
            {
                return Invalid(problem.Id, problem.Reason, kid, alg);
            }
            return new JwtTokenTestResult
            {
                IsValid = true,
                Kid = kid,
                Algorithm = alg,
                VerifiedByKid = key.Kid,
                KeyStatus = key.Status,
                Expires = ExpiresOf(parsed),
                Reason = $"Verified by the {key.Status} key '{key.Kid}' ({key.Algorithm}).",
                RingUri = _ring.Uri,
            };
        }
        if (result.IsValid)
        {
            // A valid signature from a key this verifier does not know cannot happen; treat it as invalid anyway.
            return Invalid("SignatureInvalid", "The token verified with a key outside the ring.", kid, alg);
        }
        var (id, reason) = result.Exception switch
        {
            SecurityTokenInvalidIssuerException => ("IssuerInvalid", "The token's issuer is not the expected one."),
            SecurityTokenInvalidAudienceException => ("AudienceInvalid", "The token's audience is not the expected one."),
            SecurityTokenInvalidAlgorithmException => ("AlgorithmMismatch", $"The token's alg '{alg}' is not the algorithm of any ring key that could have signed it."),
            SecurityTokenSignatureKeyNotFoundException when kid is not null && !_byKid.ContainsKey(kid) => (RotationErrorIds.JwtKeyNotFound, UnknownKid(kid)),
            SecurityTokenMalformedException => (RotationErrorIds.JwtTokenMalformed, "The token is malformed."),
            _ when kid is not null && !_byKid.ContainsKey(kid) => (RotationErrorIds.JwtKeyNotFound, UnknownKid(kid)),
            _ when kid is not null && _byKid[kid].Algorithm.ToString() != alg => ("AlgorithmMismatch", $"The token claims the key '{kid}' but alg '{alg}'; that key is {_byKid[kid].Algorithm}."),
            _ => ("SignatureInvalid", kid is null
                ? "No key of the ring verifies the signature (the token has no kid; every key was tried)."
                : $"The signature does not verify with the key '{kid}'."),
        };
        return Invalid(id, reason, kid, alg);
    }

    private (string Id, string Reason)? LifetimeProblem(JsonWebToken token)
    {
        var now = _clock.GetUtcNow();
        if (ExpiresOf(token) is not { } exp)
        {
            return ("LifetimeMissing", "The token has no exp claim; pass -IgnoreLifetime to check only its signature.");
        }
        if (now > exp + _options.ClockSkew)
        {
            return ("Expired", $"The token expired at {exp:O} (clock skew {_options.ClockSkew}).");
        }
        if (token.TryGetPayloadValue<long>("nbf", out var nbf) && now + _options.ClockSkew < DateTimeOffset.FromUnixTimeSeconds(nbf))
        {
            return ("NotYetValid", $"The token is not valid before {DateTimeOffset.FromUnixTimeSeconds(nbf):O}.");
        }
        return null;
    }

    private string UnknownKid(string kid) => _ring.Find(kid) is { Status: JwtKeyStatus.Retired } r
        ? $"The token was signed by the key '{kid}', which was {(r.Revoked ? "revoked" : "retired")} at {r.RetiredAt:O}; it no longer validates."
        : $"The ring has no key with kid '{kid}'.";

    private JwtTokenTestResult Invalid(string id, string reason, string? kid, string? alg) =>
        new() { IsValid = false, ErrorId = id, Reason = reason, Kid = kid, Algorithm = alg, RingUri = _ring.Uri };

    private static DateTimeOffset? ExpiresOf(JsonWebToken t) => t.TryGetPayloadValue<long>("exp", out var exp) ? DateTimeOffset.FromUnixTimeSeconds(exp) : null;
}
