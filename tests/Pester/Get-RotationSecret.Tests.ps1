BeforeAll { . "$PSScriptRoot/TestHelpers.ps1" }

Describe 'Get-RotationSecret' {
    BeforeAll {
        $command = Get-Command Get-RotationSecret
        $store = Join-Path $TestDrive 's.json'
        $uri = "file://$store#api"
        $first = New-RotationSecret -Preset ApiKey
        $first | Set-RotationSecret -Uri $uri
        $second = New-RotationSecret -Preset ApiKey
        $second | Set-RotationSecret -Uri $uri -Stage Pending -RunId r-get
    }

    Context 'Parameters' {
        It 'has exactly the documented parameters' {
            $expected = 'AsPlainText', 'Endpoint', 'Stage', 'Uri'
            $actual = $command.Parameters.Keys | Where-Object { $_ -notin [System.Management.Automation.PSCmdlet]::CommonParameters -and $_ -notin [System.Management.Automation.PSCmdlet]::OptionalCommonParameters }
            ($actual | Sort-Object) | Should -Be ($expected | Sort-Object)
        }
        It 'changes nothing, so offers no -WhatIf' {
            $command.Parameters.Keys | Should -Not -Contain 'WhatIf'
        }
    }

    Context 'Behaviour on the file store' {
        It 'reads Current by default, as a RotationSecret whose value is a SecureString' {
            $s = Get-RotationSecret -Uri $uri
            $s | Should -BeOfType (Get-RotationCoreType Rotation.Core.Secrets.RotationSecret)
            $s.Value | Should -BeOfType ([securestring])
            $s.Fingerprint | Should -Be $first.Fingerprint
            $s.Stage | Should -Be 'Current'
            $s.VersionId | Should -Not -BeNullOrEmpty
        }
        It 'reads the pending value and its run' {
            $p = Get-RotationSecret -Uri $uri -Stage Pending
            $p.Fingerprint | Should -Be $second.Fingerprint
            $p.RunId | Should -Be 'r-get'
        }
        It 'returns plain text only with -AsPlainText' {
            $plain = Get-RotationSecret -Uri $uri -AsPlainText
            $plain | Should -BeOfType ([string])
            (Get-RotationCoreType Rotation.Core.Secrets.Fingerprint)::Of($plain) | Should -Be $first.Fingerprint
        }
        It 'does not show the value in its table view' {
            $plain = Get-RotationSecret -Uri $uri -AsPlainText
            Get-RotationSecret -Uri $uri | Out-String | Should -Not -Match ([regex]::Escape($plain))
        }
        It 'binds Uri and Stage by property name' {
            (Get-RotationSecret -Uri $uri -Stage Pending | Get-RotationSecret).Fingerprint | Should -Be $second.Fingerprint
        }
        It 'reports a missing stage and a missing secret with stable ErrorIds' {
            Get-RotationSecret -Uri $uri -Stage Previous -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'SecretStageNotFound*'
            Get-RotationSecret -Uri "file://$store#absent" -ErrorVariable err2 -ErrorAction SilentlyContinue
            $err2[0].FullyQualifiedErrorId | Should -BeLike 'SecretNotFound*'
        }
        It 'reports a malformed store file without overwriting it' {
            $bad = Join-Path $TestDrive 'bad.json'
            Set-Content -Path $bad -Value '{ not json'
            Get-RotationSecret -Uri "file://$bad#x" -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'StoreDocumentMalformed*'
            Get-Content $bad -Raw | Should -Match 'not json'
        }
    }

    Context 'Behaviour on AWS Secrets Manager (moto)' -Skip:(-not $env:ROTATION_TEST_AWS_ENDPOINT) {
        It 'reports wrong credentials as StoreAuthenticationFailed' {
            $env:AWS_ACCESS_KEY_ID = $env:ROTATION_TEST_AWS_ACCESS_KEY_ID
            $env:AWS_SECRET_ACCESS_KEY = 'wrong-secret-key-for-pester'
            $env:AWS_EC2_METADATA_DISABLED = 'true'
            try {
                Get-RotationSecret -Uri 'aws-sm://us-east-1/pester/none' -Endpoint $env:ROTATION_TEST_AWS_ENDPOINT -ErrorVariable err -ErrorAction SilentlyContinue
                $err[0].FullyQualifiedErrorId | Should -BeLike 'StoreAuthenticationFailed*'
            }
            finally {
                $env:AWS_SECRET_ACCESS_KEY = $env:ROTATION_TEST_AWS_SECRET_ACCESS_KEY
            }
        }
    }
}
