BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $script:privateMode = [System.IO.UnixFileMode]'UserRead, UserWrite'
    $script:publicMode = [System.IO.UnixFileMode]'UserRead, UserWrite, GroupRead, OtherRead'
}

Describe 'New-RotationKeyPair' {
    Context 'parameters' {
        It 'declares exactly its parameters' {
            Get-RotationDeclaredParameter -CommandName New-RotationKeyPair | Should -Be @(
                'Algorithm', 'Curve', 'Force', 'KeySize', 'Kid', 'PrivateKeyPath', 'PublicKeyPath')
        }

        It 'supports -WhatIf and -Confirm' {
            (Get-Command New-RotationKeyPair).Parameters.Keys | Should -Contain 'WhatIf'
            (Get-Command New-RotationKeyPair).Parameters.Keys | Should -Contain 'Confirm'
        }

        It 'offers only RSA 2048/3072/4096 and P-256/P-384/P-521' {
            { New-RotationKeyPair -KeySize 1024 } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
            { New-RotationKeyPair -Curve secp256k1 } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
        }
    }

    Context 'generation' {
        It 'makes an RSA 3072 key by default, named by its RFC 7638 thumbprint' {
            $pair = New-RotationKeyPair
            $pair.GetType().FullName | Should -Be 'Rotation.Core.Secrets.RotationKeyPair'
            $pair.Algorithm | Should -Be 'RSA'
            $pair.KeySize | Should -Be 3072
            $pair.Kid | Should -Match '^[A-Za-z0-9_-]{43}$'
            $pair.Kid | Should -Be $pair.Thumbprint
            $pair.PrivateKey | Should -BeOfType [securestring]
            $pair.PublicKeyPem | Should -Match '^-----BEGIN PUBLIC KEY-----'
        }

        It 'makes EC keys on the requested curve: <Curve>' -ForEach @(
            @{ Curve = 'P-256'; Bits = 256 }, @{ Curve = 'P-384'; Bits = 384 }, @{ Curve = 'P-521'; Bits = 521 }
        ) {
            $pair = New-RotationKeyPair -Algorithm EC -Curve $Curve
            $pair.Curve | Should -Be $Curve
            $key = [System.Security.Cryptography.ECDsa]::Create()
            $key.ImportFromPem($pair.PublicKeyPem)
            $key.KeySize | Should -Be $Bits
        }

        It 'uses -Kid when given and keeps the thumbprint' {
            $pair = New-RotationKeyPair -Curve P-256 -Kid 'signing-2026-11'
            $pair.Kid | Should -Be 'signing-2026-11'
            $pair.Thumbprint | Should -Match '^[A-Za-z0-9_-]{43}$'
        }

        It 'refuses a curve with RSA' {
            { New-RotationKeyPair -Algorithm RSA -Curve P-256 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidArgument*'
        }

        It 'never shows the private key in formatted output' {
            $pair = New-RotationKeyPair -Curve P-256
            $pem = $pair.PrivateKey | ConvertFrom-RotationTestSecureString
            $body = ($pem -split "`n")[1]
            ($pair | Format-List * | Out-String) | Should -Not -Match ([regex]::Escape($body))
            $pair.ToString() | Should -Not -Match ([regex]::Escape($body))
        }
    }

    Context 'files' {
        It 'writes PKCS#8 0600 and SPKI 0644 PEM files' {
            $priv = Join-Path $TestDrive 'a.key'
            $pub = Join-Path $TestDrive 'a.pub'
            $pair = New-RotationKeyPair -Curve P-384 -PrivateKeyPath $priv -PublicKeyPath $pub
            $pair.PrivateKeyPath | Should -Be $priv
            Get-Content -Raw $priv | Should -Match '^-----BEGIN PRIVATE KEY-----'
            Get-Content -Raw $pub | Should -Be $pair.PublicKeyPem
            if (-not $IsWindows) {
                [System.IO.File]::GetUnixFileMode($priv) | Should -Be $script:privateMode
                [System.IO.File]::GetUnixFileMode($pub) | Should -Be $script:publicMode
            }
            $key = [System.Security.Cryptography.ECDsa]::Create()
            $key.ImportFromPem((Get-Content -Raw $priv))
            $key.KeySize | Should -Be 384
        }

        It 'resolves relative paths against the current location' {
            Push-Location $TestDrive
            try {
                $null = New-RotationKeyPair -Curve P-256 -PrivateKeyPath ./relative.key
                Join-Path $TestDrive 'relative.key' | Should -Exist
            }
            finally { Pop-Location }
        }

        It 'writes nothing with -WhatIf' {
            $priv = Join-Path $TestDrive 'whatif.key'
            $output = New-RotationKeyPair -Curve P-256 -PrivateKeyPath $priv -WhatIf
            $output | Should -BeNullOrEmpty
            $priv | Should -Not -Exist
        }

        It 'refuses to replace an existing file without -Force and changes nothing' {
            $priv = Join-Path $TestDrive 'exists.key'
            $pub = Join-Path $TestDrive 'exists.pub'
            Set-Content -Path $pub -Value 'old'
            { New-RotationKeyPair -Curve P-256 -PrivateKeyPath $priv -PublicKeyPath $pub -ErrorAction Stop } |
                Should -Throw -ErrorId 'KeyFileExists*'
            $priv | Should -Not -Exist
            (Get-Content -Raw $pub).Trim() | Should -Be 'old'
        }

        It 'replaces an existing file with -Force' {
            $priv = Join-Path $TestDrive 'force.key'
            Set-Content -Path $priv -Value 'old'
            $pair = New-RotationKeyPair -Curve P-256 -PrivateKeyPath $priv -Force -Confirm:$false
            Get-Content -Raw $priv | Should -Match '^-----BEGIN PRIVATE KEY-----'
            (Get-Content -Raw $priv).Trim() | Should -Be (($pair.PrivateKey | ConvertFrom-RotationTestSecureString).Trim())
        }
    }
}
