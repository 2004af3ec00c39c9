BeforeAll { . "$PSScriptRoot/TestHelpers.ps1" }

Describe 'Undo-RotationSecret' {
    BeforeAll {
        $command = Get-Command Undo-RotationSecret
        $store = Join-Path $TestDrive 's.json'
    }

    Context 'Parameters' {
        It 'has exactly the documented parameters' {
            $expected = 'Endpoint', 'Uri'
            $actual = $command.Parameters.Keys | Where-Object { $_ -notin [System.Management.Automation.PSCmdlet]::CommonParameters -and $_ -notin [System.Management.Automation.PSCmdlet]::OptionalCommonParameters }
            ($actual | Sort-Object) | Should -Be ($expected | Sort-Object)
        }
        It 'asks for confirmation by default (ConfirmImpact High)' {
            $command.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'High'
        }
    }

    Context 'Behaviour on the file store' {
        BeforeEach {
            $uri = "file://$store#$([guid]::NewGuid().ToString('N'))"
            $old = New-RotationSecret -Preset ApiKey
            $old | Set-RotationSecret -Uri $uri
            $new = New-RotationSecret -Preset ApiKey
            $new | Set-RotationSecret -Uri $uri
        }
        It 'changes nothing with -WhatIf' {
            Undo-RotationSecret -Uri $uri -WhatIf
            (Get-RotationSecret -Uri $uri).Fingerprint | Should -Be $new.Fingerprint
        }
        It 'makes previous current again, and undoing twice restores' {
            (Undo-RotationSecret -Uri $uri -Confirm:$false).Fingerprint | Should -Be $old.Fingerprint
            (Get-RotationSecret -Uri $uri -Stage Previous).Fingerprint | Should -Be $new.Fingerprint
            (Undo-RotationSecret -Uri $uri -Confirm:$false).Fingerprint | Should -Be $new.Fingerprint
        }
        It 'records a rollback in the audit log' {
            Undo-RotationSecret -Uri $uri -Confirm:$false | Out-Null
            $line = Get-Content $env:ROTATION_AUDIT_LOG | ConvertFrom-Json | Where-Object { $_.target -eq $uri -and $_.event -eq 'secret.undone' }
            $line.reason | Should -Be 'Rollback'
            $line.success | Should -BeTrue
        }
        It 'reports NoPreviousVersion when there is nothing to return to' {
            $single = "file://$store#single"
            New-RotationSecret -Preset ApiKey | Set-RotationSecret -Uri $single
            Undo-RotationSecret -Uri $single -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'NoPreviousVersion*'
        }
    }
}
