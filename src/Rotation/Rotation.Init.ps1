# Loaded by the manifest's NestedModules, before PowerShell reflects on Rotation.dll: it hooks the default load
# context up to Rotation.Core (in dependencies/, loaded into the module's own context) so the cmdlet types whose
# parameters are core enums can be loaded at all. See src/Rotation/Infrastructure/ModuleInitializer.cs.
Add-Type -Path (Join-Path $PSScriptRoot 'Rotation.dll')
[Rotation.Infrastructure.ModuleInitializer]::Register()
