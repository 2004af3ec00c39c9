<#
.SYNOPSIS
    The main job on the embedded default store: a routine rotation of an API key and a JWT signing key ring in a
    local file store, with the audit trail it leaves. No cloud account needed. Run it with ./build.ps1 -Task Demo.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $StateDirectory
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force
$store = Join-Path $StateDirectory 'secrets.json'
# Every result goes through Out-Host: each step prints under its own heading, each type in its own format view
# (left to the script's output stream, objects print after all the headings, and a type that follows another
# type's table falls back to a list of every property).

Write-Host "`n# 1. Generate an API key and stage it as Pending, then promote it (the old Current becomes Previous)"
New-RotationSecret -Preset ApiKey -Name payments-api-key | Set-RotationSecret -Uri "file://$store#payments/api-key" -Stage Current
New-RotationSecret -Preset ApiKey -Name payments-api-key | Set-RotationSecret -Uri "file://$store#payments/api-key" -Stage Pending
Complete-RotationSecret -Uri "file://$store#payments/api-key" | Out-Host
Get-RotationSecret -Uri "file://$store#payments/api-key" -Stage Current | Out-Host
Get-RotationSecret -Uri "file://$store#payments/api-key" -Stage Previous | Out-Host

Write-Host "`n# 2. Roll back: Previous becomes Current again"
Undo-RotationSecret -Uri "file://$store#payments/api-key" -Confirm:$false | Out-Host
Get-RotationSecret -Uri "file://$store#payments/api-key" -Stage Current | Out-Host

Write-Host "`n# 3. A JWT signing key ring: publish a key, activate it, render the dual-key layout an application reads"
$ring = "file://$store#ticket-service/jwt-ring"
New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $ring -Activate | Out-Host
New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $ring | Out-Host
Switch-JwtSigningKey -Uri $ring -PublishLead 0 | Out-Host
Get-JwtKeyRing -Uri $ring | Select-Object -ExpandProperty Keys | Out-Host
ConvertTo-JwtKeyLayout -Uri $ring -Layout CurrentAndOld | Set-RotationSecret -Uri "file://$store#ticket-service/jwt-secret" -Shape Json

Write-Host "`n# 4. The audit trail (SOC 2 evidence): every state change, never a value"
Get-RotationAuditLog | Format-Table Timestamp, Event, Target, Success, Fingerprint -AutoSize | Out-Host
Write-Host "State folder: $StateDirectory"
