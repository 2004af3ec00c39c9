using Rotation.Core.Errors;
using Rotation.Core.Postgres;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

namespace Rotation.Core.Tests.Postgres;

/// <summary>
/// The proof the issue asks for: 8 clients open fresh unpooled connections in a loop, each reading the current
/// credential from the store, for the whole pipeline (rotate, publish, switch, retire the old login after draining),
/// twice over; not one login may fail.
/// </summary>
public sealed class ZeroFailedLoginsTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Clients = 8;

    [Fact]
    public Task NewUser_pipeline_under_load_has_no_failed_login() => ProveAsync(DbRotationStrategy.NewUser, "app");

    [Fact]
    public Task AlternatingUsers_pipeline_under_load_has_no_failed_login() => ProveAsync(DbRotationStrategy.AlternatingUsers, "app_a");

    private async Task ProveAsync(DbRotationStrategy strategy, string appName)
    {
        await using var f = await PgFixture.CreateAsync(appName);
        if (strategy == DbRotationStrategy.AlternatingUsers)
        {
            await PgTest.CreateLoginAsync(f.Prefix + "_app_b");
            await PgTest.ExecAsync($"GRANT {f.Group} TO {f.Prefix}_app_b");
        }
        using var h = new PgRunHarness();
        await h.SeedCurrentAsync(f.App);
        // The application reads its own copy (a Kubernetes secret in the runbooks), published after each rotation.
        var published = h.Store($"file://{h.StateDirectory}/published.json#app");
        await Publish(published, f.App);
        var appTarget = new DbConnectionOptions { Server = f.AdminOptions.Server, Port = f.AdminOptions.Port, Database = f.Database };

        await using var load = new DbLoginLoad(appTarget,
            async ct => DbCredentialShape.Read((await published.GetAsync(SecretStage.Current, ct)).Value, published.Uri.Original), Clients);
        await load.WaitForAttemptsAsync(200, TimeSpan.FromSeconds(4));

        var retired = new List<DbRetiredUser>();
        for (var round = 0; round < 2; round++)
        {
            // Rotate (staged, applied, verified, promoted), publish, and the clients switch on their next read.
            var r = await h.RotateAsync(f.Request(h, strategy));
            await load.WaitForAttemptsAsync(load.Attempts + 50, TimeSpan.FromSeconds(2));
            await Publish(published, r.Credential);
            await load.WaitForAttemptsAsync(load.Attempts + 150, TimeSpan.FromSeconds(3));
            // Retire after draining: a short grace period, and no -Force, so sessions still open are waited for.
            retired.Add(await RetireWhenDrainedAsync(f, h, r));
            await load.WaitForAttemptsAsync(load.Attempts + 150, TimeSpan.FromSeconds(3));
        }
        await load.WaitForAttemptsAsync(1100, TimeSpan.FromSeconds(8));
        await load.StopAsync();

        output.WriteLine($"{strategy}: {load.Attempts} logins by {Clients} clients in {load.Elapsed.Elapsed.TotalSeconds:F1} s, {load.Failures} failed");
        Assert.True(load.Attempts >= 1000, $"only {load.Attempts} logins were made");
        Assert.True(load.Failures == 0, $"{load.Failures} of {load.Attempts} logins failed: {string.Join("; ", load.FailureReasons.Take(5))}");
        Assert.All(retired, x => Assert.True(x.OldLoginRejected));
    }

    private static Task Publish(ISecretStore published, RotationCredential login) =>
        published.PutAsync(DbCredentialShape.Write(login.UserName, SecureStrings.ToPlainText(login.Password)), SecretStage.Current, new SecretWriteOptions());

    private static async Task<DbRetiredUser> RetireWhenDrainedAsync(PgFixture f, PgRunHarness h, DbUserRotation r)
    {
        // The grace period covers clients that read the published secret just before it changed.
        var request = new DbRetireRequest { Connection = f.AdminOptions, User = r.User, GracePeriod = TimeSpan.FromSeconds(1), SecretUri = h.SecretUri };
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                var (user, marker) = Assert.Single(await DbUserRotator.FindRetiredAsync(request, h.Services.OpenStore, CancellationToken.None));
                Assert.Equal(r.PreviousUser, user);
                return await DbUserRotator.RemoveRetiredAsync(request, user, marker, h.Services, CancellationToken.None);
            }
            catch (RotationException ex) when (ex.ErrorId is RotationErrorIds.GracePeriodNotElapsed or RotationErrorIds.SessionsStillActive && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
