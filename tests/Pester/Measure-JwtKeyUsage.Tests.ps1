# Pester 5. Runs against the staged module (TestHelpers.ps1 imports it and points ROTATION_STATE_DIR and
# ROTATION_AUDIT_LOG at a temp folder) and the file store.
Describe 'Measure-JwtKeyUsage' {
    BeforeAll {
        . "$PSScriptRoot/TestHelpers.ps1"
        function New-TestRing {
            $uri = "file://$TestDrive/s-$([guid]::NewGuid().ToString('N')).json#jwt-ring"
            New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri -Activate | Out-Null
            $uri
        }
    }

    It 'has exactly the documented parameters' {
        Get-RotationDeclaredParameter -CommandName Measure-JwtKeyUsage | Should -Be (@('Uri', 'Path', 'InputObject', 'Threshold') | Sort-Object)
    }

    It 'reports zero tokens and no threshold met for lines without tokens' {
        $uri = New-TestRing
        $report = 'no token here', 'nor here' | Measure-JwtKeyUsage -Uri $uri
        $report.TokenCount | Should -Be 0
        $report.LinesRead | Should -Be 2
        $report.MeetsThreshold | Should -BeFalse
    }

    It 'reads a log file and counts tokens by kid' {
        $uri = New-TestRing
        $kid = (Get-JwtKeyRing -Uri $uri).ActiveKid
        # A token-shaped line with the ring's kid in its header (signature is not checked for tokens with a kid).
        $header = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("{""alg"":""HS256"",""kid"":""$kid""}")).TrimEnd('=').Replace('+', '-').Replace('/', '_')
        "GET / Bearer $header.eyJzdWIiOiIxIn0.c2ln" | Set-Content "$TestDrive/access.log"
        $report = Measure-JwtKeyUsage -Uri $uri -Path "$TestDrive/access.log" -Threshold 0.95
        $report.TokenCount | Should -Be 1
        $report.ActiveShare | Should -Be 1
        $report.MeetsThreshold | Should -BeTrue
    }
}
