using Rotation.Core.Audit;
using Rotation.Core.Stores;

namespace Rotation.Core.Runs;

/// <summary>Builds the services a cmdlet call uses from the process environment.</summary>
public static class RotationEnvironment
{
    /// <summary>
    /// The state folder ($ROTATION_STATE_DIR, else per user) holds the journal (runs/) and, unless
    /// $ROTATION_AUDIT_LOG says otherwise, the audit log. $ROTATION_JOURNAL_URI moves the journal into a store, so
    /// other agents can resume runs. Nothing is created until something is written. Tests pass
    /// <paramref name="env"/> to point everything at a temp folder.
    /// </summary>
    public static RotationServices CreateServices(IRotationLog log, Func<string, string?>? env = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        env ??= Environment.GetEnvironmentVariable;
        var stores = SecretStoreRegistry.CreateDefault();
        var storeContext = new StoreContext { GetEnvironmentVariable = env };
        return new RotationServices
        {
            Stores = stores,
            StoreContext = storeContext,
            Journal = env(RotationPaths.JournalUriVariable) is { Length: > 0 } journalUri
                ? new StoreRunJournal(journalUri, stores, storeContext, log)
                : new FileRunJournal(RotationPaths.JournalDirectory(env), log),
            Audit = JsonlAuditLog.FromEnvironment(env),
            Log = log,
        };
    }
}
