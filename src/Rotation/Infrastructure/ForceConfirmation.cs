using System.Management.Automation;

namespace Rotation.Infrastructure;

/// <summary>
/// -Force on a ConfirmImpact High cmdlet: it answers the confirmation prompt, but -WhatIf still only reports and an
/// explicit -Confirm still asks. Never a way around a rule of the core.
/// </summary>
internal static class ForceConfirmation
{
    public static bool ShouldProcess(PSCmdlet cmdlet, bool force, string target, string action)
    {
        var bound = cmdlet.MyInvocation.BoundParameters;
        if (force && !bound.ContainsKey("Confirm") && !IsWhatIf(cmdlet))
        {
            cmdlet.WriteVerbose($"Performing the operation \"{action}\" on target \"{target}\" (-Force: not asking).");
            return true;
        }
        return cmdlet.ShouldProcess(target, action);
    }

    private static bool IsWhatIf(PSCmdlet cmdlet)
    {
        if (cmdlet.MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w))
        {
            return w is SwitchParameter s ? s.IsPresent : LanguagePrimitives.IsTrue(w);
        }
        return LanguagePrimitives.IsTrue(cmdlet.GetVariableValue("WhatIfPreference"));
    }
}
