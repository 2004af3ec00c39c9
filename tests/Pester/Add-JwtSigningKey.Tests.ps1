# Pester 5. Runs against the staged module (TestHelpers.ps1 imports it and points ROTATION_STATE_DIR and
# ROTATION_AUDIT_LOG at a temp folder) and the file store.
Describe 'Add-JwtSigningKey' {
    BeforeAll {
        . "$PSScriptRoot/TestHelpers.ps1"
        function New-TestRing {
            $uri = "file://$TestDrive/s-$([guid]::NewGuid().ToString('N')).json#jwt-ring"
            New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri -Activate | Out-Null
            $uri
        }
    }

    It 'has exactly the documented parameters' {
        Get-RotationDeclaredParameter -CommandName Add-JwtSigningKey | Should -Be (@('Uri', 'Key', 'Activate') | Sort-Object)
    }

    It 'adds the first key as Active and the next as Next' {
        $uri = New-TestRing
        $next = New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri
        $next.Status | Should -Be 'Next'
        $ring = Get-JwtKeyRing -Uri $uri
        $ring.NextKid | Should -Be $next.Kid
        $ring.ActiveKid | Should -Not -BeNullOrEmpty
    }

    It 'changes nothing with -WhatIf' {
        $uri = New-TestRing
        $before = (Get-JwtKeyRing -Uri $uri).VersionId
        New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri -WhatIf
        (Get-JwtKeyRing -Uri $uri).VersionId | Should -Be $before
        (Get-JwtKeyRing -Uri $uri).NextKid | Should -BeNullOrEmpty
    }

    It 'refuses a second Active key and leaves the ring unchanged' {
        $uri = New-TestRing
        $before = (Get-JwtKeyRing -Uri $uri).VersionId
        New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri -Activate -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'JwtKeyRingInvalid*'
        (Get-JwtKeyRing -Uri $uri).VersionId | Should -Be $before
    }
}
