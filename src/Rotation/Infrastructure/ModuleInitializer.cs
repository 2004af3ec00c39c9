using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace Rotation.Infrastructure;

/// <summary>
/// Dependency isolation (the documented pattern for binary modules): Rotation.dll, the only assembly in the module
/// folder, is loaded by PowerShell into the default context. Rotation.Core and every third-party dependency
/// (Npgsql, AWSSDK.Core, Azure, Google...) sit in 'dependencies/' and load into this module's own
/// AssemblyLoadContext, so a host that already loaded another version of any of them (pwsh 7.4's
/// DiagnosticSource 8.0, another module's Newtonsoft) never clashes with ours.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private static readonly string DependencyDirectory =
        Path.Combine(Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!, "dependencies");

    private static readonly RotationLoadContext LoadContext = new(DependencyDirectory);

    private static int _registered;

    public void OnImport() => Register();

    public void OnRemove(PSModuleInfo psModuleInfo) => Unregister();

    /// <summary>
    /// Hooks the default context up to Rotation.Core. PowerShell enumerates Rotation.dll's exported types before it
    /// calls OnImport, and a cmdlet whose parameter is a core enum (a value-type field) cannot even be loaded
    /// without Rotation.Core; so the manifest's NestedModules script (Rotation.Init.ps1) calls this first. Idempotent.
    /// </summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            AssemblyLoadContext.Default.Resolving += ResolveCore;
        }
    }

    private static void Unregister()
    {
        if (Interlocked.Exchange(ref _registered, 0) == 1)
        {
            AssemblyLoadContext.Default.Resolving -= ResolveCore;
        }
    }

    // Only the core is handed to the default context (the cmdlets reference its types); its own dependencies are
    // then resolved inside RotationLoadContext.
    private static Assembly? ResolveCore(AssemblyLoadContext defaultContext, AssemblyName name) =>
        name.Name == "Rotation.Core" && Directory.Exists(DependencyDirectory) ? LoadContext.LoadFromAssemblyName(name) : null;

    private sealed class RotationLoadContext(string directory) : AssemblyLoadContext("Rotation", isCollectible: false)
    {
        protected override Assembly? Load(AssemblyName assemblyName)
        {
            var path = Path.Combine(directory, assemblyName.Name + ".dll");
            // Anything not shipped in dependencies/ (the framework itself) comes from the default context.
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }

        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
        {
            var path = Path.Combine(directory, unmanagedDllName);
            return File.Exists(path) ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
        }
    }
}
