using System.Net;
using System.Security;

namespace Rotation.Core.Secrets;

/// <summary>
/// A login produced or consumed by a rotation: user name and password. The core's stand-in for PSCredential (the
/// core has no PowerShell reference); the cmdlet layer converts both ways, and every -Credential parameter accepts
/// it through a transformation attribute, so it binds by property name like a PSCredential.
/// </summary>
public sealed class RotationCredential
{
    public RotationCredential(string userName, SecureString password)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentNullException.ThrowIfNull(password);
        UserName = userName;
        Password = password;
    }

    public static RotationCredential FromPlainText(string userName, string password) =>
        new(userName, SecureStrings.FromPlainText(password));

    public string UserName { get; }

    public SecureString Password { get; }

    /// <summary>Same contract as PSCredential.GetNetworkCredential(): the caller asks for plain text explicitly.</summary>
    public NetworkCredential GetNetworkCredential() => new(UserName, Password);

    public string PasswordFingerprint => Fingerprint.Of(SecureStrings.ToPlainText(Password));

    public override string ToString() => $"{UserName} (password {PasswordFingerprint})";
}
