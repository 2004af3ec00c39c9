# Pester 5. Runs against the staged module (TestHelpers.ps1 imports it and points ROTATION_STATE_DIR and
# ROTATION_AUDIT_LOG at a temp folder) and the file store.
Describe 'New-JwtSigningKey' {
    BeforeAll {
        . "$PSScriptRoot/TestHelpers.ps1"
        function New-TestRing {
            $uri = "file://$TestDrive/s-$([guid]::NewGuid().ToString('N')).json#jwt-ring"
            New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri -Activate | Out-Null
            $uri
        }
    }

    It 'has exactly the documented parameters' {
        Get-RotationDeclaredParameter -CommandName New-JwtSigningKey | Should -Be (@('Algorithm', 'Kid', 'KeySize', 'Secret') | Sort-Object)
    }

    It 'creates a key of every algorithm with a thumbprint kid and no visible material' {
        foreach ($alg in 'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'ES512') {
            $key = New-JwtSigningKey -Algorithm $alg
            $key | Should -BeOfType ([Rotation.Core.Jwt.JwtKey])
            $key.Kid | Should -Match '^[A-Za-z0-9_-]{43}$'
            $key.Status | Should -Be 'Next'
            ($key | Format-List * | Out-String) | Should -Not -Match 'PRIVATE KEY'
        }
    }

    It 'refuses an HMAC key shorter than the hash output' {
        { New-JwtSigningKey -Algorithm HS512 -KeySize 256 -ErrorAction Stop } | Should -Throw -ErrorId 'JwtKeyTooWeak*'
        $short = ConvertTo-SecureString 'too-short' -AsPlainText -Force
        { New-JwtSigningKey -Algorithm HS256 -Secret $short -ErrorAction Stop } | Should -Throw -ErrorId 'JwtKeyTooWeak*'
    }

    It 'wraps an existing secret with a given kid' {
        $secret = ConvertTo-SecureString ('x' * 64) -AsPlainText -Force
        (New-JwtSigningKey -Algorithm HS256 -Secret $secret -Kid legacy-1).Kid | Should -Be 'legacy-1'
    }
}
