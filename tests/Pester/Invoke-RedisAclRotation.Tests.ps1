BeforeDiscovery {
    # -Skip is decided at discovery, before BeforeAll runs.
    $script:HasRedis = [bool]$env:ROTATION_TEST_REDIS_ENDPOINT
}

BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/_RedisPesterHelpers.ps1"
    Initialize-RedisTestServer
}

Describe 'Invoke-RedisAclRotation' {
    Context 'Parameters' {
        It 'has the expected parameters' {
            $command = Get-Command Invoke-RedisAclRotation
            $expected = 'Endpoint', 'Credential', 'User', 'Strategy', 'Uri', 'NoPersist', 'PasswordLength', 'Reason',
                'Tls', 'CaFile', 'ServerName', 'SkipCertificateCheck', 'TimeoutSeconds', 'WhatIf', 'Confirm'
            $actual = $command.Parameters.Keys | Where-Object { $_ -notin [System.Management.Automation.PSCmdlet]::CommonParameters }
            $actual | Sort-Object | Should -Be ($expected | Sort-Object)
        }

        It 'requires Endpoint and Credential' {
            $command = Get-Command Invoke-RedisAclRotation
            $command.Parameters['Endpoint'].Attributes.Mandatory | Should -Contain $true
            $command.Parameters['Credential'].Attributes.Mandatory | Should -Contain $true
        }

        It 'offers the three strategies' {
            [enum]::GetNames((Get-RotationCoreType Rotation.Core.Redis.RedisAclStrategy)) | Should -Be 'DualPassword', 'NewUser', 'RequirePass'
        }

        It 'declares RedisAclRotation as its output' {
            (Get-Command Invoke-RedisAclRotation).OutputType.Type | Should -Contain (Get-RotationCoreType Rotation.Core.Redis.RedisAclRotation)
        }
    }

    Context 'Against the test server' -Skip:(-not $script:HasRedis) {
        It 'changes nothing with -WhatIf' {
            $name = "pester_whatif_$([guid]::NewGuid().ToString('N').Substring(0, 8))"
            $login = New-TestRedisUser $name
            try {
                $result = Invoke-RedisAclRotation -Endpoint $script:Endpoint -Credential $script:Admin -User $name -WhatIf
                $result | Should -BeNullOrEmpty
                Test-RedisCredential -Endpoint $script:Endpoint -Credential $login | Should -BeTrue
            }
            finally { Remove-TestRedisUser $name }
        }

        It 'rotates with two passwords and writes the store in order' {
            $name = "pester_dual_$([guid]::NewGuid().ToString('N').Substring(0, 8))"
            $old = New-TestRedisUser $name
            try {
                $x = Invoke-RedisAclRotation -Endpoint $script:Endpoint -Credential $script:Admin -User $name -Uri "file://$TestDrive/s.json#redis" -Confirm:$false
                $x | Should -BeOfType (Get-RotationCoreType Rotation.Core.Redis.RedisAclRotation)
                $x.Strategy | Should -Be 'DualPassword'
                $x.NewUser | Should -Be $name
                $x.Persistence | Should -Be 'AclSave'
                $x | Test-RedisCredential | Should -BeTrue
                Test-RedisCredential -Endpoint $script:Endpoint -Credential $old | Should -BeTrue
                ($x | Out-String) | Should -Not -Match ([regex]::Escape($x.Credential.GetNetworkCredential().Password))
            }
            finally { Remove-TestRedisUser $name }
        }

        It 'clones the user with -Strategy NewUser' {
            $name = "pester_clone_$([guid]::NewGuid().ToString('N').Substring(0, 8))"
            $null = New-TestRedisUser $name
            try {
                $x = Invoke-RedisAclRotation -Endpoint $script:Endpoint -Credential $script:Admin -User $name -Strategy NewUser -Confirm:$false
                $x.NewUser | Should -Be "$($name)_v2"
                $x.PreviousUser | Should -Be $name
                $x | Test-RedisCredential | Should -BeTrue
            }
            finally { Remove-TestRedisUser $name }
        }

        It 'reports an unknown user as RedisUserNotFound' {
            { Invoke-RedisAclRotation -Endpoint $script:Endpoint -Credential $script:Admin -User "pester_missing_$([guid]::NewGuid().ToString('N'))" -ErrorAction Stop -Confirm:$false } |
                Should -Throw -ErrorId 'RedisUserNotFound*'
        }

        It 'reports a wrong admin password as RedisAuthenticationFailed' {
            $wrong = [pscredential]::new($script:Admin.UserName, (ConvertTo-SecureString 'not-the-password' -AsPlainText -Force))
            { Invoke-RedisAclRotation -Endpoint $script:Endpoint -Credential $wrong -User anyone -ErrorAction Stop -Confirm:$false } |
                Should -Throw -ErrorId 'RedisAuthenticationFailed*'
        }

        It 'reports an unreachable node as RedisUnreachable' {
            { Invoke-RedisAclRotation -Endpoint '127.0.0.1:1' -Credential $script:Admin -User anyone -ErrorAction Stop -Confirm:$false } |
                Should -Throw -ErrorId 'RedisUnreachable*'
        }
    }
}
