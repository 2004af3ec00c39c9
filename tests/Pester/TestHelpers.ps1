# Dot-sourced by every Pester file: BeforeAll { . "$PSScriptRoot/TestHelpers.ps1" }
# Imports the staged module (out/Rotation/<newest version>/Rotation.psd1, or $env:ROTATION_MODULE_PATH: a manifest
# or the folder holding it) and points the state folder and the audit log at a fresh folder of this test file, so
# no test touches the operator's real state and test files never see each other's runs.

function Get-RotationTestModulePath {
    if ($env:ROTATION_MODULE_PATH) {
        $path = $env:ROTATION_MODULE_PATH
        if (Test-Path -LiteralPath $path -PathType Container) { $path = Join-Path $path 'Rotation.psd1' }
        if (-not (Test-Path -LiteralPath $path)) { throw "ROTATION_MODULE_PATH points at '$path', which does not exist." }
        return (Resolve-Path -LiteralPath $path).Path
    }
    $staged = Join-Path $PSScriptRoot '../../out/Rotation'
    $newest = Get-ChildItem -LiteralPath $staged -Directory -ErrorAction SilentlyContinue |
        Where-Object { $null -ne ($_.Name -as [version]) -and (Test-Path (Join-Path $_.FullName 'Rotation.psd1')) } |
        Sort-Object { [version]$_.Name } -Descending |
        Select-Object -First 1
    if (-not $newest) {
        throw "No staged module under $staged. Run './build.ps1 -Task Package' first, or set ROTATION_MODULE_PATH."
    }
    return (Join-Path $newest.FullName 'Rotation.psd1')
}

function New-RotationTestStateFolder {
    $testDrive = Get-Variable -Name TestDrive -ValueOnly -ErrorAction SilentlyContinue
    $base = if ($testDrive) { $testDrive } else { [System.IO.Path]::GetTempPath() }
    $folder = Join-Path $base ('rotation-state-' + [guid]::NewGuid().ToString('N').Substring(0, 12))
    New-Item -ItemType Directory -Path $folder -Force | Out-Null
    return $folder
}

# The parameters a cmdlet declares itself, without the common and ShouldProcess parameters.
function Get-RotationDeclaredParameter {
    param([Parameter(Mandatory)] [string] $CommandName)
    $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
    (Get-Command -Name $CommandName -Module Rotation).Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object
}

# A SecureString's characters, for assertions only.
function ConvertFrom-RotationTestSecureString {
    param([Parameter(Mandatory, ValueFromPipeline)] [securestring] $Value)
    process { [System.Net.NetworkCredential]::new('', $Value).Password }
}

$script:RotationModulePath = Get-RotationTestModulePath
Import-Module $script:RotationModulePath -Force -ErrorAction Stop

$script:RotationStateDir = New-RotationTestStateFolder
$env:ROTATION_STATE_DIR = $script:RotationStateDir
$env:ROTATION_AUDIT_LOG = Join-Path $script:RotationStateDir 'audit.jsonl'
# Tests never reach a real cloud: the AWS resolver must not probe instance metadata.
$env:AWS_EC2_METADATA_DISABLED = 'true'
