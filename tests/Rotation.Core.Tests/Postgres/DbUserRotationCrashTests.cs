using Rotation.Core.Postgres;
using Rotation.Core.Runs;
using Rotation.Core.Stores;

namespace Rotation.Core.Tests.Postgres;

/// <summary>
/// Every step is idempotent: killed right after a step's effect (before the journal recorded it), a resume runs the
/// step again and the rotation ends exactly as an uninterrupted one: one new login, the staged password working,
/// no lease left.
/// </summary>
public sealed class DbUserRotationCrashTests
{
    [Theory]
    [InlineData(DbUserRotationRunbook.InspectStep)]
    [InlineData(DbUserRotationRunbook.StageStep)]
    [InlineData(DbUserRotationRunbook.ApplyStep)]
    [InlineData(DbUserRotationRunbook.VerifyStep)]
    [InlineData(DbUserRotationRunbook.PromoteStep)]
    [InlineData(DbUserRotationRunbook.RetireStep)]
    public async Task Crash_after_a_steps_effect_then_resume_completes_the_rotation(string step)
    {
        await using var f = await PgFixture.CreateAsync(richGrants: false);
        using var h = new PgRunHarness();
        await h.SeedCurrentAsync(f.App);
        var run = await h.CrashAsync(f.Request(h, DbRotationStrategy.NewUser), RunCheckpoint.StepEffectDone, step);

        var resumed = await h.ResumeAsync(run.RunId, f.AdminOptions.AdminCredential!);
        Assert.Equal(RunStatus.Succeeded, resumed.Status);
        var r = await DbUserRotator.ResultAsync(resumed, h.Services, CancellationToken.None);
        Assert.Equal(f.App.UserName + "_v2", r.NewUser);
        Assert.True(await PgTest.CanLoginAsync(r.Credential, f.Database));
        await using var c = await PgTest.OpenAdminAsync();
        Assert.Equal([f.App.UserName + "_v2"], await PgCatalog.RolesLikeAsync(c, f.App.UserName + "_v", CancellationToken.None));
        var description = await h.Store(h.SecretUri).DescribeAsync();
        Assert.False(description.HasPending);
        Assert.Contains(description.Versions, v => v.Stages.Contains(SecretStage.Previous));
        Assert.Equal("retired", (await PgCatalog.MarkerAsync(c, f.App.UserName, CancellationToken.None))?.State);
    }
}
