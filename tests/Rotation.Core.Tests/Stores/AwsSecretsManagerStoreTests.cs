using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Stores;

/// <summary>The shared contract against AWS Secrets Manager as moto emulates it, every request SigV4-signed and checked.</summary>
public sealed class AwsSecretsManagerStoreContractTests : SecretStoreContractTests
{
    protected override bool FirstVersionIsAlwaysCurrent => true;

    protected override SecretStoreUri NewSecretUri() => AwsTestContext.NewUri();

    protected override ISecretStore Open(SecretStoreUri uri) => new AwsSecretsManagerStore(uri, AwsTestContext.Create());
}

/// <summary>What only the AWS store promises: authentication errors, endpoints, labels other clients see, retries.</summary>
public sealed class AwsSecretsManagerStoreTests
{
    private static readonly SecretWriteOptions NoRun = new();

    [Fact]
    public async Task A_wrong_secret_key_is_a_clear_authentication_error_without_the_key()
    {
        const string wrongKey = "wrongSecretKeyValue0123456789abcdefWXYZ";
        var store = new AwsSecretsManagerStore(AwsTestContext.NewUri(), AwsTestContext.Create(secretKey: wrongKey));
        var ex = await Assert.ThrowsAsync<RotationException>(() => store.PutAsync(SecretValue.FromText("never-stored-1"), SecretStage.Current, NoRun));
        Assert.Equal(RotationErrorIds.StoreAuthenticationFailed, ex.ErrorId);
        Assert.Equal(RotationErrorCategory.AuthenticationError, ex.Category);
        Assert.Contains("AWS_SECRET_ACCESS_KEY", ex.Message);
        LeakAssert.NoneOf([wrongKey, "never-stored-1", TestEnvironment.Require("ROTATION_TEST_AWS_SECRET_ACCESS_KEY")], [("message", ex.Message)]);
        Assert.False((await new AwsSecretsManagerStore(store.Uri, AwsTestContext.Create()).DescribeAsync()).Exists);
    }

    [Fact]
    public async Task The_registry_opens_aws_URIs_and_wraps_fields()
    {
        var registry = SecretStoreRegistry.CreateDefault();
        var uri = AwsTestContext.NewUri();
        Assert.IsType<AwsSecretsManagerStore>(registry.Open(uri, AwsTestContext.Create()));
        var field = registry.Open(uri.Original + "#password", AwsTestContext.Create());
        Assert.IsType<FieldScopedStore>(field);
        await field.PutAsync(SecretValue.FromText("field-value-123"), SecretStage.Current, NoRun);
        Assert.Equal("{\"password\":\"field-value-123\"}", (await registry.Open(uri, AwsTestContext.Create()).GetAsync(SecretStage.Current)).Value.Text);
    }

