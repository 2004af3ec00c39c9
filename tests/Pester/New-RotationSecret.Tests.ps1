BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
}

Describe 'New-RotationSecret' {
    Context 'parameters' {
        It 'declares exactly its parameters' {
            Get-RotationDeclaredParameter -CommandName New-RotationSecret | Should -Be @(
                'AsPlainText', 'ByteLength', 'Count', 'ExcludeCharacter', 'Format', 'Length',
                'MinDigit', 'MinLower', 'MinSymbol', 'MinUpper', 'Name', 'Preset')
        }

        It 'has the Policy (default) and Preset parameter sets' {
            $command = Get-Command New-RotationSecret
            $command.DefaultParameterSet | Should -Be 'Policy'
            @($command.ParameterSets.Name | Sort-Object) | Should -Be @('Policy', 'Preset')
            $preset = $command.ParameterSets | Where-Object Name -EQ 'Preset'
            ($preset.Parameters | Where-Object Name -EQ 'Preset').IsMandatory | Should -BeTrue
            $preset.Parameters.Name | Should -Not -Contain 'Length'
        }

        It 'does not support -WhatIf: it changes nothing' {
            (Get-Command New-RotationSecret).Parameters.Keys | Should -Not -Contain 'WhatIf'
        }

        It 'refuses a preset mixed with an explicit policy' {
            { New-RotationSecret -Preset DbPassword -Length 12 } | Should -Throw -ErrorId 'AmbiguousParameterSet*'
        }
    }

    Context 'output' {
        It 'writes a RotationSecret whose value is a SecureString (32 Password characters by default)' {
            $secret = New-RotationSecret
            $secret.GetType().FullName | Should -Be 'Rotation.Core.Secrets.RotationSecret'
            $secret.Value | Should -BeOfType [securestring]
            ($secret.Value | ConvertFrom-RotationTestSecureString).Length | Should -Be 32
            $secret.Format | Should -Be 'Password'
            $secret.EntropyBits | Should -BeGreaterThan 209
            $secret.Fingerprint | Should -Match '^sha256:[0-9a-f]{12}$'
        }

        It 'never shows the value in formatted output or ToString' {
            $secret = New-RotationSecret -Preset JwtHmac -Name jwt
            $plain = $secret.Value | ConvertFrom-RotationTestSecureString
            ($secret | Out-String) | Should -Not -Match ([regex]::Escape($plain))
            ($secret | Format-List * | Out-String) | Should -Not -Match ([regex]::Escape($plain))
            $secret.ToString() | Should -Not -Match ([regex]::Escape($plain))
        }

        It 'writes plain strings with -AsPlainText' {
            $value = New-RotationSecret -Length 20 -Format Alphanumeric -AsPlainText
            $value | Should -BeOfType [string]
            $value | Should -Match '^[A-Za-z0-9]{20}$'
        }

        It 'writes -Count distinct values' {
            $values = New-RotationSecret -Preset ApiKey -Count 5 -AsPlainText
            $values.Count | Should -Be 5
            @($values | Sort-Object -Unique).Count | Should -Be 5
        }

        It 'makes values for each name from the pipeline' {
            $secrets = 'billing', 'ticketing' | New-RotationSecret -Preset Aes256Key
            $secrets.Name | Should -Be @('billing', 'ticketing')
        }
    }

    Context 'presets' {
        It 'JwtHmac is 64 random bytes in base64' {
            $value = New-RotationSecret -Preset JwtHmac -AsPlainText
            [Convert]::FromBase64String($value).Length | Should -Be 64
            (New-RotationSecret -Preset JwtHmac).EntropyBits | Should -Be 512
        }

        It 'Aes256Key is exactly 32 bytes in base64, and 64 characters as hex' {
            [Convert]::FromBase64String((New-RotationSecret -Preset Aes256Key -AsPlainText)).Length | Should -Be 32
            $hex = New-RotationSecret -Preset Aes256Key -Format Hex -AsPlainText
            $hex | Should -Match '^[0-9a-f]{64}$'
            [Convert]::FromHexString($hex).Length | Should -Be 32
        }

        It 'DbPassword is 32 connection-string-safe characters' {
            foreach ($i in 1..50) {
                $value = New-RotationSecret -Preset DbPassword -AsPlainText
                $value.Length | Should -Be 32
                $value | Should -Match '^[A-Za-z0-9\-_.~!*()]{32}$'
                $value | Should -Match '[A-Z]'
                $value | Should -Match '[a-z]'
                $value | Should -Match '[0-9]'
            }
        }

        It 'ApiKey is 32 bytes in base64url without padding' {
            $value = New-RotationSecret -Preset ApiKey -AsPlainText
            $value | Should -Match '^[A-Za-z0-9_-]{43}$'
        }
    }

    Context 'policies' {
        It 'honours -ExcludeCharacter' {
            $values = New-RotationSecret -Length 64 -ExcludeCharacter '"', "'", '\', '`$' -Count 50 -AsPlainText
            foreach ($value in $values) {
                $value | Should -Not -Match '["''\\`$]'
            }
        }

        It 'meets class minimums' {
            foreach ($value in (New-RotationSecret -Length 12 -MinDigit 3 -MinSymbol 2 -Count 50 -AsPlainText)) {
                ([regex]::Matches($value, '[0-9]')).Count | Should -BeGreaterOrEqual 3
                ([regex]::Matches($value, '[^A-Za-z0-9]')).Count | Should -BeGreaterOrEqual 2
            }
        }

        It 'writes base64 when only -ByteLength is given' {
            $secret = New-RotationSecret -ByteLength 16
            $secret.Format | Should -Be 'Base64'
            [Convert]::FromBase64String(($secret.Value | ConvertFrom-RotationTestSecureString)).Length | Should -Be 16
        }

        It 'reports exact entropy: bytes x 8, or length x log2(alphabet)' {
            (New-RotationSecret -ByteLength 24 -Format Base64Url).EntropyBits | Should -Be 192
            (New-RotationSecret -Length 10 -Format Alphanumeric).EntropyBits | Should -BeGreaterThan (10 * [math]::Log(62, 2) - 1e-9)
            (New-RotationSecret -Length 10 -Format Alphanumeric).EntropyBits | Should -BeLessThan (10 * [math]::Log(62, 2) + 1e-9)
        }

        It 'refuses impossible policies with SecretPolicyUnsatisfiable: <Why>' -ForEach @(
            @{ Why = 'length 0'; Splat = @{ Length = 0 } }
            @{ Why = 'Length with a byte format'; Splat = @{ Length = 32; Format = 'Base64' } }
            @{ Why = 'everything excluded'; Splat = @{ Format = 'Alphanumeric'; ExcludeCharacter = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789' } }
            @{ Why = 'minimums longer than the length'; Splat = @{ Length = 4; MinUpper = 3; MinDigit = 3 } }
        ) {
            { New-RotationSecret @Splat } | Should -Throw -ErrorId 'SecretPolicyUnsatisfiable*'
        }
    }

    Context 'with the file store' {
        It 'binds Name and Value to Set-RotationSecret, which stores the same fingerprint' {
            $uri = "file://$TestDrive/s.json#db-password"
            $secret = New-RotationSecret -Preset DbPassword -Name db-password
            $secret | Set-RotationSecret -Uri $uri -Stage Current
            (Get-RotationSecret -Uri $uri -Stage Current).Fingerprint | Should -Be $secret.Fingerprint
            $plain = $secret.Value | ConvertFrom-RotationTestSecureString
            Get-Content -Raw $env:ROTATION_AUDIT_LOG | Should -Not -Match ([regex]::Escape($plain))
        }
    }
}
