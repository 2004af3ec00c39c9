BeforeDiscovery {
    # -Skip is decided at discovery, before BeforeAll runs.
    $script:HasRedis = [bool]$env:ROTATION_TEST_REDIS_ENDPOINT
}

BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/_RedisPesterHelpers.ps1"
    Initialize-RedisTestServer
}

Describe 'Test-RedisCredential' {
    Context 'Parameters' {
        It 'has the expected parameters' {
            $expected = 'Endpoint', 'Credential', 'ExpectFailure', 'Detailed', 'Tls', 'CaFile', 'ServerName', 'SkipCertificateCheck', 'TimeoutSeconds'
            $actual = (Get-Command Test-RedisCredential).Parameters.Keys | Where-Object { $_ -notin [System.Management.Automation.PSCmdlet]::CommonParameters }
            $actual | Sort-Object | Should -Be ($expected | Sort-Object)
        }

        It 'binds Endpoint and Credential by property name' {
            $command = Get-Command Test-RedisCredential
            $command.Parameters['Credential'].Attributes.ValueFromPipelineByPropertyName | Should -Contain $true
            $command.Parameters['Endpoint'].Attributes.ValueFromPipelineByPropertyName | Should -Contain $true
        }

        It 'does not support -WhatIf (it changes nothing)' {
            (Get-Command Test-RedisCredential).Parameters.Keys | Should -Not -Contain 'WhatIf'
        }
    }

    Context 'Against the test server' -Skip:(-not $script:HasRedis) {
        It 'returns $true for the admin login' {
            Test-RedisCredential -Endpoint $script:Endpoint -Credential $script:Admin | Should -BeTrue
        }

        It 'returns $false for a wrong password, and $true with -ExpectFailure' {
            $wrong = [pscredential]::new($script:Admin.UserName, (ConvertTo-SecureString 'not-the-password' -AsPlainText -Force))
            Test-RedisCredential -Endpoint $script:Endpoint -Credential $wrong | Should -BeFalse
            Test-RedisCredential -Endpoint $script:Endpoint -Credential $wrong -ExpectFailure | Should -BeTrue
        }

        It 'gives the reason with -Detailed' {
            $wrong = [pscredential]::new($script:Admin.UserName, (ConvertTo-SecureString 'not-the-password' -AsPlainText -Force))
            $r = Test-RedisCredential -Endpoint $script:Endpoint -Credential $wrong -Detailed
            $r | Should -BeOfType (Get-RotationCoreType Rotation.Core.Redis.RedisCredentialTestResult)
            $r.Success | Should -BeFalse
            $r.ErrorId | Should -Be 'RedisAuthenticationFailed'
            $r.Reason | Should -Not -Match 'not-the-password'
        }

        It 'never counts an unreachable node as a refused login' {
            Test-RedisCredential -Endpoint '127.0.0.1:1' -Credential $script:Admin -ExpectFailure | Should -BeFalse
        }
    }
}
