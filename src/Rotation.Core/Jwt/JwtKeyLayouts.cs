using System.Globalization;
using System.Text.RegularExpressions;
using Rotation.Core.Errors;

namespace Rotation.Core.Jwt;

/// <summary>The fixed shapes applications read their JWT keys in.</summary>
public enum JwtKeyLayoutKind
{
    /// <summary>JWT_SECRET (signs) and JWT_SECRET_OLD (the newest Retiring key; omitted when there is none).</summary>
    CurrentAndOld,

    /// <summary>JWT_SECRET_CURRENT, JWT_SECRET_NEW and JWT_SECRET_ROTATION_DATE (ISO 8601): sign with NEW from the date on, verify both.</summary>
    CurrentNewDate,

    /// <summary>jwt-secret-v1, jwt-secret-v2, ... (every verifying key by its ring version) and active-key (the field name of the signing key).</summary>
    VersionedWithActive,

    /// <summary>private-&lt;kid&gt;.pem for signing and public-NN-&lt;kid&gt;.pem for validation, newest first.</summary>
    PemFiles,

    /// <summary>jwks.json: the public JWK Set.</summary>
    Jwks,
}

/// <summary>
/// A ring rendered into one layout. <see cref="Fields"/> is the field map (values are secret: HMAC secrets and
/// private keys) and binds by name to Set-RotationSecret -Fields; nothing else shows a value: ToString and the
/// format view list field names only. The ring's address is <see cref="RingUri"/>, deliberately not "Uri", so
/// piping into Set-RotationSecret can never bind the ring itself as the destination.
/// </summary>
public sealed class JwtKeyLayout
{
    public required JwtKeyLayoutKind Layout { get; init; }

    public string? RingUri { get; init; }

    public string? ActiveKid { get; init; }

    /// <summary>The field map in plain text, for the core only (stores, PEM files, tests).</summary>
    internal IDictionary<string, string> PlainFields { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// The field map as PowerShell sees it: every value a SecureString, so neither <c>$layout.Fields</c> nor
    /// <c>Format-List *</c> shows a secret. Set-RotationSecret -Fields accepts SecureString values.
    /// </summary>
    public IDictionary<string, System.Security.SecureString> Fields =>
        _fields ??= PlainFields.ToDictionary(p => p.Key, p => Secrets.SecureStrings.FromPlainText(p.Value), StringComparer.Ordinal);

    private IDictionary<string, System.Security.SecureString>? _fields;

    public IReadOnlyList<string> FieldNames => PlainFields.Keys.ToList();

    /// <summary>The folder the PemFiles layout was written to, if any.</summary>
    public string? Path { get; init; }

    public IReadOnlyList<string> Files { get; init; } = [];

    public override string ToString() => $"{Layout}: {string.Join(", ", PlainFields.Keys)}";
}

public static partial class JwtKeyLayouts
{
    public const string JwtSecret = "JWT_SECRET";
    public const string JwtSecretOld = "JWT_SECRET_OLD";
    public const string JwtSecretCurrent = "JWT_SECRET_CURRENT";
    public const string JwtSecretNew = "JWT_SECRET_NEW";
    public const string JwtSecretRotationDate = "JWT_SECRET_ROTATION_DATE";
    public const string ActiveKey = "active-key";
    public const string JwksFile = "jwks.json";

    /// <summary>Renders a ring. <paramref name="publishLead"/> dates the planned switch in CurrentNewDate.</summary>
    public static JwtKeyLayout Render(JwtKeyRing ring, JwtKeyLayoutKind layout, TimeSpan? publishLead = null)
    {
        ArgumentNullException.ThrowIfNull(ring);
        var target = ring.Uri ?? "key ring";
        if (layout == JwtKeyLayoutKind.Jwks)
        {
            return new JwtKeyLayout { Layout = layout, RingUri = ring.Uri, ActiveKid = ring.ActiveKid, PlainFields = Map((JwksFile, Jwks.Export(ring).Json)) };
        }
        var active = ring.Active ?? throw Errors.Errors.NotFound(RotationErrorIds.JwtKeyNotFound, target,
            $"The key ring '{target}' has no Active key to render; activate one first (Switch-JwtSigningKey, or Add-JwtSigningKey -Activate for a new ring).");
        var fields = layout switch
        {
            JwtKeyLayoutKind.CurrentAndOld => CurrentAndOld(ring, active),
            JwtKeyLayoutKind.CurrentNewDate => CurrentNewDate(ring, active, publishLead ?? JwtKeyLifecycle.DefaultPublishLead),
            JwtKeyLayoutKind.VersionedWithActive => Versioned(ring, active),
            JwtKeyLayoutKind.PemFiles => PemFiles(ring, active, target),
            _ => throw Errors.Errors.InvalidArgument(target, $"Unknown layout '{layout}'."),
        };
        return new JwtKeyLayout { Layout = layout, RingUri = ring.Uri, ActiveKid = active.Kid, PlainFields = fields };
    }

