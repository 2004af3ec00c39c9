# Shared by the run and audit cmdlet tests: writes journal documents and audit lines the way the core does, so
# the cmdlets can be tested without a runbook. Dot-source after TestHelpers.ps1 (which sets ROTATION_STATE_DIR
# and ROTATION_AUDIT_LOG to a temp folder).

function New-TestRunDocument {
    param(
        [Parameter(Mandatory)] [string] $RunId,
        [string] $Kind = 'PesterSample',
        [string] $Target = 'app@db',
        [string] $Status = 'Failed',
        [string[]] $StepStatus = @('Done', 'Failed'),
        [datetime] $CreatedAt = [datetime]::UtcNow
    )
    $runs = Join-Path $env:ROTATION_STATE_DIR 'runs'
    New-Item -ItemType Directory -Path $runs -Force | Out-Null
    $i = 0
    $steps = foreach ($s in $StepStatus) {
        $i++
        [ordered]@{ Name = "step-$i"; Status = $s; Attempts = 1; Refs = @{}; Error = $null }
    }
    $doc = [ordered]@{
        RunId = $RunId; Kind = $Kind; Target = $Target; Status = $Status
        CreatedAt = $CreatedAt.ToString('o'); UpdatedAt = $CreatedAt.ToString('o')
        PerformedBy = 'pester'; Reason = 'Routine'; Parameters = @{ User = 'app' }; Steps = @($steps); Error = $null
    }
    $path = Join-Path $runs "$RunId.json"
    $doc | ConvertTo-Json -Depth 5 | Set-Content -Path $path -Encoding utf8NoBOM
    $path
}

function Add-TestAuditLine {
    param(
        [Parameter(Mandatory)] [string] $Event,
        [string] $Target = 'app@db',
        [string] $RunId = 'r-pester-1',
        [datetime] $Timestamp = [datetime]::UtcNow,
        [string] $Path = $env:ROTATION_AUDIT_LOG
    )
    New-Item -ItemType Directory -Path (Split-Path $Path) -Force | Out-Null
    $line = [ordered]@{
        timestamp = $Timestamp.ToUniversalTime().ToString('o'); event = $Event; credential_type = 'postgresql-password'
        target = $Target; performed_by = 'pester'; reason = 'routine'; success = $true; downtime_seconds = $null
        rollback_required = $false; run_id = $RunId; step = $null; fingerprint = $null; error = $null
    } | ConvertTo-Json -Compress
    [System.IO.File]::AppendAllText($Path, $line + "`n")
}
