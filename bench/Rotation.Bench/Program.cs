using System.Diagnostics;
using System.Globalization;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

// Stores N new secrets in AWS Secrets Manager (moto from tests/servers.sh) two ways in one run:
//   1. Rotation: AwsSecretsManagerStore.PutAsync(Current) with bounded parallelism, in one process;
//   2. the runbooks' way: one `aws secretsmanager create-secret` process per secret, one after another, as a script
//      does it (measured on --baseline-count secrets and reported per secret when that is fewer).
// It starts nothing itself: it reads ROTATION_TEST_AWS_ENDPOINT, _ACCESS_KEY_ID and _SECRET_ACCESS_KEY like the tests.
// Usage: dotnet run --project bench/Rotation.Bench -c Release -- [--count 1000] [--baseline-count N] [--parallelism 16]

var count = Option("--count", 1000);
var baselineCount = Option("--baseline-count", count);
var parallelism = Option("--parallelism", 16);
var endpoint = Require("ROTATION_TEST_AWS_ENDPOINT");
var accessKey = Require("ROTATION_TEST_AWS_ACCESS_KEY_ID");
var secretKey = Require("ROTATION_TEST_AWS_SECRET_ACCESS_KEY");
const string region = "us-east-1";
var prefix = $"bench/{DateTime.UtcNow:yyyyMMddHHmmss}-{Guid.NewGuid().ToString("N")[..6]}";

var env = new Dictionary<string, string>
{
    ["AWS_ACCESS_KEY_ID"] = accessKey,
    ["AWS_SECRET_ACCESS_KEY"] = secretKey,
    ["AWS_EC2_METADATA_DISABLED"] = "true",
};
var context = new StoreContext { GetEnvironmentVariable = n => env.GetValueOrDefault(n), Endpoint = endpoint };

Console.WriteLine($"Rotation bench: {count} new secrets in Secrets Manager at {endpoint} (parallelism {parallelism}); baseline: {baselineCount} sequential aws CLI processes.");

// Warm-up (JIT, connection pool, credential resolution) outside the measurement, on its own secret.
await new AwsSecretsManagerStore(SecretStoreUri.Parse($"aws-sm://{region}/{prefix}/warmup"), context)
    .PutAsync(SecretValue.FromText(SecretGenerator.NewPassword()), SecretStage.Current, new SecretWriteOptions());

var fingerprints = new string[count];
var ours = Stopwatch.StartNew();
await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (i, ct) =>
{
    var value = SecretValue.FromText(SecretGenerator.NewPassword());
    var store = new AwsSecretsManagerStore(SecretStoreUri.Parse($"aws-sm://{region}/{prefix}/rotation-{i}"), context);
    var written = await store.PutAsync(value, SecretStage.Current, new SecretWriteOptions(), ct);
    fingerprints[i] = written.Fingerprint;
});
ours.Stop();
Console.WriteLine(F($"Rotation done: {count} secrets in {ours.Elapsed.TotalSeconds:0.00} s; now the baseline..."));

// Every secret is really there with the value written (a sample, read back by stage).
foreach (var i in Enumerable.Range(0, count).Where(i => i % Math.Max(1, count / 20) == 0))
{
    var read = await new AwsSecretsManagerStore(SecretStoreUri.Parse($"aws-sm://{region}/{prefix}/rotation-{i}"), context).GetAsync(SecretStage.Current);
    if (read.Fingerprint != fingerprints[i])
    {
        throw new InvalidOperationException($"rotation-{i} reads back {read.Fingerprint}, wrote {fingerprints[i]}");
    }
}

var baseline = Stopwatch.StartNew();
for (var i = 0; i < baselineCount; i++)
{
    // As the runbooks do it (and with their flaw: the value is on the command line, visible in the process list).
    // "--secret-string=" keeps a value that starts with '-' from being parsed as an option.
    AwsCli(endpoint, region, accessKey, secretKey, "secretsmanager", "create-secret", "--name", $"{prefix}/cli-{i}", "--secret-string=" + SecretGenerator.NewPassword());
}
baseline.Stop();

var oursPerSecret = ours.Elapsed.TotalMilliseconds / count;
var cliPerSecret = baseline.Elapsed.TotalMilliseconds / Math.Max(1, baselineCount);
var cliProjected = TimeSpan.FromMilliseconds(cliPerSecret * count);
Console.WriteLine();
Console.WriteLine(F($"Rotation (AwsSecretsManagerStore, parallelism {parallelism}): {count} secrets in {ours.Elapsed.TotalSeconds:0.00} s ({oursPerSecret:0.0} ms per secret, {count / ours.Elapsed.TotalSeconds:0.0} secrets/s)"));
Console.WriteLine(F($"Runbook way (aws CLI, one process per secret, sequential): {baselineCount} secrets in {baseline.Elapsed.TotalSeconds:0.00} s ({cliPerSecret:0.0} ms per secret)"));
if (baselineCount != count)
{
    Console.WriteLine(F($"  The baseline was measured on {baselineCount} secrets, not {count}: its time for {count} is extrapolated per secret: {cliProjected.TotalSeconds:0.0} s."));
}
Console.WriteLine(F($"Ratio (runbook way / Rotation, for {count} secrets): {cliProjected.TotalMilliseconds / ours.Elapsed.TotalMilliseconds:0.0}x"));
return 0;

static void AwsCli(string endpoint, string region, string accessKey, string secretKey, params string[] args)
{
    var psi = new ProcessStartInfo("aws") { RedirectStandardOutput = true, RedirectStandardError = true };
    psi.ArgumentList.Add("--endpoint-url");
    psi.ArgumentList.Add(endpoint);
    foreach (var a in args)
    {
        psi.ArgumentList.Add(a);
    }
    psi.Environment["AWS_ACCESS_KEY_ID"] = accessKey;
    psi.Environment["AWS_SECRET_ACCESS_KEY"] = secretKey;
    psi.Environment["AWS_DEFAULT_REGION"] = region;
    psi.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
    using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start the aws CLI");
    p.StandardOutput.ReadToEnd();
    var error = p.StandardError.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0)
    {
        throw new InvalidOperationException($"aws {args[0]} {args[1]} failed ({p.ExitCode}): {error.Split('\n')[0]}");
    }
}

static string Require(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v
    ? v
    : throw new InvalidOperationException($"{name} is not set: source the file 'tests/servers.sh start' prints first.");

int Option(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
