using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Rotation.Core.Kubernetes;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Kubernetes;

/// <summary>A fake API server, a temp folder with a kubeconfig pointing at it, and clients built from that kubeconfig.</summary>
public sealed class KubeTestKit : IAsyncDisposable
{
    public const string ContextName = "fake";

    private KubeTestKit(FakeKubeApiServer server, TempDirectory dir, string? token, string? execScript)
    {
        Server = server;
        Dir = dir;
        KubeconfigPath = dir.File("kubeconfig");
        WriteKubeconfig(KubeconfigPath, server, token, execScript);
    }

    public static KubeTestKit Start(bool https = false, string? token = null, string? execScript = null)
    {
        var server = FakeKubeApiServer.Start(https);
        server.RequiredToken = https ? token : null;
        return new KubeTestKit(server, TestEnvironment.NewTempDirectory(), token, execScript);
    }

    public FakeKubeApiServer Server { get; }

    public TempDirectory Dir { get; }

    public string KubeconfigPath { get; }

    public Dictionary<string, string?> Env => new(StringComparer.Ordinal) { ["KUBECONFIG"] = KubeconfigPath, ["HOME"] = Dir.Path };

    public StoreContext StoreContext => new() { GetEnvironmentVariable = name => Env.GetValueOrDefault(name) };

    public KubeClient Client(string context = ContextName) => KubeClient.Open(context, StoreContext);

    public KubeOperations Operations() => new(ctx => Client(ctx ?? ContextName));

    public static void WriteKubeconfig(string path, FakeKubeApiServer server, string? token, string? execScript, string context = ContextName, string ns = "default")
    {
        var sb = new StringBuilder();
        sb.AppendLine("apiVersion: v1");
        sb.AppendLine("kind: Config");
        sb.AppendLine($"current-context: {context}");
        sb.AppendLine("clusters:");
        sb.AppendLine($"- name: {context}-cluster");
        sb.AppendLine("  cluster:");
        sb.AppendLine($"    server: {server.BaseUri.ToString().TrimEnd('/')}");
        if (server.Certificate is not null)
        {
            sb.AppendLine($"    certificate-authority-data: {Convert.ToBase64String(Encoding.UTF8.GetBytes(server.CertificatePem))}");
        }
        sb.AppendLine("users:");
        sb.AppendLine($"- name: {context}-user");
        sb.AppendLine("  user:");
        if (execScript is not null)
        {
            sb.AppendLine("    exec:");
            sb.AppendLine("      apiVersion: client.authentication.k8s.io/v1beta1");
            sb.AppendLine($"      command: {execScript}");
            sb.AppendLine("      interactiveMode: Never");
        }
        else if (token is not null)
        {
            sb.AppendLine($"    token: {token}");
        }
        else
        {
            sb.AppendLine("    {}");
        }
        sb.AppendLine("contexts:");
        sb.AppendLine($"- name: {context}");
        sb.AppendLine("  context:");
        sb.AppendLine($"    cluster: {context}-cluster");
        sb.AppendLine($"    user: {context}-user");
        sb.AppendLine($"    namespace: {ns}");
        File.WriteAllText(path, sb.ToString());
    }

    /// <summary>A pod spec with one container that reads the secret in the ways given.</summary>
    public static JsonObject PodSpec(string? volumeSecret = null, string? envSecret = null, string? envFromSecret = null, string? projectedSecret = null)
    {
        var container = new JsonObject { ["name"] = "app", ["image"] = "example/app:1" };
        var volumes = new JsonArray();
        if (volumeSecret is not null)
        {
            volumes.Add(new JsonObject { ["name"] = "creds", ["secret"] = new JsonObject { ["secretName"] = volumeSecret } });
        }
        if (projectedSecret is not null)
        {
            volumes.Add(new JsonObject
            {
                ["name"] = "proj",
                ["projected"] = new JsonObject { ["sources"] = new JsonArray(new JsonObject { ["secret"] = new JsonObject { ["name"] = projectedSecret } }) },
            });
        }
        if (envSecret is not null)
        {
            container["env"] = new JsonArray(new JsonObject
            {
                ["name"] = "DB_PASSWORD",
                ["valueFrom"] = new JsonObject { ["secretKeyRef"] = new JsonObject { ["name"] = envSecret, ["key"] = "password" } },
            });
        }
        if (envFromSecret is not null)
        {
            container["envFrom"] = new JsonArray(new JsonObject { ["secretRef"] = new JsonObject { ["name"] = envFromSecret } });
        }
        var spec = new JsonObject { ["containers"] = new JsonArray(container) };
        if (volumes.Count > 0)
        {
            spec["volumes"] = volumes;
        }
        return spec;
    }

    /// <summary>Runs the real kubectl against the fake with a private HOME and KUBECONFIG.</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> KubectlAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/kubectl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["KUBECONFIG"] = KubeconfigPath;
        psi.Environment["HOME"] = Dir.Path;
        psi.Environment["KUBECACHEDIR"] = Path.Combine(Dir.Path, "cache");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout, await stderr);
    }

    /// <summary>An exec credential plugin script that prints the given ExecCredential status.</summary>
    public string WriteExecPlugin(string name, string token, DateTimeOffset? expires, string? countFile = null)
    {
        var path = Dir.File(name);
        var exp = expires is null ? string.Empty : $",\"expirationTimestamp\":\"{FakeKubeApiServer.Rfc3339(expires.Value)}\"";
        var count = countFile is null ? string.Empty : $"echo x >> '{countFile}'\n";
        File.WriteAllText(path, $"#!/bin/sh\n{count}cat <<'EOF'\n{{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\"{exp}}}}}\nEOF\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Dir.Dispose();
    }
}
