# Pester 5. Runs against the staged module (TestHelpers.ps1 imports it and points ROTATION_STATE_DIR and
# ROTATION_AUDIT_LOG at a temp folder) and the file store.
Describe 'Undo-JwtSigningKey' {
    BeforeAll {
        . "$PSScriptRoot/TestHelpers.ps1"
        function New-TestRing {
            $uri = "file://$TestDrive/s-$([guid]::NewGuid().ToString('N')).json#jwt-ring"
            New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri -Activate | Out-Null
            $uri
        }
    }

    It 'has exactly the documented parameters' {
        Get-RotationDeclaredParameter -CommandName Undo-JwtSigningKey | Should -Be 'Uri'
    }

    It 'rolls back the last switch while the old key is retiring' {
        $uri = New-TestRing
        $old = (Get-JwtKeyRing -Uri $uri).ActiveKid
        New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri | Out-Null
        Switch-JwtSigningKey -Uri $uri -PublishLead 0 | Out-Null
        (Undo-JwtSigningKey -Uri $uri -Confirm:$false).ActiveKid | Should -Be $old
        { Undo-JwtSigningKey -Uri $uri -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'JwtNothingToUndo*'
    }

    It 'changes nothing with -WhatIf' {
        $uri = New-TestRing
        New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri | Out-Null
        $switched = Switch-JwtSigningKey -Uri $uri -PublishLead 0
        Undo-JwtSigningKey -Uri $uri -WhatIf
        (Get-JwtKeyRing -Uri $uri).ActiveKid | Should -Be $switched.ActiveKid
    }
}
