using System.Management.Automation;
using System.Reflection;
using Rotation.Commands;
using Rotation.Core.Errors;
using Rotation.Core.Postgres;
using Rotation.Core.Runs;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Postgres;

public sealed class DbUserRotationInputTests
{
    [Fact]
    public async Task Admin_login_from_a_store_and_from_a_connection_string_never_reaches_the_journal()
    {
        await using var f = await PgFixture.CreateAsync(richGrants: false);
        using var h = new PgRunHarness();
        var admin = f.AdminOptions.AdminCredential!;
        var adminUri = $"file://{h.StateDirectory}/admin.json#pg-admin";
        await h.Store(adminUri).PutAsync(DbCredentialShape.Write(admin.UserName, SecureStrings.ToPlainText(admin.Password)), SecretStage.Current, new SecretWriteOptions());

        var fromStore = new DbConnectionOptions { Server = f.AdminOptions.Server, Port = f.AdminOptions.Port, Database = f.Database, AdminSecretUri = adminUri };
        var r1 = await h.RotateAsync(new DbRotationRequest { Connection = fromStore, User = f.App.UserName, SecretUri = h.SecretUri });
        Assert.True(await PgTest.CanLoginAsync(r1.Credential, f.Database));

        var cs = $"Host={f.AdminOptions.Server};Port={f.AdminOptions.Port};Database={f.Database};Username={admin.UserName};Password={SecureStrings.ToPlainText(admin.Password)}";
        var r2 = await h.RotateAsync(new DbRotationRequest { Connection = new DbConnectionOptions { ConnectionString = cs }, User = f.App.UserName, SecretUri = h.SecretUri });
        Assert.Equal(f.App.UserName + "_v3", r2.NewUser);

        LeakAssert.NoneOf(
            [SecureStrings.ToPlainText(admin.Password), SecureStrings.ToPlainText(r1.Credential.Password), SecureStrings.ToPlainText(r2.Credential.Password)],
            h.StateFiles().Where(x => !x.Name.EndsWith("admin.json", StringComparison.Ordinal)).Concat(h.Log.Lines.Select(l => ("log", l))));
    }

    [Fact]
    public async Task A_privilege_that_goes_missing_fails_verification_with_the_diff()
    {
        await using var f = await PgFixture.CreateAsync();
        using var h = new PgRunHarness();
        var run = await h.CrashAsync(f.Request(h, DbRotationStrategy.NewUser), RunCheckpoint.StepJournaled, DbUserRotationRunbook.ApplyStep);
        var created = f.App.UserName + "_v2";
        await PgTest.ExecAsync($"REVOKE INSERT ON s1.\"Orders\" FROM {created}", f.Database);

        var ex = await Assert.ThrowsAsync<RotationException>(() => h.ResumeAsync(run.RunId, f.AdminOptions.AdminCredential!));
        Assert.Equal(RotationErrorIds.DbPrivilegeMismatch, ex.ErrorId);
        Assert.Contains("- TABLE s1.\"Orders\" INSERT", ex.Message, StringComparison.Ordinal);
        Assert.False((await h.Store(h.SecretUri).DescribeAsync()).Versions.Any(v => v.Stages.Contains(SecretStage.Current)), "nothing was published");
    }

