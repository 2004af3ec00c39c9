namespace Rotation.Core.Stores;

/// <summary>Version labels every store offers (AWS: AWSCURRENT, AWSPENDING, AWSPREVIOUS).</summary>
public enum SecretStage
{
    Current,
    Pending,
    Previous,
}