    [Fact]
    public async Task Other_clients_see_the_same_stages_and_the_lease_holder()
    {
        // boto3 (which tests/servers.sh already needs) reads what this store wrote: the labels are real Secrets
        // Manager labels, not a private convention only this code understands.
        var uri = AwsTestContext.NewUri();
        var store = new AwsSecretsManagerStore(uri, AwsTestContext.Create());
        await store.PutAsync(SecretValue.FromText("old-value-1234"), SecretStage.Current, NoRun);
        var pending = await store.PutAsync(SecretValue.FromText("new-value-5678"), SecretStage.Pending, new SecretWriteOptions { RunId = "r-boto-check" });
        var before = Boto3(uri.Path);
        Assert.Equal("new-value-5678", before.GetProperty("pending").GetString());
        Assert.Contains("rotation-run/r-boto-check", before.GetProperty("labels").GetProperty(pending.VersionId).EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("rotation-lease", before.GetProperty("labels").GetProperty(pending.VersionId).EnumerateArray().Select(e => e.GetString()));

        await store.CompleteAsync(pending.VersionId);
        var after = Boto3(uri.Path);
        Assert.Equal("new-value-5678", after.GetProperty("current").GetString());
        Assert.Equal("old-value-1234", after.GetProperty("previous").GetString());
        Assert.Equal(JsonValueKind.Null, after.GetProperty("pending").ValueKind);
    }

    [Fact]
    public async Task A_secret_made_outside_Rotation_gets_its_lease_on_the_first_pending_write()
    {
        var uri = AwsTestContext.NewUri();
        Python("c.create_secret(Name=sys.argv[1], SecretString='made-by-terraform-1')", uri.Path);
        var store = new AwsSecretsManagerStore(uri, AwsTestContext.Create());
        var pending = await store.PutAsync(SecretValue.FromText("rotated-value-2"), SecretStage.Pending, new SecretWriteOptions { RunId = "r-first" });
        var refused = await Assert.ThrowsAsync<RotationException>(() =>
            new AwsSecretsManagerStore(uri, AwsTestContext.Create()).PutAsync(SecretValue.FromText("rotated-value-3"), SecretStage.Pending, new SecretWriteOptions { RunId = "r-second" }));
        Assert.Equal(RotationErrorIds.RotationInProgress, refused.ErrorId);
        Assert.Contains("r-first", refused.Message);
        await store.CompleteAsync(pending.VersionId);
        Assert.Equal("made-by-terraform-1", (await store.GetAsync(SecretStage.Previous)).Value.Text);
    }

    [Fact]
    public async Task A_write_interrupted_after_the_version_was_made_is_finished_by_the_retry()
    {
        // The first attempt died after PutSecretValue and before the labels moved: the version exists with only
        // its run label (it holds no lease yet). The retry (same ClientRequestToken) must finish it, not make a
        // second version.
        var uri = AwsTestContext.NewUri();
        var store = new AwsSecretsManagerStore(uri, AwsTestContext.Create());
        await store.PutAsync(SecretValue.FromText("current-value-1"), SecretStage.Current, NoRun);
        var token = Guid.NewGuid().ToString();
        Python("c.put_secret_value(SecretId=sys.argv[1], ClientRequestToken=sys.argv[2], SecretString='staged-value-2', VersionStages=['rotation-run/r-crashed'])", uri.Path, token);

        var retried = await store.PutAsync(SecretValue.FromText("staged-value-2"), SecretStage.Pending, new SecretWriteOptions { RunId = "r-crashed", ClientRequestToken = token });
        Assert.Equal(token, retried.VersionId);
        Assert.Equal("staged-value-2", (await store.GetAsync(SecretStage.Pending)).Value.Text);
        Assert.Equal("r-crashed", (await store.DescribeAsync()).PendingRunId);
        Assert.Equal(2, (await store.DescribeAsync()).Versions.Count);
    }

    [Fact]
    public async Task A_missing_stage_and_a_missing_secret_are_told_apart()
    {
        var store = new AwsSecretsManagerStore(AwsTestContext.NewUri(), AwsTestContext.Create());
        Assert.Equal(RotationErrorIds.SecretNotFound, (await Assert.ThrowsAsync<RotationException>(() => store.GetAsync(SecretStage.Current))).ErrorId);
        await store.PutAsync(SecretValue.FromText("only-current-1"), SecretStage.Current, NoRun);
        var ex = await Assert.ThrowsAsync<RotationException>(() => store.GetAsync(SecretStage.Pending));
        Assert.Equal(RotationErrorIds.SecretStageNotFound, ex.ErrorId);
        Assert.Contains("AWSPENDING", ex.Message);
    }

    [Fact]
    public void The_endpoint_comes_from_the_parameter_then_the_service_variable_then_the_global_one()
    {
        var env = new Dictionary<string, string> { ["AWS_ENDPOINT_URL"] = "http://global:1", ["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = "http://service:2" };
        StoreContext Ctx(string? endpoint, params string[] keep) =>
            new() { Endpoint = endpoint, GetEnvironmentVariable = n => keep.Contains(n) ? env.GetValueOrDefault(n) : null };
        Assert.Equal("http://explicit:3/", AwsSecretsManagerClient.ResolveEndpoint("us-east-1", Ctx("http://explicit:3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"), "t").ToString());
        Assert.Equal("http://service:2/", AwsSecretsManagerClient.ResolveEndpoint("us-east-1", Ctx(null, "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"), "t").ToString());
        Assert.Equal("http://global:1/", AwsSecretsManagerClient.ResolveEndpoint("us-east-1", Ctx(null, "AWS_ENDPOINT_URL"), "t").ToString());
        Assert.Equal("https://secretsmanager.eu-west-2.amazonaws.com/", AwsSecretsManagerClient.ResolveEndpoint("eu-west-2", Ctx(null), "t").ToString());
        var bad = Assert.Throws<RotationException>(() => AwsSecretsManagerClient.ResolveEndpoint("us-east-1", Ctx("ftp://nope"), "t"));
        Assert.Equal(RotationErrorIds.InvalidArgument, bad.ErrorId);
    }

    [Fact]
    public void A_bad_region_is_an_invalid_argument()
    {
        var ex = Assert.Throws<RotationException>(() => new AwsSecretsManagerStore(SecretStoreUri.Parse("aws-sm://Not_A_Region/x"), StoreContext.Default));
        Assert.Equal(RotationErrorIds.InvalidArgument, ex.ErrorId);
    }

    [Fact]
    public async Task An_unreachable_endpoint_is_StoreUnreachable_after_the_retries()
    {
        var env = AwsTestContext.Environment();
        var ctx = new StoreContext { GetEnvironmentVariable = n => env.GetValueOrDefault(n), Endpoint = "http://127.0.0.1:9", MaxRetries = 1 };
        var ex = await Assert.ThrowsAsync<RotationException>(() => new AwsSecretsManagerStore(AwsTestContext.NewUri(), ctx).GetAsync(SecretStage.Current));
        Assert.Equal(RotationErrorIds.StoreUnreachable, ex.ErrorId);
        Assert.True(ex.IsTransient);
    }

    [Fact]
    public async Task Throttling_and_5xx_are_retried_with_the_same_ClientRequestToken()
    {
        var handler = new CannedHandler(
            (HttpStatusCode.NotFound, "{\"__type\":\"ResourceNotFoundException\",\"message\":\"no\"}"),   // ListSecretVersionIds
            (HttpStatusCode.BadRequest, "{\"__type\":\"ThrottlingException\",\"message\":\"slow down\"}"), // CreateSecret
            (HttpStatusCode.ServiceUnavailable, "{\"__type\":\"ServiceUnavailable\"}"),
            (HttpStatusCode.OK, "{\"VersionId\":\"x\"}"),
            (HttpStatusCode.OK, "{}"));                                                                    // lease label
        var store = new AwsSecretsManagerStore(SecretStoreUri.Parse("aws-sm://us-east-1/app/db"), Canned(handler));
        var token = Guid.NewGuid().ToString();
        await store.PutAsync(SecretValue.FromText("value-retried-1"), SecretStage.Current, new SecretWriteOptions { ClientRequestToken = token });
        var creates = handler.Requests.Where(r => r.Target == "secretsmanager.CreateSecret").ToList();
        Assert.Equal(3, creates.Count);
        Assert.All(creates, r => Assert.Equal(token, JsonDocument.Parse(r.Body).RootElement.GetProperty("ClientRequestToken").GetString()));
        Assert.All(handler.Requests, r => Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", r.Authorization));
    }

    [Fact]
    public async Task Throttling_that_never_ends_is_StoreThrottled()
    {
        var handler = new CannedHandler(Enumerable.Repeat((HttpStatusCode.BadRequest, "{\"__type\":\"ThrottlingException\"}"), 3).ToArray());
        var ex = await Assert.ThrowsAsync<RotationException>(() => new AwsSecretsManagerStore(SecretStoreUri.Parse("aws-sm://us-east-1/app/db"), Canned(handler, maxRetries: 2)).DescribeAsync());
        Assert.Equal(RotationErrorIds.StoreThrottled, ex.ErrorId);
        Assert.Equal(3, handler.Requests.Count);
    }

    [Theory]
    [InlineData("AccessDeniedException", RotationErrorIds.StoreAccessDenied)]
    [InlineData("UnrecognizedClientException", RotationErrorIds.StoreAuthenticationFailed)]
    [InlineData("ExpiredTokenException", RotationErrorIds.StoreAuthenticationFailed)]
    [InlineData("ValidationException", RotationErrorIds.StoreRequestFailed)]
    public async Task Client_errors_are_mapped_to_stable_ids_without_retrying(string awsType, string errorId)
    {
        var handler = new CannedHandler((HttpStatusCode.BadRequest, $"{{\"__type\":\"com.amazonaws.secretsmanager#{awsType}\",\"message\":\"m\"}}"));
        var ex = await Assert.ThrowsAsync<RotationException>(() => new AwsSecretsManagerStore(SecretStoreUri.Parse("aws-sm://us-east-1/app/db"), Canned(handler)).DescribeAsync());
        Assert.Equal(errorId, ex.ErrorId);
        Assert.Equal("aws-sm://us-east-1/app/db", ex.TargetName);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task Session_credentials_send_the_security_token()
    {
        var handler = new CannedHandler((HttpStatusCode.OK, "{\"Versions\":[]}"));
        var env = new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE", ["AWS_SECRET_ACCESS_KEY"] = "secret", ["AWS_SESSION_TOKEN"] = "session-token-1" };
        var ctx = new StoreContext { GetEnvironmentVariable = n => env.GetValueOrDefault(n), HttpHandlerFactory = () => handler, Endpoint = "http://127.0.0.1:1" };
        await new AwsSecretsManagerStore(SecretStoreUri.Parse("aws-sm://us-east-1/app/db"), ctx).DescribeAsync();
        Assert.NotEmpty(handler.Requests);
        Assert.All(handler.Requests, r => Assert.Equal("session-token-1", r.SecurityToken));
        Assert.All(handler.Requests, r => Assert.Contains("x-amz-security-token", r.Authorization));
    }

    private static StoreContext Canned(CannedHandler handler, int maxRetries = 4)
    {
        var env = new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE", ["AWS_SECRET_ACCESS_KEY"] = "secret" };
        return new StoreContext { GetEnvironmentVariable = n => env.GetValueOrDefault(n), HttpHandlerFactory = () => handler, Endpoint = "http://127.0.0.1:1", MaxRetries = maxRetries };
    }

    private static JsonElement Boto3(string secretId) => JsonDocument.Parse(Python("""
        def stage(s):
            try: return c.get_secret_value(SecretId=sys.argv[1], VersionStage=s)["SecretString"]
            except c.exceptions.ResourceNotFoundException: return None
        d = c.describe_secret(SecretId=sys.argv[1])
        print(json.dumps({"current": stage("AWSCURRENT"), "pending": stage("AWSPENDING"), "previous": stage("AWSPREVIOUS"), "labels": d["VersionIdsToStages"]}))
        """, secretId)).RootElement.Clone();

    /// <summary>Runs Python with a boto3 Secrets Manager client <c>c</c> on the test moto (boto3 is what tests/servers.sh
    /// itself uses), with <paramref name="args"/> as sys.argv[1..].</summary>
    private static string Python(string body, params string[] args)
    {
        const string prelude = """
            import json, os, sys, boto3
            c = boto3.client("secretsmanager", endpoint_url=os.environ["ROTATION_TEST_AWS_ENDPOINT"], region_name="us-east-1",
                aws_access_key_id=os.environ["ROTATION_TEST_AWS_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["ROTATION_TEST_AWS_SECRET_ACCESS_KEY"])

            """;
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(prelude + body);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, "boto3 failed: " + error);
        return output;
    }

    /// <summary>Answers requests from a list, recording what was sent: a unit test of the client's retry and error
    /// mapping only (the protocol itself is tested against moto above).</summary>
    private sealed class CannedHandler(params (HttpStatusCode Status, string Body)[] responses) : HttpMessageHandler
    {
        private int _next;

        public List<(string Target, string Body, string Authorization, string? SecurityToken)> Requests { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = await request.Content!.ReadAsStringAsync(cancellationToken);
            lock (Requests)
            {
                Requests.Add((request.Headers.GetValues("X-Amz-Target").Single(), body, request.Headers.GetValues("Authorization").Single(),
                    request.Headers.TryGetValues("X-Amz-Security-Token", out var t) ? t.Single() : null));
            }
            var (status, text) = responses[Math.Min(Interlocked.Increment(ref _next) - 1, responses.Length - 1)];
            return new HttpResponseMessage(status) { Content = new StringContent(text, Encoding.UTF8, "application/x-amz-json-1.1") };
        }
    }
}
