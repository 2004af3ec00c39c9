# Pester 5. Runs against the staged module (TestHelpers.ps1 imports it and points ROTATION_STATE_DIR and
# ROTATION_AUDIT_LOG at a temp folder) and the file store.
Describe 'Test-JwtToken' {
    BeforeAll {
        . "$PSScriptRoot/TestHelpers.ps1"
        function New-TestRing {
            $uri = "file://$TestDrive/s-$([guid]::NewGuid().ToString('N')).json#jwt-ring"
            New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri -Activate | Out-Null
            $uri
        }
    }

    It 'has exactly the documented parameters' {
        Get-RotationDeclaredParameter -CommandName Test-JwtToken | Should -Be (@('Uri', 'Token', 'Issuer', 'Audience', 'IgnoreLifetime', 'ClockSkew', 'Detailed') | Sort-Object)
    }

    It 'returns a bool, and a reason with -Detailed' {
        $uri = New-TestRing
        Test-JwtToken -Uri $uri -Token 'not-a-token' | Should -BeFalse
        $d = Test-JwtToken -Uri $uri -Token 'not-a-token' -Detailed
        $d | Should -BeOfType ([Rotation.Core.Jwt.JwtTokenTestResult])
        $d.ErrorId | Should -Be 'JwtTokenMalformed'
    }

    It 'names an unknown kid' {
        $uri = New-TestRing
        $header = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('{"alg":"HS256","kid":"unknown-kid"}')).TrimEnd('=').Replace('+', '-').Replace('/', '_')
        $d = Test-JwtToken -Uri $uri -Token "$header.eyJzdWIiOiIxIn0.c2ln" -Detailed -IgnoreLifetime
        $d.IsValid | Should -BeFalse
        $d.ErrorId | Should -Be 'JwtKeyNotFound'
    }
}
