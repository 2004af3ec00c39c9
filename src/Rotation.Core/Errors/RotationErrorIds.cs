namespace Rotation.Core.Errors;

/// <summary>
/// Stable error identifiers (PascalCase, &lt;Subject&gt;&lt;Condition&gt;). Scripts match on these; never rename one.
/// Add new ones here, grouped by area.
/// </summary>
public static class RotationErrorIds
{
    // Input
    public const string InvalidArgument = nameof(InvalidArgument);
    public const string UnknownStoreScheme = nameof(UnknownStoreScheme);
    public const string InvalidStoreUri = nameof(InvalidStoreUri);

    // Stores
    public const string SecretNotFound = nameof(SecretNotFound);
    public const string SecretStageNotFound = nameof(SecretStageNotFound);
    public const string StoreUnreachable = nameof(StoreUnreachable);
    public const string StoreAccessDenied = nameof(StoreAccessDenied);
    public const string StoreAuthenticationFailed = nameof(StoreAuthenticationFailed);
    public const string StoreThrottled = nameof(StoreThrottled);
    public const string StoreRequestFailed = nameof(StoreRequestFailed);
    public const string StoreDocumentMalformed = nameof(StoreDocumentMalformed);
    public const string StoreWriteConflict = nameof(StoreWriteConflict);
    public const string StorePathNotWritable = nameof(StorePathNotWritable);
    public const string RotationInProgress = nameof(RotationInProgress);
    public const string NoPendingVersion = nameof(NoPendingVersion);
    public const string NoPreviousVersion = nameof(NoPreviousVersion);
    public const string SecretFieldNotFound = nameof(SecretFieldNotFound);
    public const string SecretShapeInvalid = nameof(SecretShapeInvalid);

    // Generation
    public const string SecretPolicyUnsatisfiable = nameof(SecretPolicyUnsatisfiable);
    public const string KeyFileExists = nameof(KeyFileExists);
    public const string KeySizeMismatch = nameof(KeySizeMismatch);
    public const string KeyFileNotWritable = nameof(KeyFileNotWritable);

    // Runs, journal, audit
    public const string RunNotFound = nameof(RunNotFound);
    public const string RunNotResumable = nameof(RunNotResumable);
    public const string RunStepFailed = nameof(RunStepFailed);
    public const string RunLocked = nameof(RunLocked);
    public const string JournalCorrupt = nameof(JournalCorrupt);
    public const string JournalWriteFailed = nameof(JournalWriteFailed);
    public const string AuditWriteFailed = nameof(AuditWriteFailed);
    public const string AuditLogMalformed = nameof(AuditLogMalformed);
    public const string AuditExportFileExists = nameof(AuditExportFileExists);
    public const string RunbookNotFound = nameof(RunbookNotFound);

    // PostgreSQL
    public const string DbUserNotFound = nameof(DbUserNotFound);
    public const string DbUserExists = nameof(DbUserExists);
    public const string DbUnreachable = nameof(DbUnreachable);
    public const string DbAuthenticationFailed = nameof(DbAuthenticationFailed);
    public const string InsufficientPrivilege = nameof(InsufficientPrivilege);
    public const string SessionsStillActive = nameof(SessionsStillActive);
    public const string GracePeriodNotElapsed = nameof(GracePeriodNotElapsed);
    public const string DbPrivilegeMismatch = nameof(DbPrivilegeMismatch);
    public const string DbUserOwnsObjects = nameof(DbUserOwnsObjects);
    public const string DbIdentifierInvalid = nameof(DbIdentifierInvalid);
    public const string DbDatabaseNotFound = nameof(DbDatabaseNotFound);
    public const string DbTlsFailed = nameof(DbTlsFailed);
    public const string DbCommandFailed = nameof(DbCommandFailed);
    public const string DbUserNotRetired = nameof(DbUserNotRetired);
    public const string DbUserNotLogin = nameof(DbUserNotLogin);

    // Redis
    public const string RedisUnreachable = nameof(RedisUnreachable);
    public const string RedisAuthenticationFailed = nameof(RedisAuthenticationFailed);
    public const string RedisPermissionDenied = nameof(RedisPermissionDenied);
    public const string RedisUserNotFound = nameof(RedisUserNotFound);
    public const string RedisProtocolError = nameof(RedisProtocolError);
    public const string RedisNodesDiverged = nameof(RedisNodesDiverged);
    public const string RedisClientsStillConnected = nameof(RedisClientsStillConnected);
    public const string RedisCommandFailed = nameof(RedisCommandFailed);
    public const string RedisTlsFailed = nameof(RedisTlsFailed);
    public const string RedisUserExists = nameof(RedisUserExists);
    public const string RedisVerificationFailed = nameof(RedisVerificationFailed);

    // JWT
    public const string JwtKeyStillInGrace = nameof(JwtKeyStillInGrace);
    public const string JwtKeyNotFound = nameof(JwtKeyNotFound);
    public const string JwtKeyTooWeak = nameof(JwtKeyTooWeak);
    public const string JwtKeyPublishLeadNotElapsed = nameof(JwtKeyPublishLeadNotElapsed);
    public const string JwtKeyRingInvalid = nameof(JwtKeyRingInvalid);
    public const string JwtKeyRingTampered = nameof(JwtKeyRingTampered);
    public const string JwtNoNextKey = nameof(JwtNoNextKey);
    public const string JwtNothingToUndo = nameof(JwtNothingToUndo);
    public const string JwtKeyExists = nameof(JwtKeyExists);
    public const string JwtKeyLayoutUnsupported = nameof(JwtKeyLayoutUnsupported);
    public const string JwtTokenMalformed = nameof(JwtTokenMalformed);

    // Kubernetes
    public const string KubeContextNotFound = nameof(KubeContextNotFound);
    public const string KubeUnauthorized = nameof(KubeUnauthorized);
    public const string KubeForbidden = nameof(KubeForbidden);
    public const string KubeObjectNotFound = nameof(KubeObjectNotFound);
    public const string KubeConflict = nameof(KubeConflict);
    public const string RolloutTimedOut = nameof(RolloutTimedOut);
    public const string ExternalSecretSyncTimedOut = nameof(ExternalSecretSyncTimedOut);
    public const string ExternalSecretSyncFailed = nameof(ExternalSecretSyncFailed);
    public const string ExternalSecretsNotInstalled = nameof(ExternalSecretsNotInstalled);
    public const string KubeConfigInvalid = nameof(KubeConfigInvalid);
    public const string KubeExecPluginFailed = nameof(KubeExecPluginFailed);
    public const string KubeUnreachable = nameof(KubeUnreachable);
    public const string KubeRequestFailed = nameof(KubeRequestFailed);
    public const string KubeWorkloadInvalid = nameof(KubeWorkloadInvalid);
    public const string RolloutFailed = nameof(RolloutFailed);
}
