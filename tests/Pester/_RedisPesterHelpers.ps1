# Shared set-up for the Redis cmdlets' Pester files: the test server from tests/servers.sh (ROTATION_TEST_REDIS_*)
# and throw-away ACL users made with redis-cli. Dot-source it in BeforeAll, then call Initialize-RedisTestServer.

function Initialize-RedisTestServer {
    $script:HasRedis = [bool]$env:ROTATION_TEST_REDIS_ENDPOINT
    if ($script:HasRedis) {
        $script:Endpoint = $env:ROTATION_TEST_REDIS_ENDPOINT
        $script:Admin = [pscredential]::new($env:ROTATION_TEST_REDIS_ADMIN_USER,
            (ConvertTo-SecureString $env:ROTATION_TEST_REDIS_ADMIN_PASSWORD -AsPlainText -Force))
    }
}

function Invoke-RedisAdminCli {
    param([Parameter(ValueFromRemainingArguments)] [string[]] $Arguments)
    $host_, $port = $script:Endpoint -split ':'
    # The admin password goes through REDISCLI_AUTH, not the command line (visible to every process).
    $env:REDISCLI_AUTH = $script:Admin.GetNetworkCredential().Password
    try {
        & redis-cli -h $host_ -p $port --user $script:Admin.UserName @Arguments | Out-Null
    }
    finally {
        Remove-Item Env:REDISCLI_AUTH -ErrorAction SilentlyContinue
    }
}

function New-TestRedisUser([string] $Name) {
    $password = -join ((48..57) + (65..90) + (97..122) | Get-Random -Count 24 | ForEach-Object { [char]$_ })
    Invoke-RedisAdminCli ACL SETUSER $Name reset on ">$password" '~app:*' '-@all' '+get' '+ping'
    [pscredential]::new($Name, (ConvertTo-SecureString $password -AsPlainText -Force))
}

function Remove-TestRedisUser([string] $Name) {
    Invoke-RedisAdminCli ACL DELUSER $Name "$($Name)_v2"
}
