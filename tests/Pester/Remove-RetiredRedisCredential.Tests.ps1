BeforeDiscovery {
    # -Skip is decided at discovery, before BeforeAll runs.
    $script:HasRedis = [bool]$env:ROTATION_TEST_REDIS_ENDPOINT
}

BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $script:HasRedis = [bool]$env:ROTATION_TEST_REDIS_ENDPOINT
    if ($script:HasRedis) {
        $script:Endpoint = $env:ROTATION_TEST_REDIS_ENDPOINT
        $script:Admin = [pscredential]::new($env:ROTATION_TEST_REDIS_ADMIN_USER,
            (ConvertTo-SecureString $env:ROTATION_TEST_REDIS_ADMIN_PASSWORD -AsPlainText -Force))
    }
    function script:New-TestRedisUser([string] $Name) {
        $password = -join ((48..57) + (65..90) + (97..122) | Get-Random -Count 24 | ForEach-Object { [char]$_ })
        $host_, $port = $script:Endpoint -split ':'
        # The admin password goes through REDISCLI_AUTH, not the command line (visible to every process).
        $env:REDISCLI_AUTH = $script:Admin.GetNetworkCredential().Password
        & redis-cli -h $host_ -p $port --user $script:Admin.UserName `
            ACL SETUSER $Name reset on ">$password" '~app:*' '-@all' '+get' '+ping' | Out-Null
        Remove-Item Env:REDISCLI_AUTH
        [pscredential]::new($Name, (ConvertTo-SecureString $password -AsPlainText -Force))
    }
    function script:Remove-TestRedisUser([string] $Name) {
        $host_, $port = $script:Endpoint -split ':'
        # The admin password goes through REDISCLI_AUTH, not the command line (visible to every process).
        $env:REDISCLI_AUTH = $script:Admin.GetNetworkCredential().Password
        & redis-cli -h $host_ -p $port --user $script:Admin.UserName `
            ACL DELUSER $Name "$($Name)_v2" | Out-Null
        Remove-Item Env:REDISCLI_AUTH
    }
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
                $r | Should -BeOfType ([Rotation.Core.Redis.RedisRetirement])
                $r.PreviousUser | Should -Be $name
                Test-RedisCredential -Endpoint $script:Endpoint -Credential $old -ExpectFailure | Should -BeTrue
            }
            finally { Remove-TestRedisUser $name }
        }
    }
}
