BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/_PgPesterHelpers.ps1"
}

Describe 'Remove-RetiredDbUser' {
    It 'has the expected parameters and ConfirmImpact High' {
        $cmd = Get-Command Remove-RetiredDbUser
        foreach ($p in 'User', 'GracePeriod', 'Force', 'ReassignTo', 'RenameTo', 'SecretUri', 'PassThru', 'Server', 'Port', 'Database', 'Credential', 'WhatIf', 'Confirm') {
            $cmd.Parameters.Keys | Should -Contain $p
        }
        $attr = $cmd.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attr.ConfirmImpact | Should -Be 'High'
    }

    Context 'Against the test server' {
        BeforeAll {
            $prefix = 'pester_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
            $admin = Get-PgTestAdmin
            $target = Get-PgTestTarget
            $app = New-PgTestLogin "${prefix}_app"
            $r = Invoke-DbUserRotation @target -Credential $admin -User $app.UserName -SecretUri "file://$TestDrive/s.json#app" -Confirm:$false
        }
        AfterAll { Remove-PgTestLogins $prefix }

        It 'refuses inside the grace period' {
            { $r | Remove-RetiredDbUser -Credential $admin -GracePeriod 01:00:00 -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'GracePeriodNotElapsed*'
        }

        It '-WhatIf drops nothing' {
            $r | Remove-RetiredDbUser -Credential $admin -GracePeriod 0 -WhatIf
            Invoke-PgTestSql "select count(*) from pg_roles where rolname = '$($app.UserName)'" | Should -Be '1'
        }

        It 'drops the old login, writes nothing without -PassThru, and the old login fails' {
            $out = $r | Remove-RetiredDbUser -Credential $admin -GracePeriod 0 -Confirm:$false
            $out | Should -BeNullOrEmpty
            Invoke-PgTestSql "select count(*) from pg_roles where rolname = '$($app.UserName)'" | Should -Be '0'
            Test-DbCredential @target -Credential $app -ExpectFailure | Should -BeTrue
            $r | Test-DbCredential | Should -BeTrue
        }
    }
}
