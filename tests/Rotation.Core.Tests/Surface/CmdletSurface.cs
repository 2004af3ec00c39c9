using System.Management.Automation;
using System.Reflection;
using System.Reflection.Emit;

namespace Rotation.Core.Tests.Surface;

/// <summary>
/// The cmdlet surface as metadata says it. PowerShellStandard.Library is a stub whose attribute classes have
/// empty bodies: instantiating [Cmdlet] there yields an empty verb and SupportsShouldProcess = false (checked
/// on net10.0), so every attribute is read through CustomAttributeData (constructor and named arguments as
/// compiled), never by instantiation.
/// </summary>
public sealed class CmdletSurface
{
    private CmdletSurface(Type type, CustomAttributeData cmdlet)
    {
        Type = type;
        Verb = (string)cmdlet.ConstructorArguments[0].Value!;
        Noun = (string)cmdlet.ConstructorArguments[1].Value!;
        SupportsShouldProcess = Named(cmdlet, nameof(CmdletAttribute.SupportsShouldProcess)) is true;
        ConfirmImpact = Named(cmdlet, nameof(CmdletAttribute.ConfirmImpact)) is int ci ? (ConfirmImpact)ci : ConfirmImpact.Medium;
        DefaultParameterSetName = Named(cmdlet, nameof(CmdletAttribute.DefaultParameterSetName)) as string;
        OutputTypes = type.GetCustomAttributesData()
            .Where(a => a.AttributeType == typeof(OutputTypeAttribute))
            .SelectMany(a => a.ConstructorArguments)
            .SelectMany(arg => arg.Value is IReadOnlyCollection<CustomAttributeTypedArgument> items ? items.Select(i => i.Value) : [arg.Value])
            .ToList();
        Parameters = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Attributes: p.GetCustomAttributesData().Where(a => a.AttributeType == typeof(ParameterAttribute)).ToList()))
            .Where(p => p.Attributes.Count > 0)
            .Select(p => new ParameterSurface(p.Property, p.Attributes))
            .ToList();
    }

    public Type Type { get; }

    public string Verb { get; }

    public string Noun { get; }

    public string Name => $"{Verb}-{Noun}";

    public bool SupportsShouldProcess { get; }

    public ConfirmImpact ConfirmImpact { get; }

    public string? DefaultParameterSetName { get; }

    /// <summary>Each [OutputType] argument: a Type, or a type name string.</summary>
    public IReadOnlyList<object?> OutputTypes { get; }

    public IReadOnlyList<ParameterSurface> Parameters { get; }

    public static Assembly ModuleAssembly => typeof(Rotation.Infrastructure.RotationCmdlet).Assembly;

    /// <summary>Every public type of the module assembly that derives from Cmdlet and is not abstract.</summary>
    public static IReadOnlyList<Type> CmdletTypes() =>
        ModuleAssembly.GetTypes().Where(t => t.IsPublic && !t.IsAbstract && typeof(Cmdlet).IsAssignableFrom(t)).OrderBy(t => t.Name, StringComparer.Ordinal).ToList();

    public static CmdletSurface? Of(Type type) =>
        type.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType == typeof(CmdletAttribute)) is { } data ? new CmdletSurface(type, data) : null;

    public static IReadOnlyList<CmdletSurface> All() => CmdletTypes().Select(Of).OfType<CmdletSurface>().ToList();

    /// <summary>The approved verbs, read from the Verbs* classes' constants.</summary>
    public static IReadOnlySet<string> ApprovedVerbs() =>
        new[] { typeof(VerbsCommon), typeof(VerbsData), typeof(VerbsLifecycle), typeof(VerbsDiagnostic), typeof(VerbsCommunications), typeof(VerbsSecurity), typeof(VerbsOther) }
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// True when any method of the class, of the closures and state machines the compiler nests in it, or of a
    /// module base class between it and RotationCmdlet, calls Cmdlet.ShouldProcess (any overload).
    /// </summary>
    public bool CallsShouldProcess()
    {
        for (var t = Type; t is not null && t.Assembly == ModuleAssembly && t != typeof(Rotation.Infrastructure.RotationCmdlet); t = t.BaseType)
        {
            // ForceConfirmation.ShouldProcess is the module's one wrapper (-Force answers the prompt; -WhatIf and an
            // explicit -Confirm still go to Cmdlet.ShouldProcess), so a call to it counts as a call to ShouldProcess.
            if (IlCalls.AnyCall(t, m => m.Name == nameof(Cmdlet.ShouldProcess)
                && (typeof(Cmdlet).IsAssignableFrom(m.DeclaringType) || m.DeclaringType == typeof(Rotation.Infrastructure.ForceConfirmation))))
            {
                return true;
            }
        }
        return false;
    }

    private static object? Named(CustomAttributeData data, string name) =>
        data.NamedArguments.FirstOrDefault(a => a.MemberName == name) is { MemberInfo: not null } arg ? arg.TypedValue.Value : null;
}

public sealed class ParameterSurface
{
    public ParameterSurface(PropertyInfo property, IReadOnlyList<CustomAttributeData> parameterAttributes)
    {
        Property = property;
        Sets = parameterAttributes.Select(a =>
            a.NamedArguments.FirstOrDefault(n => n.MemberName == nameof(ParameterAttribute.ParameterSetName)).TypedValue.Value as string ?? "(All)").ToList();
        Mandatory = parameterAttributes.Any(a => IsSet(a, nameof(ParameterAttribute.Mandatory)));
        ByPropertyName = parameterAttributes.Any(a => IsSet(a, nameof(ParameterAttribute.ValueFromPipelineByPropertyName)));
    }

    public bool ByPropertyName { get; }

    public PropertyInfo Property { get; }

    public string Name => Property.Name;

    /// <summary>The declared type with Nullable&lt;T&gt; unwrapped.</summary>
    public Type Type => Nullable.GetUnderlyingType(Property.PropertyType) ?? Property.PropertyType;

    public IReadOnlyList<string> Sets { get; }

    public bool Mandatory { get; }

    private static bool IsSet(CustomAttributeData a, string name) => a.NamedArguments.Any(n => n.MemberName == name && n.TypedValue.Value is true);
}

/// <summary>Walks method bodies opcode by opcode (so operands are never misread as opcodes) to find call targets.</summary>
internal static class IlCalls
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .GroupBy(o => o.Value)
        .ToDictionary(g => g.Key, g => g.First());

    public static bool AnyCall(Type type, Func<MethodBase, bool> predicate)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var methods = type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all));
        return methods.Any(m => Calls(m).Any(predicate)) || type.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic).Any(n => AnyCall(n, predicate));
    }

    private static IEnumerable<MethodBase> Calls(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }
        var i = 0;
        while (i < il.Length)
        {
            short value = il[i++];
            if (value == 0xFE)
            {
                value = (short)(0xFE00 | il[i++]);
            }
            var op = OpCodesByValue[value];
            if (op.OperandType == OperandType.InlineMethod)
            {
                var token = BitConverter.ToInt32(il, i);
                MethodBase? target = null;
                try
                {
                    target = method.Module.ResolveMethod(token,
                        method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null,
                        method.IsGenericMethod ? method.GetGenericArguments() : null);
                }
                catch (ArgumentException)
                {
                    // A token that does not resolve in this context cannot be a call to ShouldProcess.
                }
                if (target is not null)
                {
                    yield return target;
                }
            }
            i += OperandSize(op, il, i);
        }
    }

    private static int OperandSize(OpCode op, byte[] il, int at) => op.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, at)),
        _ => 4,
    };
}
