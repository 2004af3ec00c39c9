BeforeDiscovery {
    # -Skip is decided at discovery, before BeforeAll runs.
    $script:HasRedis = [bool]$env:ROTATION_TEST_REDIS_ENDPOINT
}

BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/_RedisPesterHelpers.ps1"
    Initialize-RedisTestServer
}

Describe 'Remove-RetiredRedisCredential' {
    Context 'Parameters' {
        It 'has the expected parameters' {
            $expected = 'InputObject', 'RunId', 'Credential', 'GracePeriod', 'Force', 'NoPersist', 'PassThru',
                'Tls', 'CaFile', 'ServerName', 'SkipCertificateCheck', 'WhatIf', 'Confirm'
            $actual = (Get-Command Remove-RetiredRedisCredential).Parameters.Keys | Where-Object { $_ -notin [System.Management.Automation.PSCmdlet]::CommonParameters }
            $actual | Sort-Object | Should -Be ($expected | Sort-Object)
        }

        It 'is high impact' {
            $attribute = (Get-Command Remove-RetiredRedisCredential).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
            $attribute.ConfirmImpact | Should -Be 'High'
        }

        It 'takes the rotation from the pipeline but never the admin credential' {
            $p = (Get-Command Remove-RetiredRedisCredential).Parameters
            $p['InputObject'].Attributes.ValueFromPipeline | Should -Contain $true
            $p['Credential'].Attributes.ValueFromPipelineByPropertyName | Should -Not -Contain $true
        }
    }

    Context 'Against the test server' -Skip:(-not $script:HasRedis) {
        It 'changes nothing with -WhatIf, refuses inside the grace period, then retires the old password' {
            $name = "pester_retire_$([guid]::NewGuid().ToString('N').Substring(0, 8))"
            $old = New-TestRedisUser $name
            try {
                $x = Invoke-RedisAclRotation -Endpoint $script:Endpoint -Credential $script:Admin -User $name -Confirm:$false

                $x | Remove-RetiredRedisCredential -Credential $script:Admin -GracePeriod 0 -WhatIf
                Test-RedisCredential -Endpoint $script:Endpoint -Credential $old | Should -BeTrue

                { $x | Remove-RetiredRedisCredential -Credential $script:Admin -GracePeriod 01:00:00 -Confirm:$false -ErrorAction Stop } |
                    Should -Throw -ErrorId 'GracePeriodNotElapsed*'
                Test-RedisCredential -Endpoint $script:Endpoint -Credential $old | Should -BeTrue

                $x | Remove-RetiredRedisCredential -Credential $script:Admin -GracePeriod 0 -Confirm:$false | Should -BeNullOrEmpty
                Test-RedisCredential -Endpoint $script:Endpoint -Credential $old -ExpectFailure | Should -BeTrue
                $x | Test-RedisCredential | Should -BeTrue
            }
            finally { Remove-TestRedisUser $name }
        }

        It 'deletes the old user of a NewUser rotation and says so with -PassThru' {
            $name = "pester_retnu_$([guid]::NewGuid().ToString('N').Substring(0, 8))"
            $old = New-TestRedisUser $name
            try {
                $x = Invoke-RedisAclRotation -Endpoint $script:Endpoint -Credential $script:Admin -User $name -Strategy NewUser -Confirm:$false
                $r = $x | Remove-RetiredRedisCredential -Credential $script:Admin -GracePeriod 0 -Confirm:$false -PassThru
                $r | Should -BeOfType (Get-RotationCoreType Rotation.Core.Redis.RedisRetirement)
                $r.PreviousUser | Should -Be $name
                Test-RedisCredential -Endpoint $script:Endpoint -Credential $old -ExpectFailure | Should -BeTrue
            }
            finally { Remove-TestRedisUser $name }
        }
    }
}
