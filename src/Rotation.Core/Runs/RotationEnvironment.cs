using Rotation.Core.Stores;

namespace Rotation.Core.Runs;

/// <summary>Builds the services a cmdlet call uses from the process environment.</summary>
public static class RotationEnvironment
{
    public static RotationServices CreateServices(IRotationLog log, Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        // The journal and audit implementations land with the foundation's journal work (FileRunJournal, JsonlAuditLog).
        throw new NotImplementedException("journal and audit log not wired yet: " + RotationPaths.StateDirectory(env) + " " + log.GetType().Name + " " + SecretStoreRegistry.CreateDefault().Schemes.Count);
    }
}
