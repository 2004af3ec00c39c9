using Rotation.Core.Errors;
using Rotation.Core.Postgres;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

namespace Rotation.Core.Tests.Postgres;

public sealed class DbRetirementTests
{
    private static DbRetireRequest Retire(PgFixture f, PgRunHarness h, string user, TimeSpan grace, bool force = false, string? reassignTo = null, string? renameTo = null) => new()
    {
        Connection = f.AdminOptions,
        User = user,
        GracePeriod = grace,
        Force = force,
        ReassignTo = reassignTo,
        RenameTo = renameTo,
        SecretUri = h.SecretUri,
    };

    private static async Task<IReadOnlyList<DbRetiredUser>> RemoveAsync(DbRetireRequest request, PgRunHarness h)
    {
        var found = await DbUserRotator.FindRetiredAsync(request, h.Services.OpenStore, CancellationToken.None);
        var done = new List<DbRetiredUser>();
        foreach (var (user, marker) in found)
        {
            done.Add(await DbUserRotator.RemoveRetiredAsync(request, user, marker, h.Services, CancellationToken.None));
        }
        return done;
    }

    [Fact]
    public async Task Refuses_within_the_grace_period_then_drops_and_proves_the_old_login_dead()
    {
        await using var f = await PgFixture.CreateAsync();
        using var h = new PgRunHarness();
        await h.SeedCurrentAsync(f.App);
        var r = await h.RotateAsync(f.Request(h, DbRotationStrategy.NewUser));

        var early = await Assert.ThrowsAsync<RotationException>(() => RemoveAsync(Retire(f, h, r.User, TimeSpan.FromHours(1)), h));
        Assert.Equal(RotationErrorIds.GracePeriodNotElapsed, early.ErrorId);
        Assert.True(await PgTest.CanLoginAsync(f.App, f.Database));

        var removed = Assert.Single(await RemoveAsync(Retire(f, h, r.User, TimeSpan.Zero), h));
        Assert.Equal(f.App.UserName, removed.User);
        Assert.Equal("Dropped", removed.Action);
        Assert.True(removed.OldLoginRejected);
        Assert.False(await PgTest.ScalarAsync<bool>("select exists(select 1 from pg_roles where rolname = $1)", f.App.UserName));
        Assert.True(await PgTest.CanLoginAsync(r.Credential, f.Database));
        Assert.Contains(h.StateFiles(), f => f.Name.EndsWith("audit.jsonl", StringComparison.Ordinal) && f.Text.Contains("\"event\":\"db.user_dropped\"", StringComparison.Ordinal));

        var none = await Assert.ThrowsAsync<RotationException>(() => RemoveAsync(Retire(f, h, r.NewUser, TimeSpan.Zero), h));
        Assert.Equal(RotationErrorIds.DbUserNotRetired, none.ErrorId);
    }

    [Fact]
    public async Task Refuses_while_sessions_remain_and_Force_terminates_them()
    {
        await using var f = await PgFixture.CreateAsync(richGrants: false);
        using var h = new PgRunHarness();
        var r = await h.RotateAsync(f.Request(h, DbRotationStrategy.NewUser));
        await using var session = await PgCatalog.OpenAsync(PgTest.As(f.App, f.Database), f.App, pooling: false, CancellationToken.None);

        var sessions = await DbUserRotator.GetSessionsAsync(f.AdminOptions, f.App.UserName, h.Services.OpenStore, CancellationToken.None);
        Assert.Single(sessions);
        Assert.Equal(f.App.UserName, sessions[0].User);
        Assert.Equal(f.Database, sessions[0].Database);

        var busy = await Assert.ThrowsAsync<RotationException>(() => RemoveAsync(Retire(f, h, r.User, TimeSpan.Zero), h));
        Assert.Equal(RotationErrorIds.SessionsStillActive, busy.ErrorId);
        Assert.Contains("pid " + sessions[0].ProcessId, busy.Message, StringComparison.Ordinal);
        Assert.True(await PgTest.ScalarAsync<bool>("select exists(select 1 from pg_roles where rolname = $1)", f.App.UserName));

        var removed = Assert.Single(await RemoveAsync(Retire(f, h, r.User, TimeSpan.Zero, force: true), h));
        Assert.Equal(1, removed.SessionsTerminated);
        Assert.False(await PgTest.ScalarAsync<bool>("select exists(select 1 from pg_roles where rolname = $1)", f.App.UserName));
    }

