using Rotation.Core.Errors;
using Rotation.Core.Postgres;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Postgres;

public sealed class DbUserRotationTests
{
    [Fact]
    public async Task NewUser_creates_the_next_version_with_exactly_the_same_rights()
    {
        await using var f = await PgFixture.CreateAsync();
        using var h = new PgRunHarness();
        var r = await h.RotateAsync(f.Request(h, DbRotationStrategy.NewUser));

        Assert.Equal(f.App.UserName, r.PreviousUser);
        Assert.Equal(f.App.UserName + "_v2", r.NewUser);
        Assert.Equal(r.NewUser, r.Credential.UserName);
        Assert.True(await PgTest.CanLoginAsync(r.Credential, f.Database));
        Assert.True(await PgTest.CanLoginAsync(f.App, f.Database), "the old login keeps working until it is retired");

        await using var c = await PgTest.OpenAdminAsync(f.Database);
        var before = await DbPrivilegeSnapshot.ReadAsync(c, r.PreviousUser, CancellationToken.None);
        var after = await DbPrivilegeSnapshot.ReadAsync(c, r.NewUser, CancellationToken.None);
        Assert.Empty(before.Diff(after));
        Assert.Contains(before.Lines, l => l.StartsWith("DEFAULT FOR", StringComparison.Ordinal));
        Assert.Contains(before.Lines, l => l.StartsWith("COLUMN", StringComparison.Ordinal));
        Assert.Contains(before.Lines, l => l.Contains("WITH ADMIN OPTION", StringComparison.Ordinal));
        Assert.Contains("ATTRIBUTE CONNECTION LIMIT 50", after.Lines);

        // The copied rights work: the table, a future table of the owner (default privileges), the routine.
        await PgTest.ExecAsync($"SET ROLE {f.Owner}; CREATE TABLE s1.later(x int)", f.Database);
        await using var app = await PgCatalog.OpenAsync(PgTest.As(r.Credential, f.Database), r.Credential, pooling: false, CancellationToken.None);
        await PgCatalog.ExecuteAsync(app, "insert into s1.\"Orders\"(note) values ('x'); select * from s1.later; select s1.total(1, 'a'); show search_path", CancellationToken.None);

        // The store holds the new login as Current and the old one is marked retired in its comment.
        var current = DbCredentialShape.Read((await h.Store(h.SecretUri).GetAsync(SecretStage.Current)).Value, h.SecretUri);
        Assert.Equal(r.NewUser, current.UserName);
        var marker = await PgCatalog.MarkerAsync(c, r.PreviousUser, CancellationToken.None);
        Assert.Equal("retired", marker?.State);
        Assert.Equal(r.RunId, marker?.RunId);
        Assert.Equal(r.NewUser, marker?.Successor);

        // A second rotation starts from the store's current login and makes v3.
        var r2 = await h.RotateAsync(f.Request(h, DbRotationStrategy.NewUser));
        Assert.Equal(r.NewUser, r2.PreviousUser);
        Assert.Equal(f.App.UserName + "_v3", r2.NewUser);
        LeakAssert.NoneOf([SecureStrings.ToPlainText(r.Credential.Password), SecureStrings.ToPlainText(r2.Credential.Password)],
            h.Log.Lines.Select(l => ("log", l)).Concat(h.StateFiles()).Append(("result", r.ToString())).Append(("credential", r.Credential.ToString())));
        Assert.Contains(h.StateFiles(), f => f.Text.Contains("\"fingerprint\":\"" + r.Fingerprint, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AlternatingUsers_resets_the_idle_login_and_switches()
    {
        await using var f = await PgFixture.CreateAsync("pair_a", richGrants: false);
        var partner = f.Prefix + "_pair_b";
        var b = await PgTest.CreateLoginAsync(partner);
        using var h = new PgRunHarness();

        var r1 = await h.RotateAsync(f.Request(h, DbRotationStrategy.AlternatingUsers));
        Assert.Equal(f.App.UserName, r1.PreviousUser);
        Assert.Equal(partner, r1.NewUser);
        Assert.True(await PgTest.CanLoginAsync(r1.Credential));
        Assert.False(await PgTest.CanLoginAsync(b), "the idle login's old password was reset");
        Assert.True(await PgTest.CanLoginAsync(f.App), "the login in use keeps working");

        var r2 = await h.RotateAsync(f.Request(h, DbRotationStrategy.AlternatingUsers));
        Assert.Equal(partner, r2.PreviousUser);
        Assert.Equal(f.App.UserName, r2.NewUser);
        Assert.True(await PgTest.CanLoginAsync(r1.Credential), "the previous login stays valid until the next rotation");
        Assert.True(await PgTest.CanLoginAsync(r2.Credential));
        Assert.False(await PgTest.CanLoginAsync(f.App));
    }

    [Fact]
    public async Task AlterPassword_changes_the_one_login_and_undo_restores_the_old_password()
    {
        await using var f = await PgFixture.CreateAsync(richGrants: false);
        using var h = new PgRunHarness();
        await h.SeedCurrentAsync(f.App);

        var r = await h.RotateAsync(f.Request(h, DbRotationStrategy.AlterPassword));
        Assert.Equal(f.App.UserName, r.NewUser);
        Assert.True(await PgTest.CanLoginAsync(r.Credential));
        Assert.False(await PgTest.CanLoginAsync(f.App), "AlterPassword is not zero-downtime: the old password dies at once");

        await h.UndoAsync(r.RunId, f.AdminOptions.AdminCredential!);
        Assert.True(await PgTest.CanLoginAsync(f.App));
        Assert.False(await PgTest.CanLoginAsync(r.Credential));
        Assert.Equal(f.App.PasswordFingerprint, DbCredentialShape.Read((await h.Store(h.SecretUri).GetAsync(SecretStage.Current)).Value, h.SecretUri).PasswordFingerprint);
    }

    [Fact]
    public async Task Undo_after_the_database_step_drops_the_created_user_and_releases_the_lease()
    {
        await using var f = await PgFixture.CreateAsync();
        using var h = new PgRunHarness();
        var run = await h.CrashAsync(f.Request(h, DbRotationStrategy.NewUser), RunCheckpoint.StepJournaled, DbUserRotationRunbook.VerifyStep);
        var created = f.App.UserName + "_v2";
        Assert.True(await PgTest.ScalarAsync<bool>("select exists(select 1 from pg_roles where rolname = $1)", created));
        Assert.True((await h.Store(h.SecretUri).DescribeAsync()).HasPending, "the credential was staged before the database got it");

        await h.UndoAsync(run.RunId, f.AdminOptions.AdminCredential!);
        Assert.False(await PgTest.ScalarAsync<bool>("select exists(select 1 from pg_roles where rolname = $1)", created));
        Assert.False((await h.Store(h.SecretUri).DescribeAsync()).HasPending);
        Assert.True(await PgTest.CanLoginAsync(f.App, f.Database));
    }

    [Fact]
    public async Task A_crash_after_the_database_step_resumes_with_the_staged_password()
    {
        await using var f = await PgFixture.CreateAsync();
        using var h = new PgRunHarness();
        // Killed after CREATE ROLE committed but before the journal recorded it: the resume runs the step again.
        var run = await h.CrashAsync(f.Request(h, DbRotationStrategy.NewUser), RunCheckpoint.StepEffectDone, DbUserRotationRunbook.ApplyStep);
        Assert.Equal(StepStatus.Started, run.Step(DbUserRotationRunbook.ApplyStep)!.Status);
        var resumed = await h.ResumeAsync(run.RunId, f.AdminOptions.AdminCredential!);
        Assert.Equal(RunStatus.Succeeded, resumed.Status);
        var r = await DbUserRotator.ResultAsync(resumed, h.Services, CancellationToken.None);
        Assert.Equal(f.App.UserName + "_v2", r.NewUser);
        Assert.True(await PgTest.CanLoginAsync(r.Credential, f.Database));
    }

    [Fact]
    public async Task Missing_user_is_refused_and_nothing_changes()
    {
        await using var f = await PgFixture.CreateAsync(richGrants: false);
        using var h = new PgRunHarness();
        var ex = await Assert.ThrowsAsync<RotationException>(() => h.RotateAsync(f.Request(h, DbRotationStrategy.NewUser, user: f.Prefix + "_nobody")));
        Assert.Equal(RotationErrorIds.DbUserNotFound, ex.ErrorId);
        Assert.Contains(f.Prefix + "_nobody", ex.Message, StringComparison.Ordinal);
        Assert.False((await h.Store(h.SecretUri).DescribeAsync()).Exists);
    }

    [Fact]
    public async Task Admin_without_createrole_is_refused_before_anything_changes()
    {
        await using var f = await PgFixture.CreateAsync(richGrants: false);
        var weak = await PgTest.CreateLoginAsync(f.Prefix + "_weak");
        using var h = new PgRunHarness();
        var ex = await Assert.ThrowsAsync<RotationException>(() => h.RotateAsync(f.Request(h, DbRotationStrategy.NewUser, admin: PgTest.As(weak, f.Database))));
        Assert.Equal(RotationErrorIds.InsufficientPrivilege, ex.ErrorId);
        Assert.False((await h.Store(h.SecretUri).DescribeAsync()).Exists);
        Assert.False(await PgTest.ScalarAsync<bool>("select exists(select 1 from pg_roles where rolname = $1)", f.App.UserName + "_v2"));
    }

    [Fact]
    public async Task Createrole_admin_without_membership_in_the_owner_fails_in_the_transaction_and_leaves_nothing()
    {
        await using var f = await PgFixture.CreateAsync();
        var delegated = await PgTest.CreateLoginAsync(f.Prefix + "_ops", "CREATEROLE");
        await PgTest.ExecAsync($"GRANT ALL ON DATABASE {f.Database} TO {delegated.UserName}");
        using var h = new PgRunHarness();
        var ex = await Assert.ThrowsAsync<RotationException>(() => h.RotateAsync(f.Request(h, DbRotationStrategy.NewUser, admin: PgTest.As(delegated, f.Database))));
        Assert.Equal(RotationErrorIds.InsufficientPrivilege, ex.ErrorId);
        Assert.False(await PgTest.ScalarAsync<bool>("select exists(select 1 from pg_roles where rolname = $1)", f.App.UserName + "_v2"),
            "CREATE ROLE and the grants are one transaction");
        // The run failed after staging, before publishing: it was rolled back, so the lease is released.
        Assert.False((await h.Store(h.SecretUri).DescribeAsync()).HasPending);
        Assert.Equal(RunStatus.Undone, Assert.Single(h.Services.Journal.List()).Status);
    }

    [Fact]
    public async Task Wrong_admin_password_and_unreachable_server_are_clear_errors()
    {
        await using var f = await PgFixture.CreateAsync(richGrants: false);
        using var h = new PgRunHarness();
        var wrong = PgTest.As(RotationCredential.FromPlainText(f.AdminOptions.AdminCredential!.UserName, "not-the-password"), f.Database);
        var auth = await Assert.ThrowsAsync<RotationException>(() => h.RotateAsync(f.Request(h, DbRotationStrategy.NewUser, admin: wrong)));
        Assert.Equal(RotationErrorIds.DbAuthenticationFailed, auth.ErrorId);

        var nowhere = new DbConnectionOptions { Server = "127.0.0.1", Port = 1, Database = "x", AdminCredential = f.AdminOptions.AdminCredential, ConnectTimeoutSeconds = 3 };
        var down = await Assert.ThrowsAsync<RotationException>(() => h.RotateAsync(f.Request(h, DbRotationStrategy.NewUser, admin: nowhere)));
        Assert.Equal(RotationErrorIds.DbUnreachable, down.ErrorId);
        Assert.True(down.IsTransient);
        Assert.False((await h.Store(h.SecretUri).DescribeAsync()).Exists);
        LeakAssert.NoneOf([TestEnvironment.Require("ROTATION_TEST_PG_PASSWORD")], [("auth", auth.Message), ("down", down.Message)]);
    }

    [Fact]
    public async Task Test_credential_reports_reasons()
    {
        await using var f = await PgFixture.CreateAsync(richGrants: false);
        var ok = await DbUserRotator.TestCredentialAsync(f.AdminOptions, f.App, expectFailure: false, CancellationToken.None);
        Assert.Equal(DbLoginOutcome.Succeeded, ok.Reason);
        Assert.True(ok.Passed);
        var bad = await DbUserRotator.TestCredentialAsync(f.AdminOptions, RotationCredential.FromPlainText(f.App.UserName, "wrong"), expectFailure: true, CancellationToken.None);
        Assert.Equal(DbLoginOutcome.AuthenticationFailed, bad.Reason);
        Assert.True(bad.Passed);
        var down = await DbUserRotator.TestCredentialAsync(new DbConnectionOptions { Server = "127.0.0.1", Port = 1, ConnectTimeoutSeconds = 3 }, f.App, false, CancellationToken.None);
        Assert.Equal(DbLoginOutcome.Unreachable, down.Reason);
        Assert.False(down.Passed);
        var tls = new DbConnectionOptions { Server = f.AdminOptions.Server, Port = f.AdminOptions.Port, Database = f.Database, SslMode = DbSslMode.Require };
        var tlsResult = await DbUserRotator.TestCredentialAsync(tls, f.App, false, CancellationToken.None);
        Assert.Equal(DbLoginOutcome.Tls, tlsResult.Reason);
    }

    [Fact]
    public void Version_names_and_pairs()
    {
        Assert.Equal("app_v2", DbUserRotationRunbook.NextVersionName("app", []));
        Assert.Equal("app_v4", DbUserRotationRunbook.NextVersionName("app_v2", ["app_v3", "app_vx", "other_v9"]));
        Assert.Equal("app", DbUserRotationRunbook.BaseName("app_v12", DbRotationStrategy.NewUser));
        Assert.Equal("app", DbUserRotationRunbook.BaseName("app_b", DbRotationStrategy.AlternatingUsers));
        Assert.Equal("app_b", DbUserRotationRunbook.Partner("app_a"));
        Assert.Equal("app_a", DbUserRotationRunbook.Partner("app_b"));
        Assert.Throws<RotationException>(() => DbUserRotationRunbook.Partner("app"));
    }

    [Fact]
    public void Journaled_parameters_never_hold_a_password()
    {
        var o = new DbConnectionOptions { ConnectionString = "Host=db;Port=5433;Database=app;Username=admin;Password=hunter2-secret", SslMode = DbSslMode.Require };
        var p = DbUserRotator.RunParameters(new DbRotationRequest { Connection = o, User = "app" }, _ => "/state");
        Assert.DoesNotContain(p.Values, v => v.Contains("hunter2-secret", StringComparison.Ordinal));
        Assert.Equal("db", p["Server"]);
        Assert.Equal("5433", p["Port"]);
        Assert.Equal("file:///state/secrets.json#postgres/db:5433/app/app", p["SecretUri"]);
        var back = DbConnectionOptions.FromParameters(p, null);
        Assert.Equal("db:5433/app", back.TargetName);
    }

    [Fact]
    public void Role_comment_marker_round_trips_and_keeps_other_text()
    {
        var m = new DbRotationMarker("retired", new DateTimeOffset(2026, 11, 21, 23, 0, 0, TimeSpan.Zero), "r-1", "app v2", "NewUser");
        var comment = PgCatalog.WithMarker("owned by team x", m);
        Assert.StartsWith("owned by team x\n[rotation] retired=2026-11-21T23:00:00Z", comment, StringComparison.Ordinal);
        Assert.Equal(m, PgCatalog.ParseMarker(comment));
        Assert.Equal("owned by team x", PgCatalog.WithMarker(comment, null));
        Assert.Null(PgCatalog.ParseMarker("no marker"));
    }

    [Fact]
    public void Guc_lists_split_like_the_server_flattens_them() =>
        Assert.Equal(["$user", "s1", "a,b"], DbPrivilegeItem.SplitList("\"$user\", s1, \"a,b\""));
}
