using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Rotation.Core.Tests.Stores.Fakes;

/// <summary>Self-signed certificates for the HTTPS fakes, and client handlers that trust exactly one of them.</summary>
public static class TestCertificates
{
    /// <summary>A certificate for localhost, 127.0.0.1 and *.vault.azure.net (the Key Vault SDK checks the challenge
    /// resource against the vault host, so the fake can serve a real-looking vault name over a loopback connection).</summary>
    public static X509Certificate2 Create(string subject = "rotation-test")
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddDnsName("*.vault.azure.net");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(2));
        // Round-trip through PKCS#12 so the private key is usable by the TLS stack on every platform.
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A handler that accepts only <paramref name="pinned"/>, and optionally connects every host to a loopback port.</summary>
    public static HttpMessageHandler PinnedHandler(X509Certificate2 pinned, int? loopbackPort = null)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == pinned.GetCertHashString(),
            },
        };
        if (loopbackPort is { } port)
        {
            handler.ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }
        return handler;
    }
}
