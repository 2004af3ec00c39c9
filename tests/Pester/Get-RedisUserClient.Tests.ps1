BeforeDiscovery {
    # -Skip is decided at discovery, before BeforeAll runs.
    $script:HasRedis = [bool]$env:ROTATION_TEST_REDIS_ENDPOINT
}

BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/_RedisPesterHelpers.ps1"
    Initialize-RedisTestServer
}

Describe 'Get-RedisUserClient' {
    Context 'Parameters' {
        It 'has the expected parameters' {
            $expected = 'Endpoint', 'Credential', 'User', 'Tls', 'CaFile', 'ServerName', 'SkipCertificateCheck', 'TimeoutSeconds'
            $actual = (Get-Command Get-RedisUserClient).Parameters.Keys | Where-Object { $_ -notin [System.Management.Automation.PSCmdlet]::CommonParameters }
            $actual | Sort-Object | Should -Be ($expected | Sort-Object)
        }

        It 'never binds the admin -Credential from the pipeline' {
            (Get-Command Get-RedisUserClient).Parameters['Credential'].Attributes.ValueFromPipelineByPropertyName | Should -Not -Contain $true
        }
    }

    Context 'Against the test server' -Skip:(-not $script:HasRedis) {
        It 'lists clients and filters by user' {
            $all = Get-RedisUserClient -Endpoint $script:Endpoint -Credential $script:Admin
            $all | Should -Not -BeNullOrEmpty
            $all[0] | Should -BeOfType (Get-RotationCoreType Rotation.Core.Redis.RedisClientInfo)
            $mine = Get-RedisUserClient -Endpoint $script:Endpoint -Credential $script:Admin -User $script:Admin.UserName
            $mine.User | Sort-Object -Unique | Should -Be $script:Admin.UserName
            Get-RedisUserClient -Endpoint $script:Endpoint -Credential $script:Admin -User "nobody_$([guid]::NewGuid().ToString('N'))" | Should -BeNullOrEmpty
        }
    }
}
