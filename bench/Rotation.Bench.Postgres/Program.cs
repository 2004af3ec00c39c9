using System.Diagnostics;
using System.Globalization;
using Rotation.Core.Audit;
using Rotation.Core.Errors;
using Rotation.Core.Postgres;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

// One run on one server: (1) 8 clients logging in with fresh unpooled connections, reading the credential from the
// store each time, through a whole rotation pipeline for NewUser, AlternatingUsers and the single-user ALTER USER
// baseline; (2) 100 application logins rotated in parallel versus one psql process per login, as the runbooks do.
const int Clients = 8;
const int Fleet = 100;

string Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v
    : throw new InvalidOperationException($"{name} is not set: source the env file of tests/servers.sh first.");

var host = Env("ROTATION_TEST_PG_HOST");
var port = int.Parse(Env("ROTATION_TEST_PG_PORT"), CultureInfo.InvariantCulture);
var admin = RotationCredential.FromPlainText(Env("ROTATION_TEST_PG_USER"), Env("ROTATION_TEST_PG_PASSWORD"));
var state = Directory.CreateTempSubdirectory("rotation-bench-pg-").FullName;
var tag = "bench_" + Guid.NewGuid().ToString("N")[..8];
string? EnvFor(string name) => name == RotationPaths.StateDirVariable ? state : null;
var services = new RotationServices
{
    Stores = SecretStoreRegistry.CreateDefault(),
    StoreContext = new StoreContext { GetEnvironmentVariable = EnvFor },
    Journal = new FileRunJournal(RotationPaths.JournalDirectory(EnvFor), NullRotationLog.Instance),
    Audit = JsonlAuditLog.FromEnvironment(EnvFor),
};
var adminOn = (string db) => new DbConnectionOptions { Server = host, Port = port, Database = db, AdminCredential = admin };

async Task Sql(string sql, string db = "postgres")
{
    await using var c = await PgCatalog.OpenAsync(adminOn(db), admin, pooling: false, CancellationToken.None);
    await PgCatalog.ExecuteAsync(c, sql, CancellationToken.None);
}

async Task<RotationCredential> Login(string name, string db)
{
    var pw = SecretGenerator.NewPassword();
    await Sql($"CREATE ROLE {name} LOGIN PASSWORD {PgScram.PasswordLiteral(pw)}; GRANT {tag}_grp TO {name}; GRANT CONNECT ON DATABASE {db} TO {name}");
    return RotationCredential.FromPlainText(name, pw);
}

async Task Seed(string uri, RotationCredential login) =>
    await services.OpenStore(uri).PutAsync(DbCredentialShape.Write(login.UserName, SecureStrings.ToPlainText(login.Password)), SecretStage.Current, new SecretWriteOptions());

