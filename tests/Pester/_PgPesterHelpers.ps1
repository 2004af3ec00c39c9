# Shared by the PostgreSQL Pester files: the admin login of tests/servers.sh and a throwaway login per test.
# Everything SQL goes through psql so the tests never depend on the module they test.
function Get-PgTestAdmin {
    $pw = ConvertTo-SecureString $env:ROTATION_TEST_PG_PASSWORD -AsPlainText -Force
    [pscredential]::new($env:ROTATION_TEST_PG_USER, $pw)
}

function Invoke-PgTestSql([string]$Sql) {
    $env:PGPASSWORD = $env:ROTATION_TEST_PG_PASSWORD
    try {
        $out = & psql -h $env:ROTATION_TEST_PG_HOST -p $env:ROTATION_TEST_PG_PORT -U $env:ROTATION_TEST_PG_USER -d postgres -v ON_ERROR_STOP=1 -Atc $Sql 2>&1
        if ($LASTEXITCODE -ne 0) { throw "psql failed: $out" }
        $out
    } finally { Remove-Item Env:PGPASSWORD }
}

function New-PgTestLogin([string]$Name) {
    $password = -join ((48..57) + (65..90) + (97..122) | Get-Random -Count 24 | ForEach-Object { [char]$_ })
    Invoke-PgTestSql "CREATE ROLE $Name LOGIN PASSWORD '$password'" | Out-Null
    [pscredential]::new($Name, (ConvertTo-SecureString $password -AsPlainText -Force))
}

function Remove-PgTestLogins([string]$Prefix) {
    $roles = Invoke-PgTestSql "select rolname from pg_roles where rolname like '$Prefix%'"
    foreach ($r in @($roles) | Where-Object { $_ }) {
        Invoke-PgTestSql "select pg_terminate_backend(pid) from pg_stat_activity where usename = '$r'; DROP OWNED BY $r; DROP ROLE $r" | Out-Null
    }
}

function Get-PgTestTarget {
    @{ Server = $env:ROTATION_TEST_PG_HOST; Port = [int]$env:ROTATION_TEST_PG_PORT; Database = 'postgres' }
}
