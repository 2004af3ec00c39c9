BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/RunJournal.Helpers.ps1"
}

Describe 'Get-RotationAuditLog' {
    Context 'Parameters' {
        BeforeAll { $command = Get-Command Get-RotationAuditLog }

        It 'declares exactly its parameters' {
            Get-RotationDeclaredParameter -CommandName Get-RotationAuditLog | Should -Be @('Event', 'Path', 'RunId', 'Since', 'SkipMalformed', 'Target', 'Until')
        }

        It 'declares RotationAuditRecord as its output' {
            $command.OutputType.Name | Should -Contain 'Rotation.Core.Audit.RotationAuditRecord'
        }
    }

    Context 'Behaviour' {
        BeforeEach {
            Remove-Item $env:ROTATION_AUDIT_LOG -Force -ErrorAction SilentlyContinue
            $t0 = [datetime]::UtcNow.AddHours(-1)
            Add-TestAuditLine -Event 'run.started' -RunId 'r-1' -Target 'app@db-1' -Timestamp $t0
            Add-TestAuditLine -Event 'step.done' -RunId 'r-1' -Target 'app@db-1' -Timestamp $t0.AddMinutes(1)
            Add-TestAuditLine -Event 'step.failed' -RunId 'r-2' -Target 'cache@redis' -Timestamp $t0.AddMinutes(2)
        }

        It 'reads every record of the default log' {
            (Get-RotationAuditLog).Event | Should -Be 'run.started', 'step.done', 'step.failed'
        }

        It 'filters by event and target with wildcards, and by run id' {
            (Get-RotationAuditLog -Event 'step.*').Event | Should -Be 'step.done', 'step.failed'
            (Get-RotationAuditLog -Target 'APP@*').Count | Should -Be 2
            (Get-RotationAuditLog -RunId 'r-2').Event | Should -Be 'step.failed'
        }

        It 'filters by time' {
            (Get-RotationAuditLog -Since ([datetime]::UtcNow.AddMinutes(-59).AddSeconds(-30))).Event | Should -Be 'step.failed'
        }

        It 'binds RunId from piped objects' {
            ([pscustomobject]@{ RunId = 'r-1' } | Get-RotationAuditLog).Count | Should -Be 2
        }

        It 'reads another log with -Path' {
            $other = Join-Path $TestDrive 'other.jsonl'
            Add-TestAuditLine -Event 'secret.set' -Path $other
            (Get-RotationAuditLog -Path $other).Event | Should -Be 'secret.set'
        }

        It 'fails on a malformed line with its number, or skips it with a warning' {
            Add-Content -Path $env:ROTATION_AUDIT_LOG -Value '{ not json'
            Add-TestAuditLine -Event 'run.failed'
            Get-RotationAuditLog -ErrorVariable errors -ErrorAction SilentlyContinue | Out-Null
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'AuditLogMalformed*'
            $errors[0].Exception.Message | Should -Match 'Line 4'
            (Get-RotationAuditLog -SkipMalformed -WarningVariable warnings -WarningAction SilentlyContinue).Count | Should -Be 4
            $warnings | Should -Not -BeNullOrEmpty
        }
    }
}
