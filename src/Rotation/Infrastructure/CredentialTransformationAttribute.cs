using System.Management.Automation;
using Rotation.Core.Secrets;

namespace Rotation.Infrastructure;

/// <summary>
/// Lets a PSCredential parameter accept the core's RotationCredential (a rotation's output binds by property name
/// to the next cmdlet's -Credential) as well as a PSCredential.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class CredentialTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject pso ? pso.BaseObject : inputData;
        return value switch
        {
            RotationCredential rc => new PSCredential(rc.UserName, rc.Password),
            _ => inputData,
        };
    }
}

/// <summary>Conversions between the core's credential and PowerShell's.</summary>
public static class CredentialConvert
{
    public static RotationCredential ToCore(PSCredential credential) => new(credential.UserName, credential.Password);

    public static PSCredential ToPowerShell(RotationCredential credential) => new(credential.UserName, credential.Password);
}
