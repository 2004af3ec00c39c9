using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rotation.Core.Errors;

namespace Rotation.Core.Kubernetes;

/// <summary>What authenticates one request: a bearer token and/or a client certificate, valid until ExpiresAt.</summary>
internal sealed record KubeCredential(string? Token, X509Certificate2? ClientCertificate, DateTimeOffset? ExpiresAt);

/// <summary>
/// A client.authentication.k8s.io exec plugin (gke-gcloud-auth-plugin, aws eks get-token, kubelogin): runs the command
/// with its args and env, KUBERNETES_EXEC_INFO set, and reads an ExecCredential (status.token or
/// status.clientCertificateData/clientKeyData, status.expirationTimestamp) from its standard output.
/// </summary>
internal sealed class KubeExecPlugin
{
    private static readonly string[] SupportedVersions = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"];

    private KubeExecPlugin(string apiVersion, string command, IReadOnlyList<string> args, IReadOnlyList<KeyValuePair<string, string>> env, string? installHint)
    {
        ApiVersion = apiVersion;
        Command = command;
        Args = args;
        Env = env;
        InstallHint = installHint;
    }

    public string ApiVersion { get; }
    public string Command { get; }
    public IReadOnlyList<string> Args { get; }
    public IReadOnlyList<KeyValuePair<string, string>> Env { get; }
    public string? InstallHint { get; }

    /// <summary>How long a plugin may take (gcloud refreshing a token over the network can take seconds).</summary>
    public static TimeSpan Timeout { get; } = TimeSpan.FromSeconds(60);

    internal static KubeExecPlugin From(KubeExecConfig config, string? baseDirectory)
    {
        var apiVersion = config.ApiVersion ?? string.Empty;
        if (!SupportedVersions.Contains(apiVersion, StringComparer.Ordinal))
        {
            throw new RotationException(RotationErrorIds.KubeConfigInvalid, RotationErrorCategory.InvalidData, config.Command,
                $"The exec credential plugin '{config.Command}' asks for apiVersion '{apiVersion}'; supported: {string.Join(", ", SupportedVersions)}. " +
                "Update the plugin and regenerate the kubeconfig (for example 'gcloud container clusters get-credentials' or 'aws eks update-kubeconfig').");
        }
        if (string.IsNullOrEmpty(config.Command))
        {
            throw new RotationException(RotationErrorIds.KubeConfigInvalid, RotationErrorCategory.InvalidData, null, "An exec credential plugin in the kubeconfig has no command.");
        }
        // Like client-go: a command with a path separator is relative to the kubeconfig's folder; a bare name is looked up on PATH.
        var command = config.Command.Contains('/', StringComparison.Ordinal) && !Path.IsPathRooted(config.Command)
            ? KubeConfigLoader.ResolvePath(config.Command, baseDirectory)!
            : config.Command;
        return new KubeExecPlugin(apiVersion, command, config.Args ?? [],
            (config.Env ?? []).Where(e => e.Name is not null).Select(e => new KeyValuePair<string, string>(e.Name!, e.Value ?? string.Empty)).ToList(),
            config.InstallHint);
    }