var db = tag + "_db";
await Sql($"CREATE DATABASE {db}; CREATE ROLE {tag}_grp NOLOGIN");
await Sql($"CREATE TABLE t(x int); GRANT SELECT ON t TO {tag}_grp", db);
Console.WriteLine($"PostgreSQL {host}:{port}, {Environment.ProcessorCount} cores, {Clients} clients, fresh unpooled connection per login");
Console.WriteLine();
Console.WriteLine($"{"strategy",-18} {"attempts",9} {"failed",7} {"wall s",7} {"rotate s",9} {"logins/s",9}");
try
{
    foreach (var strategy in new[] { DbRotationStrategy.NewUser, DbRotationStrategy.AlternatingUsers, DbRotationStrategy.AlterPassword })
    {
        var user = $"{tag}_{strategy.ToString().ToLowerInvariant()}" + (strategy == DbRotationStrategy.AlternatingUsers ? "_a" : string.Empty);
        var first = await Login(user, db);
        if (strategy == DbRotationStrategy.AlternatingUsers)
        {
            await Login(user[..^2] + "_b", db);
        }
        var uri = $"file://{state}/{strategy}.json#app";
        await Seed(uri, first);
        var store = services.OpenStore(uri);
        var wall = Stopwatch.StartNew();
        await using var load = new DbLoginLoad(new DbConnectionOptions { Server = host, Port = port, Database = db },
            async ct => DbCredentialShape.Read((await store.GetAsync(SecretStage.Current, ct)).Value, uri), Clients);
        await Task.Delay(1500);
        var rotate = Stopwatch.StartNew();
        var r = await DbUserRotator.InvokeAsync(new DbRotationRequest { Connection = adminOn(db), User = user, Strategy = strategy, SecretUri = uri }, services, CancellationToken.None);
        rotate.Stop();
        await Task.Delay(1000);
        if (strategy != DbRotationStrategy.AlterPassword)
        {
            await RetireWhenDrained(r, uri, db);
        }
        await Task.Delay(1000);
        await load.StopAsync();
        wall.Stop();
        Console.WriteLine($"{strategy,-18} {load.Attempts,9} {load.Failures,7} {wall.Elapsed.TotalSeconds,7:F1} {rotate.Elapsed.TotalSeconds,9:F2} {load.Attempts / wall.Elapsed.TotalSeconds,9:F0}");
    }

    Console.WriteLine();
    var fleet = new List<RotationCredential>();
    for (var i = 0; i < Fleet; i++)
    {
        fleet.Add(await Login($"{tag}_fleet{i}", db));
    }
    foreach (var strategy in new[] { DbRotationStrategy.NewUser, DbRotationStrategy.AlterPassword })
    {
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(fleet, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (login, ct) =>
            await DbUserRotator.InvokeAsync(new DbRotationRequest
            {
                Connection = adminOn(db), User = login.UserName, Strategy = strategy, SecretUri = $"file://{state}/fleet-{strategy}/{login.UserName}.json#app",
            }, services, ct));
        Console.WriteLine($"{Fleet} logins, Rotation {strategy} in parallel (16 at a time, staged/verified/journaled): {watch.Elapsed.TotalSeconds:F1} s");
    }
    var psql = Stopwatch.StartNew();
    foreach (var login in fleet)
    {
        var start = new ProcessStartInfo("psql", ["-h", host, "-p", port.ToString(CultureInfo.InvariantCulture), "-U", admin.UserName, "-d", db, "-qAt",
            "-c", $"ALTER USER {login.UserName} PASSWORD '{SecretGenerator.NewPassword()}'"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["PGPASSWORD"] = SecureStrings.ToPlainText(admin.Password);
        using var p = Process.Start(start)!;
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException("psql failed: " + await p.StandardError.ReadToEndAsync());
        }
    }
    Console.WriteLine($"{Fleet} logins, one psql process per login (ALTER USER only, nothing staged or verified): {psql.Elapsed.TotalSeconds:F1} s");
}
finally
{
    await Sql($"DROP DATABASE IF EXISTS {db} WITH (FORCE)");
    await using var c = await PgCatalog.OpenAsync(adminOn("postgres"), admin, pooling: false, CancellationToken.None);
    foreach (var role in await PgCatalog.RolesLikeAsync(c, tag, CancellationToken.None))
    {
        await PgCatalog.ExecuteAsync(c, $"DROP OWNED BY {role}; DROP ROLE {role}", CancellationToken.None);
    }
    Directory.Delete(state, recursive: true);
}

async Task RetireWhenDrained(DbUserRotation r, string uri, string database)
{
    var request = new DbRetireRequest { Connection = adminOn(database), User = r.User, GracePeriod = TimeSpan.FromSeconds(1), SecretUri = uri };
    for (var attempt = 0; ; attempt++)
    {
        try
        {
            foreach (var (role, marker) in await DbUserRotator.FindRetiredAsync(request, services.OpenStore, CancellationToken.None))
            {
                await DbUserRotator.RemoveRetiredAsync(request, role, marker, services, CancellationToken.None);
            }
            return;
        }
        catch (RotationException ex) when (ex.ErrorId is RotationErrorIds.GracePeriodNotElapsed or RotationErrorIds.SessionsStillActive && attempt < 100)
        {
            await Task.Delay(100);
        }
    }
}
