# Pester 5. Runs against the staged module (TestHelpers.ps1 imports it and points ROTATION_STATE_DIR and
# ROTATION_AUDIT_LOG at a temp folder) and the file store.
Describe 'Invoke-JwtKeyRevocation' {
    BeforeAll {
        . "$PSScriptRoot/TestHelpers.ps1"
        function New-TestRing {
            $uri = "file://$TestDrive/s-$([guid]::NewGuid().ToString('N')).json#jwt-ring"
            New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri -Activate | Out-Null
            $uri
        }
    }

    It 'has exactly the documented parameters' {
        Get-RotationDeclaredParameter -CommandName Invoke-JwtKeyRevocation | Should -Be (@('Uri', 'Kid', 'Force') | Sort-Object)
    }

    It 'revokes the active key at once and activates a new one' {
        $uri = New-TestRing
        $old = (Get-JwtKeyRing -Uri $uri).ActiveKid
        $r = Invoke-JwtKeyRevocation -Uri $uri -Kid $old -Force
        $r.ReplacementKid | Should -Not -BeNullOrEmpty
        (Get-JwtKeyRing -Uri $uri).ActiveKid | Should -Be $r.ReplacementKid
        ((Get-JwtKeyRing -Uri $uri).Keys | Where-Object Kid -eq $old).Status | Should -Be 'Retired'
    }

    It 'changes nothing with -WhatIf, even with -Force' {
        $uri = New-TestRing
        $old = (Get-JwtKeyRing -Uri $uri).ActiveKid
        Invoke-JwtKeyRevocation -Uri $uri -Kid $old -Force -WhatIf
        (Get-JwtKeyRing -Uri $uri).ActiveKid | Should -Be $old
    }

    It 'refuses an unknown kid' {
        $uri = New-TestRing
        { Invoke-JwtKeyRevocation -Uri $uri -Kid nope -Force -ErrorAction Stop } | Should -Throw -ErrorId 'JwtKeyNotFound*'
    }
}
