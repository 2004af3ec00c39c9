# Pester 5. Runs against the staged module (TestHelpers.ps1 imports it and points ROTATION_STATE_DIR and
# ROTATION_AUDIT_LOG at a temp folder) and the file store.
Describe 'Switch-JwtSigningKey' {
    BeforeAll {
        . "$PSScriptRoot/TestHelpers.ps1"
        function New-TestRing {
            $uri = "file://$TestDrive/s-$([guid]::NewGuid().ToString('N')).json#jwt-ring"
            New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri -Activate | Out-Null
            $uri
        }
    }

    It 'has exactly the documented parameters' {
        Get-RotationDeclaredParameter -CommandName Switch-JwtSigningKey | Should -Be (@('Uri', 'PublishLead') | Sort-Object)
    }

    It 'refuses to switch before the publish lead and changes nothing' {
        $uri = New-TestRing
        New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri | Out-Null
        $before = (Get-JwtKeyRing -Uri $uri).VersionId
        { Switch-JwtSigningKey -Uri $uri -ErrorAction Stop } | Should -Throw -ErrorId 'JwtKeyPublishLeadNotElapsed*'
        (Get-JwtKeyRing -Uri $uri).VersionId | Should -Be $before
    }

    It 'switches with -PublishLead 0: Next signs, the old key retires' {
        $uri = New-TestRing
        $old = (Get-JwtKeyRing -Uri $uri).ActiveKid
        $next = New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri
        $ring = Switch-JwtSigningKey -Uri $uri -PublishLead 0
        $ring.ActiveKid | Should -Be $next.Kid
        $ring.RetiringKids | Should -Be $old
    }

    It 'changes nothing with -WhatIf' {
        $uri = New-TestRing
        New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri | Out-Null
        $before = Get-JwtKeyRing -Uri $uri
        Switch-JwtSigningKey -Uri $uri -PublishLead 0 -WhatIf
        (Get-JwtKeyRing -Uri $uri).ActiveKid | Should -Be $before.ActiveKid
    }

    It 'refuses a ring without a Next key' {
        $uri = New-TestRing
        { Switch-JwtSigningKey -Uri $uri -PublishLead 0 -ErrorAction Stop } | Should -Throw -ErrorId 'JwtNoNextKey*'
    }
}
