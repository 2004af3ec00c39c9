using System.Security.Cryptography.X509Certificates;
using System.Text;
using Rotation.Core.Errors;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Rotation.Core.Kubernetes;

/// <summary>
/// Resolves a context name into what a connection needs, the way kubectl does: the files in KUBECONFIG (merged, the
/// first file to define a name wins, as client-go merges), else ~/.kube/config, else the in-cluster service account
/// (KUBERNETES_SERVICE_HOST/PORT and the mounted token and CA). The environment and the service-account folder are
/// injectable so tests never read the machine's own configuration.
/// </summary>
public sealed class KubeConfigLoader
{
    /// <summary>The context name that selects the in-cluster service-account configuration.</summary>
    public const string InClusterContext = "in-cluster";

    public const string DefaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    public string ServiceAccountDirectory { get; init; } = DefaultServiceAccountDirectory;

    /// <summary>The kubeconfig files consulted, in merge order (existing ones only).</summary>
    public IReadOnlyList<string> ConfigFiles()
    {
        var list = GetEnvironmentVariable("KUBECONFIG");
        if (!string.IsNullOrWhiteSpace(list))
        {
            return list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(File.Exists).Distinct(StringComparer.Ordinal).ToList();
        }
        var home = GetEnvironmentVariable("HOME") ?? GetEnvironmentVariable("USERPROFILE");
        if (string.IsNullOrEmpty(home))
        {
            return [];
        }
        var path = Path.Combine(home, ".kube", "config");
        return File.Exists(path) ? [path] : [];
    }

    /// <summary>Every context name known from the kubeconfig files (plus in-cluster when running in a pod).</summary>
    public IReadOnlyList<string> ContextNames()
    {
        var merged = Merge(ConfigFiles());
        var names = merged.Contexts.Keys.Order(StringComparer.Ordinal).ToList();
        if (InClusterAvailable)
        {
            names.Add(InClusterContext);
        }
        return names;
    }

    private bool InClusterAvailable => !string.IsNullOrEmpty(GetEnvironmentVariable("KUBERNETES_SERVICE_HOST"))
        && File.Exists(Path.Combine(ServiceAccountDirectory, "token"));

    /// <summary>
    /// The settings of one context (null: the current context). Throws KubeContextNotFound naming the known contexts.
    /// </summary>
    public KubeConnectionSettings Resolve(string? context)
    {
        var files = ConfigFiles();
        if (string.Equals(context, InClusterContext, StringComparison.Ordinal) || (files.Count == 0 && context is null && InClusterAvailable))
        {
            return InCluster();
        }
        var merged = Merge(files);
        var name = context ?? merged.CurrentContext;
        if (string.IsNullOrEmpty(name))
        {
            throw ContextNotFound("(current context)", merged, files,
                "No context was named and the kubeconfig sets no current-context. Name one with -Context or the store URI k8s://<context>/...");
        }
        if (!merged.Contexts.TryGetValue(name, out var ctx))
        {
            throw ContextNotFound(name, merged, files, $"The Kubernetes context '{name}' is not defined.");
        }
        if (ctx.Cluster is null || !merged.Clusters.TryGetValue(ctx.Cluster, out var cluster) || string.IsNullOrEmpty(cluster.Server))
        {
            throw new RotationException(RotationErrorIds.KubeContextNotFound, RotationErrorCategory.InvalidData, name,
                $"The Kubernetes context '{name}' names the cluster '{ctx.Cluster}', which is not defined (or has no server) in {Describe(files)}. Fix the kubeconfig.");
        }
        KubeUserEntry? user = null;
        if (!string.IsNullOrEmpty(ctx.User) && !merged.Users.TryGetValue(ctx.User, out user))
        {
            throw new RotationException(RotationErrorIds.KubeContextNotFound, RotationErrorCategory.InvalidData, name,
                $"The Kubernetes context '{name}' names the user '{ctx.User}', which is not defined in {Describe(files)}. Fix the kubeconfig.");
        }
        if (!Uri.TryCreate(cluster.Server, UriKind.Absolute, out var server))
        {
            throw new RotationException(RotationErrorIds.KubeContextNotFound, RotationErrorCategory.InvalidData, name,
                $"The cluster '{ctx.Cluster}' of context '{name}' has an invalid server address '{cluster.Server}'.");
        }
        return new KubeConnectionSettings
        {
            Context = name,
            ClusterName = ctx.Cluster,
            UserName = ctx.User,
            Server = server,
            Namespace = string.IsNullOrEmpty(ctx.Namespace) ? "default" : ctx.Namespace,
            CaCertificates = LoadCa(name, cluster),
            InsecureSkipTlsVerify = cluster.InsecureSkipTlsVerify,
            TlsServerName = cluster.TlsServerName,
            Token = user?.Token,
            TokenFile = ResolvePath(user?.TokenFile, user?.BaseDirectory),
            ClientCertificate = user is null ? null : LoadClientCertificate(name, user),
            BasicUser = user?.Username,
            BasicPassword = user?.Password,
            Exec = user?.Exec is null ? null : KubeExecPlugin.From(user.Exec, user.BaseDirectory),
        };
    }

