#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests, packages and demonstrates the Rotation module.
.DESCRIPTION
    Wraps the same dotnet commands CI runs.
      Build    dotnet build of Module.sln.
      Test     the full suite: tests/run.sh (real PostgreSQL, Redis and moto on 127.0.0.1, xunit, then Pester).
      Package  stages the module at out/Rotation/<version>/: Rotation.dll (the thin entry assembly), the manifest
               with the version from Directory.Build.props, format views, MAML help, and dependencies/ holding
               Rotation.Core and every third-party assembly (loaded into the module's own AssemblyLoadContext).
      Docs     regenerates MAML help from docs/en-US/*.md into the staged module.
      Analyze  PSScriptAnalyzer over the scripts (when installed) and dotnet format verification.
      Demo     packages, imports the staged module and runs the main job on the embedded file store.
.EXAMPLE
    ./build.ps1 -Task Demo
.EXAMPLE
    ./build.ps1 -Task Package -Configuration Release
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Package', 'Docs', 'Analyze', 'Demo')]
    [string[]] $Task = @('Build'),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$version = ([xml](Get-Content -Raw (Join-Path $root 'Directory.Build.props'))).Project.PropertyGroup.VersionPrefix |
    Where-Object { $_ } | Select-Object -First 1
$stage = Join-Path $root "out/Rotation/$version"

function Invoke-Native {
    param([string] $Command, [string[]] $Arguments)
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command $($Arguments -join ' ') failed with exit code $LASTEXITCODE." }
}

function Invoke-Build {
    Invoke-Native dotnet @('build', (Join-Path $root 'Module.sln'), '-c', $Configuration, '-nologo')
}

function Invoke-Docs {
    $helpOut = Join-Path $stage 'en-US'
    Invoke-Native dotnet @('run', '--project', (Join-Path $root 'build/Rotation.HelpGen'), '-c', $Configuration, '--',
        (Join-Path $root 'docs/en-US'), $helpOut)
}

function Invoke-Package {
    $publish = Join-Path $root "obj/publish/$Configuration"
    if (Test-Path $publish) { Remove-Item -Recurse -Force $publish }
    Invoke-Native dotnet @('publish', (Join-Path $root 'src/Rotation/Rotation.csproj'), '-c', $Configuration, '-o', $publish, '-nologo')

    if (Test-Path $stage) { Remove-Item -Recurse -Force $stage }
    $deps = Join-Path $stage 'dependencies'
    New-Item -ItemType Directory -Force -Path $deps, (Join-Path $stage 'Formats') | Out-Null

    # Only the entry assembly sits beside the manifest; everything else goes to dependencies/ so PowerShell's own
    # probing never loads it into the default load context.
    Copy-Item (Join-Path $publish 'Rotation.dll') $stage
    Get-ChildItem $publish -File | Where-Object { $_.Name -notin @('Rotation.dll', 'Rotation.pdb', 'Rotation.deps.json', 'Rotation.xml') } |
        Copy-Item -Destination $deps
    foreach ($runtimeDir in @('runtimes')) {
        $src = Join-Path $publish $runtimeDir
        if (Test-Path $src) { Copy-Item -Recurse $src (Join-Path $deps $runtimeDir) }
    }
    Copy-Item (Join-Path $root 'src/Rotation/Formats/*.format.ps1xml') (Join-Path $stage 'Formats')
    Copy-Item (Join-Path $root 'src/Rotation/Rotation.Init.ps1') $stage

    $manifest = Get-Content -Raw (Join-Path $root 'Rotation.psd1')
    $manifest = $manifest -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion          = '$version'"
    Set-Content -Path (Join-Path $stage 'Rotation.psd1') -Value $manifest -NoNewline
    Invoke-Docs
    Write-Host "Staged Rotation $version at $stage"
}

function Invoke-Test {
    $bash = Get-Command bash -ErrorAction SilentlyContinue
    if ($bash) {
        Invoke-Native $bash.Source @((Join-Path $root 'tests/run.sh'))
        return
    }
    # Without bash (Windows): unit tests and Pester; integration tests need the servers tests/servers.sh starts.
    Invoke-Native dotnet @('test', (Join-Path $root 'Module.sln'), '-c', $Configuration, '-nologo')
    Invoke-Package
    $config = New-PesterConfiguration
    $config.Run.Path = Join-Path $root 'tests/Pester'
    $config.Run.Exit = $true
    Invoke-Pester -Configuration $config
}

function Invoke-Analyze {
    if (Get-Module -ListAvailable PSScriptAnalyzer) {
        $issues = Invoke-ScriptAnalyzer -Path $root -Recurse -Severity Warning, Error
        $issues | Format-Table -AutoSize
        if ($issues) { throw "PSScriptAnalyzer reported $(@($issues).Count) issue(s)." }
    }
    else {
        Write-Warning 'PSScriptAnalyzer is not installed; skipping script analysis (Install-Module PSScriptAnalyzer).'
    }
    Invoke-Native dotnet @('format', (Join-Path $root 'Module.sln'), '--verify-no-changes', '--severity', 'warn')
}

function Invoke-Demo {
    Invoke-Package
    $state = Join-Path ([System.IO.Path]::GetTempPath()) "rotation-demo-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $env:ROTATION_STATE_DIR = $state
    $env:ROTATION_AUDIT_LOG = Join-Path $state 'audit.jsonl'
    # A child process, so the demo imports the freshly staged module into a clean session.
    Invoke-Native (Get-Process -Id $PID).Path @('-NoProfile', '-File', (Join-Path $root 'docs/examples/Demo.ps1'), '-ModulePath', (Join-Path $stage 'Rotation.psd1'), '-StateDirectory', $state)
}

foreach ($t in $Task) {
    switch ($t) {
        'Build' { Invoke-Build }
        'Test' { Invoke-Test }
        'Package' { Invoke-Package }
        'Docs' { Invoke-Docs }
        'Analyze' { Invoke-Analyze }
        'Demo' { Invoke-Demo }
    }
}
