namespace Rotation.Core.Errors;

/// <summary>
/// The one exception the core throws for anything an operator can act on. Cmdlets turn it into an ErrorRecord in
/// one place (RotationCmdlet). The message says what happened, to which target, and what to do next; it never
/// contains secret material, and neither does <see cref="TargetName"/>.
/// </summary>
public sealed class RotationException : Exception
{
    public RotationException(string errorId, RotationErrorCategory category, string? targetName, string message, Exception? inner = null)
        : base(message, inner)
    {
        ArgumentException.ThrowIfNullOrEmpty(errorId);
        ErrorId = errorId;
        Category = category;
        TargetName = targetName;
    }

    /// <summary>Stable PascalCase identifier, one of <see cref="RotationErrorIds"/>.</summary>
    public string ErrorId { get; }

    public RotationErrorCategory Category { get; }

    /// <summary>The user, key, secret URI or run the error is about. Never a value.</summary>
    public string? TargetName { get; }

    /// <summary>True when retrying the same call later may succeed (throttling, unreachable server).</summary>
    public bool IsTransient => Category is RotationErrorCategory.ConnectionError or RotationErrorCategory.LimitsExceeded
        or RotationErrorCategory.OperationTimeout;
}

/// <summary>
/// Mirrors the names of System.Management.Automation.ErrorCategory (the cmdlet layer maps by name), so the core
/// needs no PowerShell reference.
/// </summary>
public enum RotationErrorCategory
{
    NotSpecified,
    OpenError,
    CloseError,
    DeviceError,
    DeadlockDetected,
    InvalidArgument,
    InvalidData,
    InvalidOperation,
    InvalidResult,
    InvalidType,
    MetadataError,
    NotImplemented,
    NotInstalled,
    ObjectNotFound,
    OperationStopped,
    OperationTimeout,
    SyntaxError,
    ParserError,
    PermissionDenied,
    ResourceBusy,
    ResourceExists,
    ResourceUnavailable,
    ReadError,
    WriteError,
    FromStdErr,
    SecurityError,
    ProtocolError,
    ConnectionError,
    AuthenticationError,
    LimitsExceeded,
    QuotaExceeded,
    NotEnabled,
}
