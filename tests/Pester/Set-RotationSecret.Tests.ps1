BeforeAll { . "$PSScriptRoot/TestHelpers.ps1" }

Describe 'Set-RotationSecret' {
    BeforeAll {
        $command = Get-Command Set-RotationSecret
        $store = Join-Path $TestDrive 's.json'
    }

    Context 'Parameters' {
        It 'has exactly the documented parameters' {
            $expected = 'Credential', 'Database', 'Endpoint', 'Fields', 'PassThru', 'Port', 'RunId', 'Server', 'Shape', 'Stage', 'Uri', 'Value'
            $actual = $command.Parameters.Keys | Where-Object { $_ -notin [System.Management.Automation.PSCmdlet]::CommonParameters -and $_ -notin [System.Management.Automation.PSCmdlet]::OptionalCommonParameters }
            ($actual | Sort-Object) | Should -Be ($expected | Sort-Object)
        }
        It 'supports -WhatIf and -Confirm' {
            $command.Parameters.Keys | Should -Contain 'WhatIf'
            $command.Parameters.Keys | Should -Contain 'Confirm'
        }
        It 'binds <_> by property name' -ForEach 'Uri', 'Value', 'Credential', 'Fields', 'Server', 'Port', 'Database', 'RunId' {
            $command.Parameters[$_].Attributes.Where({ $_ -is [Parameter] }).ValueFromPipelineByPropertyName | Should -Contain $true
        }
        It 'accepts only Current and Pending for -Stage' {
            { Set-RotationSecret -Uri "file://$store#x" -Value (ConvertTo-SecureString 'v' -AsPlainText -Force) -Stage Previous } | Should -Throw
        }
    }

    Context 'Behaviour on the file store' {
        It 'writes nothing with -WhatIf' {
            New-RotationSecret -Preset ApiKey | Set-RotationSecret -Uri "file://$store#whatif" -WhatIf
            Test-Path $store | Should -BeFalse
        }
        It 'stores a generated secret as Current and returns it with -PassThru' {
            $s = New-RotationSecret -Preset ApiKey -Name api
            $written = $s | Set-RotationSecret -Uri "file://$store#api" -PassThru
            $written.Fingerprint | Should -Be $s.Fingerprint
            $written.Stage | Should -Be 'Current'
            (Get-RotationSecret -Uri "file://$store#api").Fingerprint | Should -Be $s.Fingerprint
        }
        It 'writes nothing to the pipeline without -PassThru' {
            New-RotationSecret -Preset ApiKey | Set-RotationSecret -Uri "file://$store#quiet" | Should -BeNullOrEmpty
        }
        It 'refuses a second run while a pending value is held, naming the run' {
            New-RotationSecret -Preset ApiKey | Set-RotationSecret -Uri "file://$store#lease" -Stage Pending -RunId r-one
            New-RotationSecret -Preset ApiKey | Set-RotationSecret -Uri "file://$store#lease" -Stage Pending -RunId r-two -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'RotationInProgress*'
            $err[0].Exception.Message | Should -BeLike '*r-one*'
        }
        It 'shapes a credential as <Shape>' -ForEach @(
            @{ Shape = 'UserPassword'; Expected = '{"password":"p@ss:w/rd","username":"app"}' }
            @{ Shape = 'DatabaseUrl'; Expected = 'postgresql://app:p%40ss%3Aw%2Frd@db:5432/orders' }
            @{ Shape = 'Password'; Expected = 'p@ss:w/rd' }
        ) {
            $cred = [pscredential]::new('app', (ConvertTo-SecureString 'p@ss:w/rd' -AsPlainText -Force))
            Set-RotationSecret -Uri "file://$store#shape-$Shape" -Credential $cred -Shape $Shape -Server db -Database orders
            Get-RotationSecret -Uri "file://$store#shape-$Shape" -AsPlainText | Should -Be $Expected
        }
        It 'binds a rotation result by property name (Credential, Server, Port, Database)' {
            $rotation = [pscustomobject]@{
                Credential = [pscredential]::new('backend', (ConvertTo-SecureString 'n3w-pw' -AsPlainText -Force))
                Server = 'db.internal'; Port = 6432; Database = 'app'
            }
            $rotation | Set-RotationSecret -Uri "file://$store#url" -Shape DatabaseUrl
            Get-RotationSecret -Uri "file://$store#url" -AsPlainText | Should -Be 'postgresql://backend:n3w-pw@db.internal:6432/app'
        }
        It 'writes a field map as JSON, from the pipeline' {
            @{ JWT_SECRET = 'current'; JWT_SECRET_OLD = 'old' } | Set-RotationSecret -Uri "file://$store#jwt" -Shape Json
            Get-RotationSecret -Uri "file://$store#jwt" -AsPlainText | ConvertFrom-Json | Select-Object -ExpandProperty JWT_SECRET_OLD | Should -Be 'old'
        }
        It 'writes one field and keeps the others with #field' {
            $cred = [pscredential]::new('app', (ConvertTo-SecureString 'first' -AsPlainText -Force))
            Set-RotationSecret -Uri "file://$store#fields" -Credential $cred -Shape UserPassword
            Set-RotationSecret -Uri "file://$store#fields#password" -Value (ConvertTo-SecureString 'second' -AsPlainText -Force)
            $json = Get-RotationSecret -Uri "file://$store#fields" -AsPlainText | ConvertFrom-Json
            $json.username | Should -Be 'app'
            $json.password | Should -Be 'second'
        }
        It 'reports an unknown scheme with a stable ErrorId' {
            New-RotationSecret -Preset ApiKey | Set-RotationSecret -Uri 's3://bucket/key' -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'UnknownStoreScheme*'
        }
        It 'never prints the value it wrote' {
            $s = New-RotationSecret -Preset ApiKey -AsPlainText
            $out = Set-RotationSecret -Uri "file://$store#print" -Value (ConvertTo-SecureString $s -AsPlainText -Force) -PassThru -Verbose 4>&1 | Out-String
            $out | Should -Not -Match ([regex]::Escape($s))
            Get-Content $env:ROTATION_AUDIT_LOG -Raw | Should -Not -Match ([regex]::Escape($s))
        }
    }

    Context 'Behaviour on AWS Secrets Manager (moto)' -Skip:(-not $env:ROTATION_TEST_AWS_ENDPOINT) {
        BeforeAll {
            $env:AWS_ACCESS_KEY_ID = $env:ROTATION_TEST_AWS_ACCESS_KEY_ID
            $env:AWS_SECRET_ACCESS_KEY = $env:ROTATION_TEST_AWS_SECRET_ACCESS_KEY
            $env:AWS_EC2_METADATA_DISABLED = 'true'
        }
        It 'stages a value as pending and promotes it' {
            $uri = "aws-sm://us-east-1/pester/$([guid]::NewGuid().ToString('N'))"
            New-RotationSecret -Preset ApiKey | Set-RotationSecret -Uri $uri -Endpoint $env:ROTATION_TEST_AWS_ENDPOINT
            $p = New-RotationSecret -Preset ApiKey | Set-RotationSecret -Uri $uri -Stage Pending -RunId r-pester -Endpoint $env:ROTATION_TEST_AWS_ENDPOINT -PassThru
            $p | Complete-RotationSecret -Endpoint $env:ROTATION_TEST_AWS_ENDPOINT -Confirm:$false | Select-Object -ExpandProperty Fingerprint | Should -Be $p.Fingerprint
        }
    }
}
