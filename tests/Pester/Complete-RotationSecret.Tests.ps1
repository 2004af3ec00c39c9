BeforeAll { . "$PSScriptRoot/TestHelpers.ps1" }

Describe 'Complete-RotationSecret' {
    BeforeAll {
        $command = Get-Command Complete-RotationSecret
        $store = Join-Path $TestDrive 's.json'
    }

    Context 'Parameters' {
        It 'has exactly the documented parameters' {
            $expected = 'Endpoint', 'Uri', 'VersionId'
            $actual = $command.Parameters.Keys | Where-Object { $_ -notin [System.Management.Automation.PSCmdlet]::CommonParameters -and $_ -notin [System.Management.Automation.PSCmdlet]::OptionalCommonParameters }
            ($actual | Sort-Object) | Should -Be ($expected | Sort-Object)
        }
        It 'supports -WhatIf and -Confirm' {
            $command.Parameters.Keys | Should -Contain 'WhatIf'
        }
    }

    Context 'Behaviour on the file store' {
        BeforeEach {
            $uri = "file://$store#$([guid]::NewGuid().ToString('N'))"
            $old = New-RotationSecret -Preset ApiKey
            $old | Set-RotationSecret -Uri $uri
            $new = New-RotationSecret -Preset ApiKey | Set-RotationSecret -Uri $uri -Stage Pending -RunId r-complete -PassThru
        }
        It 'changes nothing with -WhatIf' {
            Complete-RotationSecret -Uri $uri -WhatIf
            (Get-RotationSecret -Uri $uri).Fingerprint | Should -Be $old.Fingerprint
            (Get-RotationSecret -Uri $uri -Stage Pending).Fingerprint | Should -Be $new.Fingerprint
        }
        It 'promotes pending to current and keeps the old current as previous' {
            $current = Complete-RotationSecret -Uri $uri
            $current.Fingerprint | Should -Be $new.Fingerprint
            $current.Stage | Should -Be 'Current'
            (Get-RotationSecret -Uri $uri -Stage Previous).Fingerprint | Should -Be $old.Fingerprint
        }
        It 'binds Uri and VersionId from Set-RotationSecret -PassThru, and a retry after success is fine' {
            ($new | Complete-RotationSecret).VersionId | Should -Be $new.VersionId
            ($new | Complete-RotationSecret).VersionId | Should -Be $new.VersionId
        }
        It 'reports NoPendingVersion when nothing is pending' {
            Complete-RotationSecret -Uri $uri | Out-Null
            Complete-RotationSecret -Uri $uri -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'NoPendingVersion*'
        }
        It 'writes one audit record' {
            Complete-RotationSecret -Uri $uri | Out-Null
            $lines = Get-Content $env:ROTATION_AUDIT_LOG | ConvertFrom-Json | Where-Object { $_.target -eq $uri -and $_.event -eq 'secret.completed' }
            @($lines).Count | Should -Be 1
            $lines.fingerprint | Should -Be $new.Fingerprint
        }
    }
}
