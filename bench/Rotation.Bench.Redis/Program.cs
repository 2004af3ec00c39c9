using System.Diagnostics;
using System.Globalization;
using Rotation.Core.Redis;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Tests.Redis;

// Rotates one Redis login per strategy while simulated application clients log in on fresh connections in a loop.
// Clients use the old credential until they "restart" (RestartDelay after the rotation returns), then the new one.
// Reads ROTATION_TEST_REDIS_ENDPOINT / _ADMIN_USER / _ADMIN_PASSWORD (tests/servers.sh). Optional arguments:
//   --clients N (default 8)   --restart-ms N (default 1000)   --rounds N (default 3)
var env = (string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v
    : throw new InvalidOperationException($"{name} is not set: run 'source $(tests/servers.sh start)' first.");
var endpoint = RedisEndpoint.Parse(env("ROTATION_TEST_REDIS_ENDPOINT"));
var admin = RotationCredential.FromPlainText(env("ROTATION_TEST_REDIS_ADMIN_USER"), env("ROTATION_TEST_REDIS_ADMIN_PASSWORD"));
int Arg(string name, int fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
var clients = Arg("--clients", 8);
var restart = TimeSpan.FromMilliseconds(Arg("--restart-ms", 1000));
var rounds = Arg("--rounds", 3);

var state = Directory.CreateTempSubdirectory("rotation-bench-redis-");
var services = RotationEnvironment.CreateServices(NullRotationLog.Instance, n => n == RotationPaths.StateDirVariable ? state.FullName : Environment.GetEnvironmentVariable(n));

Console.WriteLine($"Redis {endpoint}: {clients} clients logging in on fresh connections; clients switch to the new credential {restart.TotalMilliseconds:0} ms after the rotation returns; {rounds} rounds each.");
Console.WriteLine();
Console.WriteLine($"{"Strategy",-13} {"Round",5} {"Attempts",9} {"Failures",9} {"Fail %",7} {"Rotation ms",12} {"Wall ms",9}");
var totals = new List<(RedisAclStrategy Strategy, long Attempts, long Failures, double RotationMs)>();
try
{
    foreach (var strategy in new[] { RedisAclStrategy.DualPassword, RedisAclStrategy.NewUser, RedisAclStrategy.RequirePass })
    {
        for (var round = 1; round <= rounds; round++)
        {
            var r = await RunAsync(strategy);
            totals.Add((strategy, r.Attempts, r.Failures, r.RotationMs));
            Console.WriteLine($"{strategy,-13} {round,5} {r.Attempts,9} {r.Failures,9} {100.0 * r.Failures / Math.Max(1, r.Attempts),6:0.0}% {r.RotationMs,12:0} {r.WallMs,9:0}");
        }
    }
    Console.WriteLine();
    foreach (var g in totals.GroupBy(t => t.Strategy))
    {
        Console.WriteLine($"{g.Key,-13} total: {g.Sum(x => x.Attempts)} attempts, {g.Sum(x => x.Failures)} failures, median rotation {Median(g.Select(x => x.RotationMs)):0} ms");
    }
}
finally
{
    state.Delete(recursive: true);
}
return totals.Where(t => t.Strategy != RedisAclStrategy.RequirePass).Sum(t => t.Failures) == 0 ? 0 : 1;

async Task<(long Attempts, long Failures, double RotationMs, double WallMs)> RunAsync(RedisAclStrategy strategy)
{
    var user = strategy == RedisAclStrategy.RequirePass ? "default" : $"bench_{strategy.ToString().ToLowerInvariant()}_{Guid.NewGuid().ToString("N")[..8]}";
    var oldPassword = SecretGenerator.NewPassword();
    await using (var a = await RedisConnection.ConnectAsync(endpoint, admin))
    {
        await a.AclSetUserAsync(user, ["reset", "on", ">" + oldPassword, "~app:*", "-@all", "+get", "+ping"], [oldPassword]);
    }
    var old = RotationCredential.FromPlainText(user, oldPassword);
    RotationCredential? fresh = null;
    var wall = Stopwatch.StartNew();
    try
    {
        await using var load = new RedisLoginLoad([endpoint], clients, _ => Volatile.Read(ref fresh) ?? old);
        await load.WarmUpAsync(50);
        var sw = Stopwatch.StartNew();
        var result = await RedisAclRotator.RotateAsync(new RedisAclRotationRequest
        {
            Endpoints = [endpoint],
            User = user,
            AdminCredential = admin,
            Strategy = strategy,
            Uri = $"file://{Path.Combine(state.FullName, "secrets.json")}#{user}",
        }, services);
        var rotationMs = sw.Elapsed.TotalMilliseconds;
        await Task.Delay(restart);
        Volatile.Write(ref fresh, result.Credential);
        await load.WarmUpAsync(50);
        await load.StopAsync();
        return (load.Attempts, load.Failures, rotationMs, wall.Elapsed.TotalMilliseconds);
    }
    finally
    {
        await using var a = await RedisConnection.ConnectAsync(endpoint, admin);
        if (user == "default")
        {
            await a.AclSetUserAsync("default", ["reset", "off"]);
        }
        else
        {
            await a.AclDelUserAsync(user);
            await a.AclDelUserAsync(user + "_v2");
        }
        await a.AclSaveAsync();
    }
}

static double Median(IEnumerable<double> values)
{
    var v = values.Order().ToList();
    return v.Count == 0 ? 0 : v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
}