    private KubeConnectionSettings InCluster()
    {
        var host = GetEnvironmentVariable("KUBERNETES_SERVICE_HOST");
        var port = GetEnvironmentVariable("KUBERNETES_SERVICE_PORT");
        var tokenFile = Path.Combine(ServiceAccountDirectory, "token");
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port) || !File.Exists(tokenFile))
        {
            throw new RotationException(RotationErrorIds.KubeContextNotFound, RotationErrorCategory.ObjectNotFound, InClusterContext,
                $"The in-cluster configuration is not available: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT must be set and {tokenFile} must exist (run inside a pod with a service account token mounted).");
        }
        // IPv6 hosts need brackets in a URI (client-go uses net.JoinHostPort).
        var authority = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]:{port}" : $"{host}:{port}";
        var caFile = Path.Combine(ServiceAccountDirectory, "ca.crt");
        var nsFile = Path.Combine(ServiceAccountDirectory, "namespace");
        return new KubeConnectionSettings
        {
            Context = InClusterContext,
            ClusterName = InClusterContext,
            UserName = "serviceaccount",
            Server = new Uri("https://" + authority),
            Namespace = File.Exists(nsFile) ? File.ReadAllText(nsFile).Trim() : "default",
            CaCertificates = File.Exists(caFile) ? PemBundle(File.ReadAllText(caFile)) : null,
            // The kubelet rotates the projected token; re-reading the file picks up the new one (client-go does the same).
            TokenFile = tokenFile,
        };
    }

    private sealed class MergedConfig
    {
        public string? CurrentContext { get; set; }
        public Dictionary<string, KubeClusterEntry> Clusters { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, KubeUserEntry> Users { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, KubeContextEntry> Contexts { get; } = new(StringComparer.Ordinal);
    }

    private static MergedConfig Merge(IReadOnlyList<string> files)
    {
        var merged = new MergedConfig();
        var deserializer = new DeserializerBuilder().IgnoreUnmatchedProperties().Build();
        foreach (var file in files)
        {
            KubeConfigFile? doc;
            try
            {
                doc = deserializer.Deserialize<KubeConfigFile?>(File.ReadAllText(file));
            }
            catch (YamlException ex)
            {
                throw new RotationException(RotationErrorIds.KubeConfigInvalid, RotationErrorCategory.InvalidData, file,
                    $"The kubeconfig file '{file}' is not valid YAML (line {ex.Start.Line}): fix or remove it from KUBECONFIG.", ex);
            }
            if (doc is null)
            {
                continue;
            }
            var dir = Path.GetDirectoryName(Path.GetFullPath(file));
            // client-go: the first file that sets a value wins; later files only add names not seen yet.
            if (string.IsNullOrEmpty(merged.CurrentContext))
            {
                merged.CurrentContext = doc.CurrentContext;
            }
            foreach (var c in doc.Clusters ?? [])
            {
                if (c.Name is not null && c.Cluster is not null && !merged.Clusters.ContainsKey(c.Name))
                {
                    c.Cluster.BaseDirectory = dir;
                    merged.Clusters[c.Name] = c.Cluster;
                }
            }
            foreach (var u in doc.Users ?? [])
            {
                if (u.Name is not null && !merged.Users.ContainsKey(u.Name))
                {
                    var entry = u.User ?? new KubeUserEntry();
                    entry.BaseDirectory = dir;
                    merged.Users[u.Name] = entry;
                }
            }
            foreach (var c in doc.Contexts ?? [])
            {
                if (c.Name is not null && c.Context is not null && !merged.Contexts.ContainsKey(c.Name))
                {
                    merged.Contexts[c.Name] = c.Context;
                }
            }
        }
        return merged;
    }

    private RotationException ContextNotFound(string name, MergedConfig merged, IReadOnlyList<string> files, string what)
    {
        var known = merged.Contexts.Keys.Order(StringComparer.Ordinal).ToList();
        if (InClusterAvailable)
        {
            known.Add(InClusterContext);
        }
        var knownText = known.Count == 0 ? "no contexts are defined" : "known contexts: " + string.Join(", ", known);
        return new RotationException(RotationErrorIds.KubeContextNotFound, RotationErrorCategory.ObjectNotFound, name,
            $"{what} Looked in {Describe(files)}; {knownText}.");
    }

    private static string Describe(IReadOnlyList<string> files) =>
        files.Count == 0 ? "no kubeconfig file (KUBECONFIG unset or empty and no ~/.kube/config)" : string.Join(", ", files);

    internal static string? ResolvePath(string? path, string? baseDirectory) =>
        string.IsNullOrEmpty(path) ? null
        : Path.IsPathRooted(path) || baseDirectory is null ? path
        : Path.Combine(baseDirectory, path);

    private static X509Certificate2Collection? LoadCa(string context, KubeClusterEntry cluster)
    {
        if (!string.IsNullOrEmpty(cluster.CertificateAuthorityData))
        {
            return PemBundle(DecodeBase64(context, "certificate-authority-data", cluster.CertificateAuthorityData));
        }
        var file = ResolvePath(cluster.CertificateAuthority, cluster.BaseDirectory);
        if (file is null)
        {
            return null;
        }
        if (!File.Exists(file))
        {
            throw new RotationException(RotationErrorIds.KubeConfigInvalid, RotationErrorCategory.ObjectNotFound, context,
                $"The certificate-authority file '{file}' of context '{context}' does not exist.");
        }
        return PemBundle(File.ReadAllText(file));
    }

    private static X509Certificate2? LoadClientCertificate(string context, KubeUserEntry user)
    {
        var certPem = !string.IsNullOrEmpty(user.ClientCertificateData)
            ? DecodeBase64(context, "client-certificate-data", user.ClientCertificateData)
            : ReadFile(context, ResolvePath(user.ClientCertificate, user.BaseDirectory));
        var keyPem = !string.IsNullOrEmpty(user.ClientKeyData)
            ? DecodeBase64(context, "client-key-data", user.ClientKeyData)
            : ReadFile(context, ResolvePath(user.ClientKey, user.BaseDirectory));
        if (certPem is null && keyPem is null)
        {
            return null;
        }
        if (certPem is null || keyPem is null)
        {
            throw new RotationException(RotationErrorIds.KubeConfigInvalid, RotationErrorCategory.InvalidData, context,
                $"The user of context '{context}' has a client certificate without its key (or a key without its certificate).");
        }
        return ClientCertificates.FromPem(context, certPem, keyPem);
    }

    private static string? ReadFile(string context, string? path)
    {
        if (path is null)
        {
            return null;
        }
        return File.Exists(path) ? File.ReadAllText(path)
            : throw new RotationException(RotationErrorIds.KubeConfigInvalid, RotationErrorCategory.ObjectNotFound, context,
                $"The file '{path}' named by context '{context}' does not exist.");
    }

    private static string DecodeBase64(string context, string field, string value)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(value));
        }
        catch (FormatException ex)
        {
            throw new RotationException(RotationErrorIds.KubeConfigInvalid, RotationErrorCategory.InvalidData, context,
                $"The {field} of context '{context}' is not valid base64.", ex);
        }
    }

    internal static X509Certificate2Collection PemBundle(string pem)
    {
        var collection = new X509Certificate2Collection();
        collection.ImportFromPem(pem);
        return collection;
    }
}

/// <summary>One resolved context: where the API server is, how to trust it, how to authenticate.</summary>
public sealed class KubeConnectionSettings
{
    public required string Context { get; init; }
    public string? ClusterName { get; init; }
    public string? UserName { get; init; }
    public required Uri Server { get; init; }
    public string Namespace { get; init; } = "default";
    public X509Certificate2Collection? CaCertificates { get; init; }
    public bool InsecureSkipTlsVerify { get; init; }
    public string? TlsServerName { get; init; }
    public string? Token { get; init; }
    public string? TokenFile { get; init; }
    public X509Certificate2? ClientCertificate { get; init; }
    public string? BasicUser { get; init; }
    public string? BasicPassword { get; init; }
    internal KubeExecPlugin? Exec { get; init; }

    public override string ToString() => $"{Context} ({Server})";
}
