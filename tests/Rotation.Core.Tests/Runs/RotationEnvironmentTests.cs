using Rotation.Core.Audit;
using Rotation.Core.Runs;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Runs;

public sealed class RotationEnvironmentTests
{
    [Fact]
    public void Services_come_from_the_state_folder_and_the_audit_variable()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var env = new Dictionary<string, string?> { [RotationPaths.StateDirVariable] = dir.File("state") };
        var log = new CapturingLog();

        var services = RotationEnvironment.CreateServices(log, n => env.GetValueOrDefault(n));

        Assert.Equal(dir.File("state/runs"), Assert.IsType<FileRunJournal>(services.Journal).Directory);
        Assert.Equal(dir.File("state/audit.jsonl"), Assert.IsType<JsonlAuditLog>(services.Audit).Path);
        Assert.Same(log, services.Log);
        Assert.Equal(dir.File("state"), services.StoreContext.GetEnvironmentVariable(RotationPaths.StateDirVariable));
        Assert.False(Directory.Exists(dir.File("state")));

        env[RotationPaths.AuditLogVariable] = dir.File("elsewhere/a.jsonl");
        Assert.Equal(dir.File("elsewhere/a.jsonl"), Assert.IsType<JsonlAuditLog>(RotationEnvironment.CreateServices(log, n => env.GetValueOrDefault(n)).Audit).Path);
    }
}