    public async Task<KubeCredential> RunAsync(string context, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(Command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in Args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (k, v) in Env)
        {
            psi.Environment[k] = v;
        }
        psi.Environment["KUBERNETES_EXEC_INFO"] = JsonSerializer.Serialize(new JsonObject
        {
            ["apiVersion"] = ApiVersion,
            ["kind"] = "ExecCredential",
            ["spec"] = new JsonObject { ["interactive"] = false },
        });

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("Process.Start returned null.");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new RotationException(RotationErrorIds.KubeExecPluginFailed, RotationErrorCategory.NotInstalled, context,
                $"The exec credential plugin '{Command}' of context '{context}' could not be started: {ex.Message}. " +
                (InstallHint ?? "Install it and make sure it is on PATH."), ex);
        }
        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                throw new RotationException(RotationErrorIds.KubeExecPluginFailed, RotationErrorCategory.OperationTimeout, context,
                    $"The exec credential plugin '{Command}' of context '{context}' did not finish within {Timeout.TotalSeconds:0} s.", ex);
            }
            var output = await stdout.ConfigureAwait(false);
            var errors = await stderr.ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                // stderr of a plugin is diagnostics (a login hint); stdout may hold a token, so it is never echoed.
                throw new RotationException(RotationErrorIds.KubeExecPluginFailed, RotationErrorCategory.AuthenticationError, context,
                    $"The exec credential plugin '{Command}' of context '{context}' exited with code {process.ExitCode}: {Trim(errors)}. Log in again with the tool behind it (gcloud auth login, aws sso login, ...).");
            }
            return Parse(context, output);
        }
    }

    internal KubeCredential Parse(string context, string output)
    {
        JsonNode? doc;
        try
        {
            doc = JsonNode.Parse(output);
        }
        catch (JsonException ex)
        {
            throw Malformed(context, "its output is not JSON", ex);
        }
        if (doc?["kind"]?.GetValue<string>() != "ExecCredential")
        {
            throw Malformed(context, "its output is not an ExecCredential", null);
        }
        var returned = doc["apiVersion"]?.GetValue<string>();
        if (!string.Equals(returned, ApiVersion, StringComparison.Ordinal))
        {
            throw Malformed(context, $"it returned apiVersion '{returned}' but the kubeconfig asks for '{ApiVersion}'", null);
        }
        var status = doc["status"] as JsonObject ?? throw Malformed(context, "it returned no status", null);
        var token = status["token"]?.GetValue<string>();
        var certData = status["clientCertificateData"]?.GetValue<string>();
        var keyData = status["clientKeyData"]?.GetValue<string>();
        DateTimeOffset? expires = null;
        if (status["expirationTimestamp"]?.GetValue<string>() is { Length: > 0 } exp)
        {
            expires = DateTimeOffset.TryParse(exp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var e)
                ? e
                : throw Malformed(context, $"its expirationTimestamp '{exp}' is not an RFC 3339 time", null);
        }
        X509Certificate2? cert = null;
        if (certData is not null || keyData is not null)
        {
            if (certData is null || keyData is null)
            {
                throw Malformed(context, "it returned a client certificate without its key (or a key without its certificate)", null);
            }
            cert = ClientCertificates.FromPem(context, certData, keyData);
        }
        if (string.IsNullOrEmpty(token) && cert is null)
        {
            throw Malformed(context, "it returned neither a token nor a client certificate", null);
        }
        return new KubeCredential(string.IsNullOrEmpty(token) ? null : token, cert, expires);
    }

    private RotationException Malformed(string context, string what, Exception? inner) =>
        new(RotationErrorIds.KubeExecPluginFailed, RotationErrorCategory.InvalidResult, context,
            $"The exec credential plugin '{Command}' of context '{context}' failed: {what}.", inner);

    private static string Trim(string text)
    {
        text = text.Trim();
        return text.Length == 0 ? "(no message)" : text.Length > 400 ? text[..400] + "..." : text;
    }
}

internal static class ClientCertificates
{
    public static X509Certificate2 FromPem(string context, string certPem, string keyPem)
    {
        try
        {
            using var ephemeral = X509Certificate2.CreateFromPem(certPem, keyPem);
            // SslStream on Windows cannot use an ephemeral key; a PKCS#12 round trip gives a persisted one everywhere.
#pragma warning disable SYSLIB0057 // X509CertificateLoader is .NET 9+; the core targets net8.0.
            return new X509Certificate2(ephemeral.Export(X509ContentType.Pkcs12));
#pragma warning restore SYSLIB0057
        }
        catch (CryptographicException ex)
        {
            throw new RotationException(RotationErrorIds.KubeConfigInvalid, RotationErrorCategory.InvalidData, context,
                $"The client certificate or key of context '{context}' could not be read as PEM: {ex.Message}", ex);
        }
    }
}
