BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/_PgPesterHelpers.ps1"
}

Describe 'Get-DbUserSession' {
    It 'has the expected parameters' {
        $cmd = Get-Command Get-DbUserSession
        foreach ($p in 'User', 'Server', 'Port', 'Database', 'Credential', 'ConnectionString', 'AdminSecretUri', 'SslMode') {
            $cmd.Parameters.Keys | Should -Contain $p
        }
    }

    Context 'Against the test server' {
        BeforeAll {
            $prefix = 'pester_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
            $admin = Get-PgTestAdmin
            $target = Get-PgTestTarget
            $app = New-PgTestLogin "${prefix}_app"
        }
        AfterAll { Remove-PgTestLogins $prefix }

        It 'returns nothing for a login without sessions' {
            @(Get-DbUserSession @target -Credential $admin -User $app.UserName).Count | Should -Be 0
        }

        It 'refuses a missing login with DbUserNotFound' {
            { Get-DbUserSession @target -Credential $admin -User "${prefix}_nobody" -ErrorAction Stop } | Should -Throw -ErrorId 'DbUserNotFound*'
        }
    }
}
