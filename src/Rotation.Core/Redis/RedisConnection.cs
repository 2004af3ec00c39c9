using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;

namespace Rotation.Core.Redis;

/// <summary>
/// One connection to one Redis node, speaking exactly what rotation needs. Commands run one at a time. A
/// timeout, protocol error or broken stream leaves the connection unusable (later calls fail fast), because the
/// reply stream can no longer be trusted to line up with requests.
/// </summary>
public sealed class RedisConnection : IAsyncDisposable, IDisposable
{
    private readonly Stream _stream;
    private readonly TcpClient _tcp;
    private readonly RespReader _reader;
    private readonly RedisConnectionOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _broken;

    private RedisConnection(RedisEndpoint endpoint, TcpClient tcp, Stream stream, RedisConnectionOptions options)
    {
        Endpoint = endpoint;
        _tcp = tcp;
        _stream = stream;
        _options = options;
        _reader = new RespReader(stream, endpoint.ToString());
    }

    public RedisEndpoint Endpoint { get; }

    /// <summary>2 or 3: the protocol the handshake settled on.</summary>
    public int ProtocolVersion { get; private set; } = 2;

    /// <summary>The user this connection is authenticated as (null: not authenticated).</summary>
    public string? UserName { get; private set; }

    /// <summary>Connects, negotiates the protocol and authenticates (when a credential is given).</summary>
    public static async Task<RedisConnection> ConnectAsync(RedisEndpoint endpoint, RotationCredential? credential,
        RedisConnectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= RedisConnectionOptions.Default;
        var target = endpoint.ToString();
        var tcp = new TcpClient { NoDelay = true };
        Stream? stream = null;
        try
        {
            using (var connectCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connectCts.CancelAfter(options.ConnectTimeout);
                try
                {
                    await tcp.ConnectAsync(endpoint.Host, endpoint.Port, connectCts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new RotationException(RotationErrorIds.RedisUnreachable, RotationErrorCategory.OperationTimeout, target,
                        $"Could not connect to the Redis server at {target} within {options.ConnectTimeout.TotalSeconds:0.#} s. Check the host, port and firewall.");
                }
                catch (SocketException ex)
                {
                    throw new RotationException(RotationErrorIds.RedisUnreachable, RotationErrorCategory.ConnectionError, target,
                        $"Could not connect to the Redis server at {target}: {ex.SocketErrorCode} ({ex.Message}). Check that the server runs and the endpoint is right.", ex);
                }
            }
            stream = tcp.GetStream();
            if (options.Tls)
            {
                stream = await AuthenticateTlsAsync(stream, endpoint, options, cancellationToken).ConfigureAwait(false);
            }
            var connection = new RedisConnection(endpoint, tcp, stream, options);
            try
            {
                await connection.HandshakeAsync(credential, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            return connection;
        }
        catch
        {
            stream?.Dispose();
            tcp.Dispose();
            throw;
        }
    }

    private static async Task<Stream> AuthenticateTlsAsync(Stream inner, RedisEndpoint endpoint, RedisConnectionOptions options, CancellationToken ct)
    {
        var target = endpoint.ToString();
        X509Certificate2Collection? roots = null;
        if (options.CaFile is not null)
        {
            try
            {
                roots = new X509Certificate2Collection();
                roots.ImportFromPemFile(options.CaFile);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                throw new RotationException(RotationErrorIds.RedisTlsFailed, RotationErrorCategory.InvalidArgument, options.CaFile,
                    $"Could not read the CA file '{options.CaFile}': {ex.Message}. Pass a PEM file with the CA certificate(s).", ex);
            }
        }
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false, (_, certificate, chain, errors) =>
            RedisTls.Validate(certificate, chain, errors, roots, options.SkipCertificateValidation));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(options.ConnectTimeout);
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = options.ServerName ?? endpoint.Host,
                EnabledSslProtocols = SslProtocols.None,
            }, cts.Token).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new RotationException(RotationErrorIds.RedisTlsFailed, RotationErrorCategory.SecurityError, target,
                $"The TLS handshake with {target} failed: {ex.Message}. Check that the server speaks TLS on this port, that its certificate " +
                "names the host (or pass -ServerName) and is signed by a trusted CA (or pass -CaFile).", ex);
        }
    }

    private async Task HandshakeAsync(RotationCredential? credential, CancellationToken ct)
    {
        string? user = credential?.UserName;
        if (_options.Protocol != RedisProtocol.Resp2)
        {
            var hello = new List<string> { "HELLO", "3" };
            var secrets = new List<string>();
            if (credential is not null)
            {
                var password = SecureStrings.ToPlainText(credential.Password);
                hello.AddRange(["AUTH", credential.UserName, password]);
                secrets.Add(password);
            }
            var reply = await SendAsync(hello, ct).ConfigureAwait(false);
            if (!reply.IsError)
            {
                ProtocolVersion = 3;
                UserName = user ?? "default";
                return;
            }
            // Older servers do not know HELLO; a server can refuse protocol 3 (NOPROTO). Anything else is real.
            var unknown = reply.Text!.StartsWith("ERR unknown command", StringComparison.OrdinalIgnoreCase) || reply.Text.StartsWith("NOPROTO", StringComparison.Ordinal);
            if (!unknown || _options.Protocol == RedisProtocol.Resp3)
            {
                throw MapError(reply.Text, secrets, user);
            }
        }
        if (credential is not null)
        {
            await AuthAsync(credential, ct).ConfigureAwait(false);
        }
        ProtocolVersion = 2;
    }

    /// <summary>AUTH on this connection (the user name is sent unless it is the legacy 'default').</summary>
    public async Task AuthAsync(RotationCredential credential, CancellationToken cancellationToken = default)
    {
        var password = SecureStrings.ToPlainText(credential.Password);
        string[] args = credential.UserName == "default" ? ["AUTH", password] : ["AUTH", credential.UserName, password];
        await ExecuteAsync(args, [password], cancellationToken, credential.UserName).ConfigureAwait(false);
        UserName = credential.UserName;
    }

    /// <summary>
    /// Runs a command and returns its reply; an error reply becomes a RotationException. Values listed in
    /// <paramref name="secrets"/> are redacted from any server error text (Redis echoes ACL SETUSER modifiers,
    /// passwords included, in its errors).
    /// </summary>
    public async Task<RespValue> ExecuteAsync(IReadOnlyList<string> args, IReadOnlyCollection<string>? secrets = null,
        CancellationToken cancellationToken = default, string? target = null)
    {
        var reply = await SendAsync(args, cancellationToken).ConfigureAwait(false);
        return reply.IsError ? throw MapError(reply.Text!, secrets ?? [], target) : reply;
    }

    private async Task<RespValue> SendAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_broken)
            {
                throw new RotationException(RotationErrorIds.RedisUnreachable, RotationErrorCategory.ConnectionError, Endpoint.ToString(),
                    $"The connection to {Endpoint} failed earlier and was closed; open a new one.");
            }
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(_options.ReadTimeout);
            var bytes = RespWriter.Encode(args);
            try
            {
                await _stream.WriteAsync(bytes, cts.Token).ConfigureAwait(false);
                await _stream.FlushAsync(cts.Token).ConfigureAwait(false);
                RespValue reply;
                do
                {
                    reply = await _reader.ReadAsync(cts.Token).ConfigureAwait(false);
                }
                while (reply.Type == RespType.Push); // out-of-band RESP3 pushes are not replies
                return reply;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                _broken = true;
                throw new RotationException(RotationErrorIds.RedisUnreachable, RotationErrorCategory.OperationTimeout, Endpoint.ToString(),
                    $"The Redis server at {Endpoint} did not reply to {args[0]} within {_options.ReadTimeout.TotalSeconds:0.#} s.");
            }
            catch (IOException ex)
            {
                _broken = true;
                throw new RotationException(RotationErrorIds.RedisUnreachable, RotationErrorCategory.ConnectionError, Endpoint.ToString(),
                    $"The connection to the Redis server at {Endpoint} broke during {args[0]}: {ex.Message}.", ex);
            }
            catch (RotationException)
            {
                _broken = true;
                throw;
            }
            finally
            {
                Array.Clear(bytes);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    internal RotationException MapError(string serverText, IReadOnlyCollection<string> secrets, string? user)
    {
        var text = RedisErrors.Redact(serverText, secrets);
        var target = Endpoint.ToString();
        var who = user is null ? string.Empty : $" for user '{user}'";
        var code = text.Split(' ', 2)[0];
        return code switch
        {
            "WRONGPASS" => new RotationException(RotationErrorIds.RedisAuthenticationFailed, RotationErrorCategory.AuthenticationError, user ?? target,
                $"The Redis server at {target} rejected the login{who}: {text}. Check the user name and password (and that the user is 'on')."),
            "NOAUTH" => new RotationException(RotationErrorIds.RedisAuthenticationFailed, RotationErrorCategory.AuthenticationError, user ?? target,
                $"The Redis server at {target} requires authentication{who}: {text}. Pass -Credential with an admin login."),
            "NOPERM" => new RotationException(RotationErrorIds.RedisPermissionDenied, RotationErrorCategory.PermissionDenied, UserName ?? user ?? target,
                $"The Redis server at {target} refused a command: {text}. Grant the admin user the permission (for example '+@admin' or '+acl', '+config', '+client') or use another admin login."),
            _ => new RotationException(RotationErrorIds.RedisCommandFailed, RotationErrorCategory.InvalidOperation, target,
                $"The Redis server at {target} returned an error: {text}."),
        };
    }

    public async Task PingAsync(CancellationToken cancellationToken = default) =>
        await ExecuteAsync(["PING"], null, cancellationToken).ConfigureAwait(false);

    public async Task AclSetUserAsync(string user, IEnumerable<string> rules, IReadOnlyCollection<string>? secrets = null, CancellationToken cancellationToken = default) =>
        await ExecuteAsync(["ACL", "SETUSER", user, .. rules], secrets, cancellationToken, user).ConfigureAwait(false);

    /// <summary>The user's rules, or null when the user does not exist.</summary>
    public async Task<RedisAclUser?> AclGetUserAsync(string user, CancellationToken cancellationToken = default)
    {
        var reply = await ExecuteAsync(["ACL", "GETUSER", user], null, cancellationToken, user).ConfigureAwait(false);
        return reply.IsNull ? null : RedisAclUser.Parse(user, reply, Endpoint.ToString());
    }

    public async Task<long> AclDelUserAsync(string user, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync(["ACL", "DELUSER", user], null, cancellationToken, user).ConfigureAwait(false)).Integer;

    public async Task<IReadOnlyList<string>> AclListAsync(CancellationToken cancellationToken = default) =>
        (await ExecuteAsync(["ACL", "LIST"], null, cancellationToken).ConfigureAwait(false)).AsList().Select(v => v.AsString()).ToList();

    public async Task<string> AclWhoAmIAsync(CancellationToken cancellationToken = default) =>
        (await ExecuteAsync(["ACL", "WHOAMI"], null, cancellationToken).ConfigureAwait(false)).AsString();

    public async Task AclSaveAsync(CancellationToken cancellationToken = default) =>
        await ExecuteAsync(["ACL", "SAVE"], null, cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyDictionary<string, string>> ConfigGetAsync(string parameter, CancellationToken cancellationToken = default)
    {
        var reply = await ExecuteAsync(["CONFIG", "GET", parameter], null, cancellationToken).ConfigureAwait(false);
        return reply.AsPairs().ToDictionary(p => p.Key, p => p.Value.AsString(), StringComparer.OrdinalIgnoreCase);
    }

    public async Task ConfigSetAsync(string parameter, string value, bool sensitive, CancellationToken cancellationToken = default) =>
        await ExecuteAsync(["CONFIG", "SET", parameter, value], sensitive ? [value] : null, cancellationToken).ConfigureAwait(false);

    public async Task ConfigRewriteAsync(CancellationToken cancellationToken = default) =>
        await ExecuteAsync(["CONFIG", "REWRITE"], null, cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<RedisClientInfo>> ClientListAsync(CancellationToken cancellationToken = default)
    {
        var reply = await ExecuteAsync(["CLIENT", "LIST"], null, cancellationToken).ConfigureAwait(false);
        return RedisClientInfo.ParseList(reply.AsString(), Endpoint.ToString());
    }

    /// <summary>Closes every connection authenticated as <paramref name="user"/>; returns how many.</summary>
    public async Task<long> ClientKillUserAsync(string user, CancellationToken cancellationToken = default) =>
        (await ExecuteAsync(["CLIENT", "KILL", "USER", user], null, cancellationToken, user).ConfigureAwait(false)).Integer;

    /// <summary>INFO as key/value pairs (section headers dropped).</summary>
    public async Task<IReadOnlyDictionary<string, string>> InfoAsync(string? section = null, CancellationToken cancellationToken = default)
    {
        string[] args = section is null ? ["INFO"] : ["INFO", section];
        var text = (await ExecuteAsync(args, null, cancellationToken).ConfigureAwait(false)).AsString();
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in text.Split('\n'))
        {
            var l = line.TrimEnd('\r');
            var colon = l.IndexOf(':', StringComparison.Ordinal);
            if (l.Length > 0 && l[0] != '#' && colon > 0)
            {
                map[l[..colon]] = l[(colon + 1)..];
            }
        }
        return map;
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _tcp.Dispose();
        _gate.Dispose();
    }

    public void Dispose()
    {
        _stream.Dispose();
        _tcp.Dispose();
        _gate.Dispose();
    }
}
