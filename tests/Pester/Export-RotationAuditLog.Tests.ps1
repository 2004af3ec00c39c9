BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/RunJournal.Helpers.ps1"
}

Describe 'Export-RotationAuditLog' {
    Context 'Parameters' {
        BeforeAll { $command = Get-Command Export-RotationAuditLog }

        It 'declares exactly its parameters' {
            Get-RotationDeclaredParameter -CommandName Export-RotationAuditLog | Should -Be @('Event', 'Force', 'Format', 'LogPath', 'PassThru', 'Path', 'RunId', 'Since', 'SkipMalformed', 'Target', 'Until')
        }

        It 'supports -WhatIf and -Confirm' {
            (Get-Command Export-RotationAuditLog).Parameters.Keys | Should -Contain 'WhatIf'
            (Get-Command Export-RotationAuditLog).Parameters.Keys | Should -Contain 'Confirm'
        }

        It 'requires a destination path' {
            $command.Parameters['Path'].Attributes.Where({ $_ -is [Parameter] }).Mandatory | Should -BeTrue
        }
    }

    Context 'Behaviour' {
        BeforeEach {
            Remove-Item $env:ROTATION_AUDIT_LOG -Force -ErrorAction SilentlyContinue
            Add-TestAuditLine -Event 'run.started' -RunId 'r-1' -Target 'app@db, "primary"'
            Add-TestAuditLine -Event 'run.succeeded' -RunId 'r-1'
            Add-TestAuditLine -Event 'run.started' -RunId 'r-2'
        }

        It 'writes a JSON array by default' {
            $out = Join-Path $TestDrive 'audit.json'
            Export-RotationAuditLog -Path $out -RunId 'r-1'
            $records = Get-Content $out -Raw | ConvertFrom-Json
            $records.Count | Should -Be 2
            $records[0].run_id | Should -Be 'r-1'
        }

        It 'writes RFC 4180 CSV for a .csv destination' {
            $out = Join-Path $TestDrive 'audit.csv'
            $result = Export-RotationAuditLog -Path $out -PassThru
            $result.Format | Should -Be 'Csv'
            $result.Count | Should -Be 3
            $rows = Import-Csv $out
            $rows[0].target | Should -Be 'app@db, "primary"'
            $rows[0].event | Should -Be 'run.started'
        }

        It 'changes nothing with -WhatIf' {
            $out = Join-Path $TestDrive 'whatif.json'
            Export-RotationAuditLog -Path $out -WhatIf
            Test-Path $out | Should -BeFalse
        }

        It 'refuses to replace a file without -Force' {
            $out = Join-Path $TestDrive 'exists.json'
            Set-Content -Path $out -Value 'keep me'
            Export-RotationAuditLog -Path $out -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'AuditExportFileExists*'
            Get-Content $out | Should -Be 'keep me'
            Export-RotationAuditLog -Path $out -Force
            (Get-Content $out -Raw | ConvertFrom-Json).Count | Should -Be 3
        }
    }
}
