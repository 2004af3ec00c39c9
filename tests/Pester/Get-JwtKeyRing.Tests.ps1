# Pester 5. Runs against the staged module (TestHelpers.ps1 imports it and points ROTATION_STATE_DIR and
# ROTATION_AUDIT_LOG at a temp folder) and the file store.
Describe 'Get-JwtKeyRing' {
    BeforeAll {
        . "$PSScriptRoot/TestHelpers.ps1"
        function New-TestRing {
            $uri = "file://$TestDrive/s-$([guid]::NewGuid().ToString('N')).json#jwt-ring"
            New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri -Activate | Out-Null
            $uri
        }
    }

    It 'has exactly the documented parameters' {
        Get-RotationDeclaredParameter -CommandName Get-JwtKeyRing | Should -Be 'Uri'
    }

    It 'returns the ring with its keys and never their material' {
        $uri = New-TestRing
        $ring = Get-JwtKeyRing -Uri $uri
        $ring | Should -BeOfType ([Rotation.Core.Jwt.JwtKeyRing])
        $ring.Keys.Count | Should -Be 1
        $ring.Keys[0].Status | Should -Be 'Active'
        ($ring.Keys | Format-List * | Out-String) | Should -Not -Match 'secret'
    }

    It 'detects a tampered document' {
        $uri = New-TestRing
        $file = ($uri -replace '^file://', '') -replace '#.*$', ''
        (Get-Content -Raw $file) -replace 'Active', 'Retiring' | Set-Content -NoNewline $file
        { Get-JwtKeyRing -Uri $uri -ErrorAction Stop } | Should -Throw -ErrorId 'JwtKeyRingTampered*'
    }
}
