BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/_PgPesterHelpers.ps1"
}

Describe 'Invoke-DbUserRotation' {
    Context 'Parameters' {
        It 'has the expected parameters' {
            $cmd = Get-Command Invoke-DbUserRotation
            foreach ($p in 'User', 'Strategy', 'NewUser', 'SecretUri', 'Reason', 'Server', 'Port', 'Database', 'Credential', 'ConnectionString', 'AdminSecretUri', 'SslMode', 'WhatIf', 'Confirm') {
                $cmd.Parameters.Keys | Should -Contain $p
            }
            $cmd.Parameters['User'].Attributes.Where({ $_ -is [Parameter] }).ValueFromPipelineByPropertyName | Should -Contain $true
            $cmd.Parameters['Credential'].Attributes.Where({ $_ -is [Parameter] }).ValueFromPipelineByPropertyName | Should -Not -Contain $true
        }
    }

    Context 'Against the test server' {
        BeforeAll {
            $prefix = 'pester_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
            $admin = Get-PgTestAdmin
            $target = Get-PgTestTarget
            $app = New-PgTestLogin "${prefix}_app"
            $uri = "file://$TestDrive/s.json#app"
        }
        AfterAll { Remove-PgTestLogins $prefix }

        It '-WhatIf changes nothing' {
            Invoke-DbUserRotation @target -Credential $admin -User $app.UserName -SecretUri $uri -WhatIf
            Invoke-PgTestSql "select count(*) from pg_roles where rolname = '${prefix}_app_v2'" | Should -Be '0'
            Test-Path "$TestDrive/s.json" | Should -BeFalse
        }

        It 'creates the next version, which logs in, and binds to Test-DbCredential' {
            $r = Invoke-DbUserRotation @target -Credential $admin -User $app.UserName -SecretUri $uri -Confirm:$false
            $r.NewUser | Should -Be "${prefix}_app_v2"
            $r.PreviousUser | Should -Be $app.UserName
            $r.Credential.UserName | Should -Be "${prefix}_app_v2"
            $r | Test-DbCredential | Should -BeTrue
            Test-DbCredential @target -Credential $app | Should -BeTrue
        }

        It 'refuses a missing user with DbUserNotFound' {
            { Invoke-DbUserRotation @target -Credential $admin -User "${prefix}_nobody" -SecretUri "file://$TestDrive/x.json#x" -ErrorAction Stop } |
                Should -Throw -ErrorId 'DbUserNotFound*'
        }
    }
}
