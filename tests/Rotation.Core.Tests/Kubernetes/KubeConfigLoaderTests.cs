using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Rotation.Core.Errors;
using Rotation.Core.Kubernetes;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Kubernetes;

public sealed class KubeConfigLoaderTests
{
    private static KubeConfigLoader Loader(IDictionary<string, string?> env, string? saDir = null) => new()
    {
        GetEnvironmentVariable = n => env.TryGetValue(n, out var v) ? v : null,
        ServiceAccountDirectory = saDir ?? "/nonexistent/serviceaccount",
    };

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void Several_KUBECONFIG_files_merge_and_the_first_to_define_a_name_wins()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        File.WriteAllText(dir.File("a"), """
            current-context: prod
            clusters:
            - name: c1
              cluster: {server: "https://prod.example:6443", insecure-skip-tls-verify: true}
            users:
            - name: u1
              user: {token: first-token}
            contexts:
            - name: prod
              context: {cluster: c1, user: u1, namespace: payments}
            """);
        File.WriteAllText(dir.File("b"), """
            current-context: staging
            clusters:
            - name: c1
              cluster: {server: "https://ignored.example"}
            - name: c2
              cluster: {server: "https://staging.example"}
            users:
            - name: u1
              user: {token: second-token}
            contexts:
            - name: staging
              context: {cluster: c2, user: u1}
            """);
        var loader = Loader(new Dictionary<string, string?> { ["KUBECONFIG"] = dir.File("a") + Path.PathSeparator + dir.File("b") });

