BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/_PgPesterHelpers.ps1"
}

Describe 'Test-DbCredential' {
    It 'has the expected parameters' {
        $cmd = Get-Command Test-DbCredential
        foreach ($p in 'Credential', 'Server', 'Port', 'Database', 'ConnectionString', 'SslMode', 'ExpectFailure', 'Detailed') {
            $cmd.Parameters.Keys | Should -Contain $p
        }
        $cmd.Parameters.Keys | Should -Not -Contain 'WhatIf'
    }

    Context 'Against the test server' {
        BeforeAll {
            $prefix = 'pester_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
            $target = Get-PgTestTarget
            $app = New-PgTestLogin "${prefix}_app"
        }
        AfterAll { Remove-PgTestLogins $prefix }

        It 'returns $true for a working login' {
            Test-DbCredential @target -Credential $app | Should -BeTrue
        }

        It 'returns $true with -ExpectFailure for a wrong password' {
            $bad = [pscredential]::new($app.UserName, (ConvertTo-SecureString 'wrong' -AsPlainText -Force))
            Test-DbCredential @target -Credential $bad -ExpectFailure | Should -BeTrue
            (Test-DbCredential @target -Credential $bad -Detailed).Reason | Should -Be 'AuthenticationFailed'
        }

        It 'reports an unreachable server' {
            (Test-DbCredential -Server 127.0.0.1 -Port 1 -Credential $app -Detailed).Reason | Should -Be 'Unreachable'
        }
    }
}
