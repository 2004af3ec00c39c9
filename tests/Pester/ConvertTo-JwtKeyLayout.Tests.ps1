# Pester 5. Runs against the staged module (TestHelpers.ps1 imports it and points ROTATION_STATE_DIR and
# ROTATION_AUDIT_LOG at a temp folder) and the file store.
Describe 'ConvertTo-JwtKeyLayout' {
    BeforeAll {
        . "$PSScriptRoot/TestHelpers.ps1"
        function New-TestRing {
            $uri = "file://$TestDrive/s-$([guid]::NewGuid().ToString('N')).json#jwt-ring"
            New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri -Activate | Out-Null
            $uri
        }
    }

    It 'has exactly the documented parameters' {
        Get-RotationDeclaredParameter -CommandName ConvertTo-JwtKeyLayout | Should -Be (@('Uri', 'Layout', 'PublishLead', 'Path') | Sort-Object)
    }

    It 'renders CurrentAndOld and pipes into Set-RotationSecret -Shape Json' {
        $uri = New-TestRing
        New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri | Out-Null
        Switch-JwtSigningKey -Uri $uri -PublishLead 0 | Out-Null
        $layout = ConvertTo-JwtKeyLayout -Uri $uri -Layout CurrentAndOld
        $layout.FieldNames | Sort-Object | Should -Be @('JWT_SECRET', 'JWT_SECRET_OLD')
        $layout.Fields['JWT_SECRET'] | Should -BeOfType [securestring]
        $secret = [System.Net.NetworkCredential]::new('', $layout.Fields['JWT_SECRET']).Password
        ($layout | Out-String) | Should -Not -Match ([regex]::Escape($secret))
        ($layout | Format-List | Out-String) | Should -Not -Match ([regex]::Escape($secret))
        ($layout | Format-List * | Out-String) | Should -Not -Match ([regex]::Escape($secret))
        ($layout.Fields | Out-String) | Should -Not -Match ([regex]::Escape($secret))
        ($layout | Format-List | Out-String) | Should -Match 'JWT_SECRET_OLD'
        $target = "file://$TestDrive/app.json#jwt-secret"
        $layout | Set-RotationSecret -Uri $target -Shape Json
        (Get-RotationSecret -Uri "$target#JWT_SECRET" -AsPlainText) | Should -Be $secret
    }

    It 'writes PEM files with -Path, and nothing with -WhatIf' {
        $uri = "file://$TestDrive/pem.json#jwt-ring"
        New-JwtSigningKey -Algorithm ES256 | Add-JwtSigningKey -Uri $uri -Activate | Out-Null
        ConvertTo-JwtKeyLayout -Uri $uri -Layout PemFiles -Path "$TestDrive/whatif" -WhatIf
        Test-Path "$TestDrive/whatif" | Should -BeFalse
        $layout = ConvertTo-JwtKeyLayout -Uri $uri -Layout PemFiles -Path "$TestDrive/pem"
        $layout.Files.Count | Should -Be 2
        $private = Get-ChildItem "$TestDrive/pem" -Filter 'private-*.pem'
        if (-not $IsWindows) { $private.UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite') }
    }
}