    /// <summary>
    /// Writes a PemFiles layout into a folder: each file atomically (temp file, then rename), private keys 0600,
    /// public keys 0644. PEM files of this layout (private-*.pem, public-*.pem) that are no longer in the ring are
    /// deleted, so a removed key stops validating on the next reload; other files are left alone.
    /// </summary>
    public static JwtKeyLayout WritePemFiles(JwtKeyLayout layout, string folder)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (layout.Layout != JwtKeyLayoutKind.PemFiles)
        {
            throw Errors.Errors.InvalidArgument(folder, $"-Path writes only the PemFiles layout, not {layout.Layout}; pipe other layouts into Set-RotationSecret.");
        }
        try
        {
            Directory.CreateDirectory(folder);
            var written = new List<string>();
            foreach (var (name, pem) in layout.PlainFields)
            {
                var path = System.IO.Path.Combine(folder, name);
                WriteAtomically(path, pem, name.StartsWith("private-", StringComparison.Ordinal));
                written.Add(path);
            }
            foreach (var stale in Directory.EnumerateFiles(folder).Where(f => PemFileName().IsMatch(System.IO.Path.GetFileName(f)) && !layout.PlainFields.ContainsKey(System.IO.Path.GetFileName(f))))
            {
                File.Delete(stale);
            }
            return new JwtKeyLayout { Layout = layout.Layout, RingUri = layout.RingUri, ActiveKid = layout.ActiveKid, PlainFields = layout.PlainFields, Path = System.IO.Path.GetFullPath(folder), Files = written };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RotationException(RotationErrorIds.StorePathNotWritable, RotationErrorCategory.WriteError, folder,
                $"Could not write the PEM files to '{folder}': {ex.Message} Check that the folder exists and is writable.", ex);
        }
    }

    private static Dictionary<string, string> CurrentAndOld(JwtKeyRing ring, JwtKey active)
    {
        var fields = Map((JwtSecret, JwtKeyCrypto.ApplicationValue(active, signs: true)));
        if (ring.Retiring.FirstOrDefault() is { } old)
        {
            fields[JwtSecretOld] = JwtKeyCrypto.ApplicationValue(old, signs: false);
        }
        return fields;
    }

    private static Dictionary<string, string> CurrentNewDate(JwtKeyRing ring, JwtKey active, TimeSpan publishLead)
    {
        // Before a switch: CURRENT signs until the date, then NEW. After it: the old key stays CURRENT so it keeps
        // verifying, and the date (its activation) has passed, so NEW signs. Both sign at some point: private keys.
        var (current, next, date) = ring.Next is { } n
            ? (active, n, n.PublishedAt!.Value + publishLead)
            : ring.Retiring.FirstOrDefault() is { } old
                ? (old, active, active.ActivatedAt!.Value)
                : (active, active, active.ActivatedAt!.Value);
        return Map(
            (JwtSecretCurrent, JwtKeyCrypto.ApplicationValue(current, signs: true)),
            (JwtSecretNew, JwtKeyCrypto.ApplicationValue(next, signs: true)),
            (JwtSecretRotationDate, date.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)));
    }

    private static Dictionary<string, string> Versioned(JwtKeyRing ring, JwtKey active)
    {
        var fields = ring.VerificationKeys.OrderBy(k => k.Version)
            .ToDictionary(k => VersionField(k), k => JwtKeyCrypto.ApplicationValue(k, signs: k.Kid == active.Kid), StringComparer.Ordinal);
        fields[ActiveKey] = VersionField(active);
        return fields;
    }

    private static Dictionary<string, string> PemFiles(JwtKeyRing ring, JwtKey active, string target)
    {
        if (JwtAlgorithmInfo.IsHmac(active.Algorithm))
        {
            throw new RotationException(RotationErrorIds.JwtKeyLayoutUnsupported, RotationErrorCategory.InvalidArgument, target,
                $"The active key '{active.Kid}' of '{target}' is {active.Algorithm}: a shared secret has no PEM form. Use CurrentAndOld, CurrentNewDate or VersionedWithActive.");
        }
        var fields = Map(($"private-{active.Kid}.pem", JwtKeyCrypto.PrivatePem(active)));
        var i = 1;
        foreach (var key in JwtKeyOrder.NewestFirst(ring).Where(k => !JwtAlgorithmInfo.IsHmac(k.Algorithm)))
        {
            fields[$"public-{i++:00}-{key.Kid}.pem"] = JwtKeyCrypto.PublicPem(key);
        }
        return fields;
    }

    private static string VersionField(JwtKey key) => $"jwt-secret-v{key.Version}";

    private static Dictionary<string, string> Map(params (string Name, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);

    private static void WriteAtomically(string path, string text, bool isPrivate)
    {
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = isPrivate ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }
        try
        {
            using (var stream = new FileStream(temp, options))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(text);
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    [GeneratedRegex("^(private|public-[0-9]{2})-[A-Za-z0-9._-]+\\.pem$")]
    private static partial Regex PemFileName();
}
