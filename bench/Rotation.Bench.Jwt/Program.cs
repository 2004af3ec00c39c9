using System.Diagnostics;
using System.Globalization;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Rotation.Core.Jwt;

// Usage: Rotation.Bench.Jwt [count, default 100000] [algorithms, default HS256,RS256,ES256]
// Validating N tokens against a ring of three keys (Retiring, Active, Next: the middle of a rollover), with and
// without kid, against the floor of one key validated by JsonWebTokenHandler directly. A Stopwatch console rather
// than BenchmarkDotNet: one run, one table, comparable rows measured in the same process a few seconds apart.
var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
const int DistinctTokens = 1_000; // signing is the slow part (RSA); validation results are never cached, so tokens are reused.
var clock = TimeProvider.System;
Console.WriteLine($"JWT key ring validation, {count:N0} tokens per row ({DistinctTokens:N0} distinct, reused), {Environment.ProcessorCount} cores, .NET {Environment.Version}");
Console.WriteLine($"{"algorithm",-9} {"case",-48} {"tokens/s",12} {"us/token",9} {"vs floor",9}");

var algorithms = args.Length > 1
    ? args[1].Split(',').Select(Enum.Parse<JwtAlgorithm>).ToArray()
    : [JwtAlgorithm.HS256, JwtAlgorithm.RS256, JwtAlgorithm.ES256];
foreach (var alg in algorithms)
{
    var now = clock.GetUtcNow();
    var ring = new JwtKeyRing { Uri = "bench" };
    ring = JwtKeyLifecycle.Add(ring, JwtKeyFactory.New(alg, clock), now, activate: true, "bench");
    ring = JwtKeyLifecycle.Add(ring, JwtKeyFactory.New(alg, clock), now, activate: false, "bench");
    ring = JwtKeyLifecycle.Switch(ring, now, TimeSpan.Zero, "bench");
    ring = JwtKeyLifecycle.Add(ring, JwtKeyFactory.New(alg, clock), now, activate: false, "bench");
    var active = ring.Active!;
    var single = new JwtKeyRing { Uri = "bench-single", Keys = [ring.Active! with { }], NextVersion = ring.NextVersion };

    var withKid = Sign(active, includeKid: true);
    var withoutKid = Sign(active, includeKid: false);

    // Floor: the handler with exactly one key and nothing else.
    var handler = new JsonWebTokenHandler();
    var floorParameters = new TokenValidationParameters
    {
        IssuerSigningKey = JwtKeyCrypto.VerificationKey(active),
        ValidateIssuer = false,
        ValidateAudience = false,
        ValidateLifetime = true,
        ValidAlgorithms = [alg.ToString()],
    };
    var oneKey = new JwtTokenVerifier(single, clock);
    var three = new JwtTokenVerifier(ring, clock);
    var cases = new (string Name, Func<double> Run)[]
    {
        ("floor: JsonWebTokenHandler, 1 key", () => Measure(withKid, t => handler.ValidateTokenAsync(t, floorParameters).GetAwaiter().GetResult().IsValid)),
        ("ring of 1 key (JwtTokenVerifier)", () => Measure(withKid, t => oneKey.TestAsync(t).GetAwaiter().GetResult().IsValid)),
        ("ring of 3 keys, token with kid", () => Measure(withKid, t => three.TestAsync(t).GetAwaiter().GetResult().IsValid)),
        ("ring of 3 keys, token without kid", () => Measure(withoutKid, t => three.TestAsync(t).GetAwaiter().GetResult().IsValid)),
        ("usage meter, kid-less (one pass over all lines)", () => MeasureBatch(withoutKid, lines => JwtKeyUsageMeter.Measure(ring, lines).TokenCount)),
    };
    // Two rounds over all cases, best of each: the machine is shared, and the first round also warms up the JIT
    // (tiered compilation) for every path, so no row pays for another's warm-up.
    var best = new double[cases.Length];
    for (var round = 0; round < 2; round++)
    {
        for (var i = 0; i < cases.Length; i++)
        {
            best[i] = Math.Max(best[i], cases[i].Run());
        }
    }
    for (var i = 0; i < cases.Length; i++)
    {
        Row(alg, cases[i].Name, best[i], best[0]);
    }
}

string[] Sign(JwtKey key, bool includeKid)
{
    var h = new JsonWebTokenHandler();
    var credentials = JwtKeyCrypto.SigningCredentials(key, includeKid);
    return Enumerable.Range(0, DistinctTokens).Select(i => h.CreateToken(new SecurityTokenDescriptor
    {
        Claims = new Dictionary<string, object> { ["sub"] = $"user-{i}" },
        Expires = DateTime.UtcNow.AddHours(1),
        SigningCredentials = credentials,
    })).ToArray();
}

double Measure(string[] tokens, Func<string, bool> validate)
{
    for (var i = 0; i < Math.Min(2_000, count); i++)
    {
        Check(validate(tokens[i % tokens.Length]));
    }
    var sw = Stopwatch.StartNew();
    for (var i = 0; i < count; i++)
    {
        Check(validate(tokens[i % tokens.Length]));
    }
    sw.Stop();
    return count / sw.Elapsed.TotalSeconds;
}

double MeasureBatch(string[] tokens, Func<IEnumerable<string>, int> measure)
{
    Check(measure(tokens.Take(Math.Min(2_000, count))) > 0);
    var sw = Stopwatch.StartNew();
    Check(measure(Enumerable.Range(0, count).Select(i => tokens[i % tokens.Length])) == count);
    sw.Stop();
    return count / sw.Elapsed.TotalSeconds;
}

static void Check(bool valid)
{
    if (!valid)
    {
        throw new InvalidOperationException("A token that must validate did not: the benchmark is measuring a failure path.");
    }
}

static void Row(JwtAlgorithm alg, string name, double perSecond, double floor) =>
    Console.WriteLine($"{alg,-9} {name,-48} {perSecond,12:N0} {1e6 / perSecond,9:N1} {perSecond / floor,8:P0}");