    [Fact]
    public async Task A_second_rotation_while_one_holds_the_lease_is_refused()
    {
        await using var f = await PgFixture.CreateAsync(richGrants: false);
        using var h = new PgRunHarness();
        var first = await h.CrashAsync(f.Request(h, DbRotationStrategy.NewUser), RunCheckpoint.StepJournaled, DbUserRotationRunbook.StageStep);
        var ex = await Assert.ThrowsAsync<RotationException>(() => h.RotateAsync(f.Request(h, DbRotationStrategy.NewUser)));
        Assert.Equal(RotationErrorIds.RotationInProgress, ex.ErrorId);
        Assert.Contains(first.RunId, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\0b")]
    public async Task Invalid_user_names_are_refused_before_anything_runs(string user)
    {
        using var h = new PgRunHarness();
        var ex = await Assert.ThrowsAsync<RotationException>(() => h.RotateAsync(new DbRotationRequest { Connection = PgTest.Admin(), User = user, SecretUri = h.SecretUri }));
        Assert.Equal(RotationErrorIds.DbIdentifierInvalid, ex.ErrorId);
        Assert.Empty(h.Services.Journal.List());
    }

    [Fact]
    public async Task Hostile_user_name_rotates_with_NewUser()
    {
        await using var f = await PgFixture.CreateAsync(richGrants: false);
        var name = f.Prefix + "_x'; drop table t; --\"Mixed";
        f.Track(name);
        f.Track(name + "_v2");
        var login = await PgTest.CreateLoginAsync(name);
        using var h = new PgRunHarness();
        var r = await h.RotateAsync(new DbRotationRequest { Connection = f.AdminOptions, User = login.UserName, SecretUri = h.SecretUri });
        Assert.Equal(name + "_v2", r.NewUser);
        Assert.True(await PgTest.CanLoginAsync(r.Credential, f.Database));
    }

    [Fact]
    public void Cmdlet_surface_follows_the_design()
    {
        // Read from metadata: the PowerShell reference stub's attribute setters do not store values.
        Assert.Equal(true, CmdletArgument(typeof(InvokeDbUserRotationCommand), "SupportsShouldProcess"));
        Assert.Equal(true, CmdletArgument(typeof(RemoveRetiredDbUserCommand), "SupportsShouldProcess"));
        Assert.Equal((int)ConfirmImpact.High, CmdletArgument(typeof(RemoveRetiredDbUserCommand), "ConfirmImpact"));
        Assert.Null(CmdletArgument(typeof(TestDbCredentialCommand), "SupportsShouldProcess"));

        foreach (var t in new[] { typeof(InvokeDbUserRotationCommand), typeof(RemoveRetiredDbUserCommand), typeof(GetDbUserSessionCommand) })
        {
            Assert.True(ByPropertyName(t, "Server") && ByPropertyName(t, "Port") && ByPropertyName(t, "Database") && ByPropertyName(t, "User"), t.Name);
            Assert.False(ByPropertyName(t, "Credential"), $"{t.Name}: the admin -Credential must not bind a rotation's new login");
            Assert.NotNull(t.GetProperty("Credential")!.GetCustomAttribute<Rotation.Infrastructure.CredentialTransformationAttribute>());
        }
        Assert.True(ByPropertyName(typeof(TestDbCredentialCommand), "Credential"));
        Assert.True(ByPropertyName(typeof(RemoveRetiredDbUserCommand), "SecretUri"));

        // DbUserRotation binds Server/Port/Database/User/Credential/SecretUri, and deliberately has no Uri, Value or Stage
        // (Set-RotationSecret's own parameters), so piping it never redirects a write.
        var props = typeof(DbUserRotation).GetProperties().Select(p => p.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "Server", "Port", "Database", "PreviousUser", "NewUser", "User", "Strategy", "Credential", "SecretUri", "RunId" }, props);
        Assert.DoesNotContain("Uri", props);
        Assert.DoesNotContain("Value", props);
        Assert.DoesNotContain("Stage", props);
        Assert.True(typeof(DbUserRotation).IsSealed && typeof(DbUserRotation).IsPublic);
    }

    [Fact]
    public void Format_view_covers_each_output_type_without_a_value_column()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Formats", "Postgres.format.ps1xml");
        var xml = System.Xml.Linq.XDocument.Load(path);
        var views = xml.Descendants("TypeName").Select(e => e.Value).ToHashSet();
        foreach (var t in new[] { typeof(DbUserRotation), typeof(DbCredentialTestResult), typeof(DbUserSession), typeof(DbRetiredUser) })
        {
            Assert.Contains(t.FullName!, views);
        }
        var columns = xml.Descendants("PropertyName").Select(e => e.Value).ToList();
        Assert.DoesNotContain("Credential", columns);
        Assert.DoesNotContain("Password", columns);
    }

    private static object? CmdletArgument(Type t, string name) =>
        t.CustomAttributes.Single(a => a.AttributeType == typeof(CmdletAttribute)).NamedArguments.FirstOrDefault(a => a.MemberName == name).TypedValue.Value;

    private static bool ByPropertyName(Type t, string name) =>
        t.GetProperty(name)!.CustomAttributes.Where(a => a.AttributeType == typeof(ParameterAttribute))
            .SelectMany(a => a.NamedArguments).Any(a => a.MemberName == "ValueFromPipelineByPropertyName" && (bool)a.TypedValue.Value!);
}

public sealed class DbUserRotationParallelTests
{
    // Regression: parallel NewUser rotations copying a GRANT on the same database raced on pg_database's row
    // ("tuple concurrently updated", XX000, which also breaks the connection) and rolled back (found by the bench).
    [Fact]
    public async Task Parallel_rotations_sharing_a_database_grant_all_succeed()
    {
        await using var f = await PgFixture.CreateAsync(richGrants: false);
        var logins = new List<RotationCredential>();
        for (var i = 0; i < 8; i++)
        {
            var login = await PgTest.CreateLoginAsync($"{f.Prefix}_p{i}");
            await PgTest.ExecAsync($"GRANT CONNECT, TEMPORARY ON DATABASE {f.Database} TO {login.UserName}");
            logins.Add(login);
        }
        using var h = new PgRunHarness();
        var results = await Task.WhenAll(logins.Select(l => h.RotateAsync(new DbRotationRequest
        {
            Connection = f.AdminOptions, User = l.UserName, SecretUri = $"file://{h.StateDirectory}/{l.UserName}.json#db",
        })));
        Assert.All(results, r => Assert.Equal(r.PreviousUser + "_v2", r.NewUser));
        foreach (var r in results)
        {
            Assert.True(await PgTest.CanLoginAsync(r.Credential, f.Database));
        }
    }
}

public sealed class DbAlternatingPairTests
{
    [Fact]
    public async Task A_pair_with_different_rights_switches_with_a_warning_naming_the_difference()
    {
        await using var f = await PgFixture.CreateAsync("pair_a");
        await PgTest.CreateLoginAsync(f.Prefix + "_pair_b");
        using var h = new PgRunHarness();
        var r = await h.RotateAsync(f.Request(h, DbRotationStrategy.AlternatingUsers));
        Assert.Equal(f.Prefix + "_pair_b", r.NewUser);
        Assert.Contains(h.Log.Lines, l => l.StartsWith("W ", StringComparison.Ordinal) && l.Contains("do not have the same rights", StringComparison.Ordinal) && l.Contains("- ", StringComparison.Ordinal));
    }
}
