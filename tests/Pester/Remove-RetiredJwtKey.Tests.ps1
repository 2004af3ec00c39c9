# Pester 5. Runs against the staged module (TestHelpers.ps1 imports it and points ROTATION_STATE_DIR and
# ROTATION_AUDIT_LOG at a temp folder) and the file store.
Describe 'Remove-RetiredJwtKey' {
    BeforeAll {
        . "$PSScriptRoot/TestHelpers.ps1"
        function New-TestRing {
            $uri = "file://$TestDrive/s-$([guid]::NewGuid().ToString('N')).json#jwt-ring"
            New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri -Activate | Out-Null
            $uri
        }
    }

    It 'has exactly the documented parameters' {
        Get-RotationDeclaredParameter -CommandName Remove-RetiredJwtKey | Should -Be (@('Uri', 'MaxTokenLifetime', 'ClockSkew', 'Kid', 'Force', 'PassThru') | Sort-Object)
    }

    It 'is ConfirmImpact High' {
        $attr = (Get-Command Remove-RetiredJwtKey).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attr.ConfirmImpact | Should -Be 'High'
    }

    It 'refuses a key still in grace even with -Force, and changes nothing' {
        $uri = New-TestRing
        New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri | Out-Null
        Switch-JwtSigningKey -Uri $uri -PublishLead 0 | Out-Null
        $before = (Get-JwtKeyRing -Uri $uri).VersionId
        { Remove-RetiredJwtKey -Uri $uri -MaxTokenLifetime 01:00:00 -Force -ErrorAction Stop } | Should -Throw -ErrorId 'JwtKeyStillInGrace*'
        (Get-JwtKeyRing -Uri $uri).VersionId | Should -Be $before
    }

    It 'removes a retiring key once lifetime and skew have passed, writing nothing without -PassThru' {
        $uri = New-TestRing
        New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri | Out-Null
        Switch-JwtSigningKey -Uri $uri -PublishLead 0 | Out-Null
        Start-Sleep -Seconds 2
        $out = Remove-RetiredJwtKey -Uri $uri -MaxTokenLifetime 00:00:01 -ClockSkew 0 -Force
        $out | Should -BeNullOrEmpty
        (Get-JwtKeyRing -Uri $uri).RetiringKids | Should -BeNullOrEmpty
    }

    It 'changes nothing with -WhatIf' {
        $uri = New-TestRing
        New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri | Out-Null
        Switch-JwtSigningKey -Uri $uri -PublishLead 0 | Out-Null
        Start-Sleep -Seconds 2
        Remove-RetiredJwtKey -Uri $uri -MaxTokenLifetime 00:00:01 -ClockSkew 0 -WhatIf
        (Get-JwtKeyRing -Uri $uri).RetiringKids.Count | Should -Be 1
    }
}