    [Fact]
    public async Task Owned_objects_are_refused_or_reassigned()
    {
        await using var f = await PgFixture.CreateAsync(richGrants: false);
        await PgTest.ExecAsync($"GRANT CREATE ON SCHEMA public TO {f.App.UserName}; GRANT {f.Group} TO {f.App.UserName}", f.Database);
        await PgTest.ExecAsync($"SET ROLE {f.App.UserName}; CREATE TABLE public.mine(x int)", f.Database);
        using var h = new PgRunHarness();
        var r = await h.RotateAsync(f.Request(h, DbRotationStrategy.NewUser));
        Assert.Contains(r.OwnedObjects, o => o.Contains("mine", StringComparison.Ordinal));
        Assert.Contains(h.Log.Lines, l => l.StartsWith("W ", StringComparison.Ordinal) && l.Contains("Ownership is not copied", StringComparison.Ordinal));

        var owns = await Assert.ThrowsAsync<RotationException>(() => RemoveAsync(Retire(f, h, r.User, TimeSpan.Zero), h));
        Assert.Equal(RotationErrorIds.DbUserOwnsObjects, owns.ErrorId);
        Assert.Contains("mine", owns.Message, StringComparison.Ordinal);

        var removed = Assert.Single(await RemoveAsync(Retire(f, h, r.User, TimeSpan.Zero, reassignTo: f.Group), h));
        Assert.Equal(f.Group, removed.ObjectsReassignedTo);
        await using var c = await PgTest.OpenAdminAsync(f.Database);
        Assert.Equal(f.Group, await PgCatalog.ScalarAsync<string>(c, "select tableowner::text from pg_tables where tablename = 'mine'", CancellationToken.None));
    }

    [Fact]
    public async Task Alternating_pair_is_disabled_not_dropped_and_the_next_rotation_enables_it()
    {
        await using var f = await PgFixture.CreateAsync("pair_a", richGrants: false);
        await PgTest.CreateLoginAsync(f.Prefix + "_pair_b");
        using var h = new PgRunHarness();
        await h.SeedCurrentAsync(f.App);
        var r = await h.RotateAsync(f.Request(h, DbRotationStrategy.AlternatingUsers));

        var removed = Assert.Single(await RemoveAsync(Retire(f, h, r.User, TimeSpan.Zero), h));
        Assert.Equal("Disabled", removed.Action);
        Assert.True(removed.OldLoginRejected);
        Assert.False(await PgTest.CanLoginAsync(f.App));

        var r2 = await h.RotateAsync(f.Request(h, DbRotationStrategy.AlternatingUsers));
        Assert.Equal(f.App.UserName, r2.NewUser);
        Assert.True(await PgTest.CanLoginAsync(r2.Credential));
    }

    [Fact]
    public async Task RenameTo_gives_the_successor_the_standard_name_and_updates_the_store()
    {
        await using var f = await PgFixture.CreateAsync(richGrants: false);
        using var h = new PgRunHarness();
        var r = await h.RotateAsync(f.Request(h, DbRotationStrategy.NewUser));
        var removed = Assert.Single(await RemoveAsync(Retire(f, h, r.User, TimeSpan.Zero, renameTo: f.App.UserName), h));
        Assert.Equal(f.App.UserName, removed.RenamedTo);
        var current = DbCredentialShape.Read((await h.Store(h.SecretUri).GetAsync(SecretStage.Current)).Value, h.SecretUri);
        Assert.Equal(f.App.UserName, current.UserName);
        Assert.True(await PgTest.CanLoginAsync(current), "a SCRAM verifier survives the rename");
    }
}