        Assert.Equal(["prod", "staging"], loader.ContextNames());
        var current = loader.Resolve(null);
        Assert.Equal("prod", current.Context);
        Assert.Equal("payments", current.Namespace);
        Assert.True(current.InsecureSkipTlsVerify);
        Assert.Equal("first-token", current.Token);
        var staging = loader.Resolve("staging");
        Assert.Equal(new Uri("https://staging.example"), staging.Server);
        Assert.Equal("default", staging.Namespace);
        Assert.Equal("first-token", staging.Token);
    }

    [Fact]
    public void A_missing_context_is_KubeContextNotFound_listing_the_known_ones()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        File.WriteAllText(dir.File("config"), """
            clusters: [{name: c, cluster: {server: "https://x"}}]
            contexts: [{name: dev, context: {cluster: c}}, {name: prod, context: {cluster: c}}]
            """);
        var ex = Assert.Throws<RotationException>(() => Loader(new Dictionary<string, string?> { ["KUBECONFIG"] = dir.File("config") }).Resolve("staging"));
        Assert.Equal(RotationErrorIds.KubeContextNotFound, ex.ErrorId);
        Assert.Contains("'staging'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("dev, prod", ex.Message, StringComparison.Ordinal);
        Assert.Contains(dir.File("config"), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_any_kubeconfig_the_error_says_so()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var ex = Assert.Throws<RotationException>(() => Loader(new Dictionary<string, string?> { ["HOME"] = dir.Path }).Resolve("prod"));
        Assert.Equal(RotationErrorIds.KubeContextNotFound, ex.ErrorId);
        Assert.Contains("no kubeconfig file", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Home_kube_config_is_the_default_and_relative_files_resolve_next_to_it()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var kube = Directory.CreateDirectory(Path.Combine(dir.Path, ".kube")).FullName;
        var (certPem, keyPem, caPem) = NewClientCertificate();
        File.WriteAllText(Path.Combine(kube, "ca.pem"), caPem);
        File.WriteAllText(Path.Combine(kube, "client.crt"), certPem);
        File.WriteAllText(Path.Combine(kube, "client.key"), keyPem);
        File.WriteAllText(Path.Combine(kube, "token"), "file-token\n");
        File.WriteAllText(Path.Combine(kube, "config"), """
            current-context: files
            clusters: [{name: c, cluster: {server: "https://10.0.0.1:6443", certificate-authority: ca.pem, tls-server-name: kubernetes}}]
            users: [{name: u, user: {client-certificate: client.crt, client-key: client.key, tokenFile: token}}]
            contexts: [{name: files, context: {cluster: c, user: u}}]
            """);
        var s = Loader(new Dictionary<string, string?> { ["HOME"] = dir.Path }).Resolve(null);
        Assert.Equal("kubernetes", s.TlsServerName);
        Assert.Single(s.CaCertificates!);
        Assert.NotNull(s.ClientCertificate);
        Assert.True(s.ClientCertificate!.HasPrivateKey);
        Assert.Equal(Path.Combine(kube, "token"), s.TokenFile);
    }

    [Fact]
    public void Inline_certificate_data_is_decoded()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var (certPem, keyPem, caPem) = NewClientCertificate();
        File.WriteAllText(dir.File("config"), $"""
            current-context: inline
            clusters: [{"{"}name: c, cluster: {"{"}server: "https://k", certificate-authority-data: {B64(caPem)}{"}"}{"}"}]
            users: [{"{"}name: u, user: {"{"}client-certificate-data: {B64(certPem)}, client-key-data: {B64(keyPem)}{"}"}{"}"}]
            contexts: [{"{"}name: inline, context: {"{"}cluster: c, user: u{"}"}{"}"}]
            """);
        var s = Loader(new Dictionary<string, string?> { ["KUBECONFIG"] = dir.File("config") }).Resolve("inline");
        Assert.Single(s.CaCertificates!);
        Assert.True(s.ClientCertificate!.HasPrivateKey);
    }

    [Fact]
    public void A_certificate_without_its_key_is_KubeConfigInvalid()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var (certPem, _, _) = NewClientCertificate();
        File.WriteAllText(dir.File("config"), $"""
            current-context: x
            clusters: [{"{"}name: c, cluster: {"{"}server: "https://k"{"}"}{"}"}]
            users: [{"{"}name: u, user: {"{"}client-certificate-data: {B64(certPem)}{"}"}{"}"}]
            contexts: [{"{"}name: x, context: {"{"}cluster: c, user: u{"}"}{"}"}]
            """);
        var ex = Assert.Throws<RotationException>(() => Loader(new Dictionary<string, string?> { ["KUBECONFIG"] = dir.File("config") }).Resolve(null));
        Assert.Equal(RotationErrorIds.KubeConfigInvalid, ex.ErrorId);
    }

    [Theory]
    [InlineData("client.authentication.k8s.io/v1", true)]
    [InlineData("client.authentication.k8s.io/v1beta1", true)]
    [InlineData("client.authentication.k8s.io/v1alpha1", false)]
    public void Exec_plugins_of_the_v1_and_v1beta1_apis_are_accepted(string apiVersion, bool accepted)
    {
        using var dir = TestEnvironment.NewTempDirectory();
        File.WriteAllText(dir.File("config"), $"""
            current-context: gke
            clusters: [{"{"}name: c, cluster: {"{"}server: "https://k"{"}"}{"}"}]
            users:
            - name: u
              user:
                exec:
                  apiVersion: {apiVersion}
                  command: gke-gcloud-auth-plugin
                  args: [--use_application_default_credentials]
                  env: [{"{"}name: CLOUDSDK_CORE_PROJECT, value: p{"}"}]
                  installHint: Install gke-gcloud-auth-plugin
            contexts: [{"{"}name: gke, context: {"{"}cluster: c, user: u{"}"}{"}"}]
            """);
        var loader = Loader(new Dictionary<string, string?> { ["KUBECONFIG"] = dir.File("config") });
        if (accepted)
        {
            Assert.Equal("gke", loader.Resolve(null).Context);
        }
        else
        {
            Assert.Equal(RotationErrorIds.KubeConfigInvalid, Assert.Throws<RotationException>(() => loader.Resolve(null)).ErrorId);
        }
    }

    [Fact]
    public void In_cluster_configuration_reads_the_injected_service_account_folder()
    {
        using var sa = TestEnvironment.NewTempDirectory();
        var (_, _, caPem) = NewClientCertificate();
        File.WriteAllText(sa.File("token"), "sa-token");
        File.WriteAllText(sa.File("ca.crt"), caPem);
        File.WriteAllText(sa.File("namespace"), "payments\n");
        var env = new Dictionary<string, string?> { ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1", ["KUBERNETES_SERVICE_PORT"] = "443", ["HOME"] = sa.Path };
        var loader = Loader(env, sa.Path);

        var s = loader.Resolve(null);
        Assert.Equal(KubeConfigLoader.InClusterContext, s.Context);
        Assert.Equal(new Uri("https://10.96.0.1:443"), s.Server);
        Assert.Equal("payments", s.Namespace);
        Assert.Equal(sa.File("token"), s.TokenFile);
        Assert.Single(s.CaCertificates!);
        Assert.Contains(KubeConfigLoader.InClusterContext, loader.ContextNames());

        env["KUBERNETES_SERVICE_HOST"] = "fd00::1";
        Assert.Equal("[fd00::1]", Loader(env, sa.Path).Resolve(KubeConfigLoader.InClusterContext).Server.Host);
    }

    [Fact]
    public void In_cluster_outside_a_pod_is_KubeContextNotFound()
    {
        var ex = Assert.Throws<RotationException>(() => Loader(new Dictionary<string, string?>()).Resolve(KubeConfigLoader.InClusterContext));
        Assert.Equal(RotationErrorIds.KubeContextNotFound, ex.ErrorId);
        Assert.Contains("KUBERNETES_SERVICE_HOST", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_yaml_names_the_file()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        File.WriteAllText(dir.File("config"), "clusters: [ {name: c\n  - : :\n");
        var ex = Assert.Throws<RotationException>(() => Loader(new Dictionary<string, string?> { ["KUBECONFIG"] = dir.File("config") }).Resolve("x"));
        Assert.Equal(RotationErrorIds.KubeConfigInvalid, ex.ErrorId);
        Assert.Contains(dir.File("config"), ex.Message, StringComparison.Ordinal);
    }

    internal static (string CertPem, string KeyPem, string CaPem) NewClientCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=rotation-test,O=system:masters", key, HashAlgorithmName.SHA256);
        using var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        var pem = cert.ExportCertificatePem();
        return (pem, key.ExportPkcs8PrivateKeyPem(), pem);
    }
}
