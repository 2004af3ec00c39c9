# Pester 5. Runs against the staged module (TestHelpers.ps1 imports it and points ROTATION_STATE_DIR and
# ROTATION_AUDIT_LOG at a temp folder) and the file store.
Describe 'Export-Jwks' {
    BeforeAll {
        . "$PSScriptRoot/TestHelpers.ps1"
        function New-TestRing {
            $uri = "file://$TestDrive/s-$([guid]::NewGuid().ToString('N')).json#jwt-ring"
            New-JwtSigningKey -Algorithm HS256 | Add-JwtSigningKey -Uri $uri -Activate | Out-Null
            $uri
        }
    }

    It 'has exactly the documented parameters' {
        Get-RotationDeclaredParameter -CommandName Export-Jwks | Should -Be (@('Uri', 'Compress') | Sort-Object)
    }

    It 'never exports a private or symmetric member, for any algorithm' {
        foreach ($alg in 'HS256', 'RS256', 'PS256', 'ES256', 'ES384', 'ES512', 'RS512') {
            $uri = "file://$TestDrive/jwks-$alg.json#jwt-ring"
            New-JwtSigningKey -Algorithm $alg | Add-JwtSigningKey -Uri $uri -Activate | Out-Null
            New-JwtSigningKey -Algorithm $alg | Add-JwtSigningKey -Uri $uri | Out-Null
            $doc = (Export-Jwks -Uri $uri).Json | ConvertFrom-Json
            foreach ($k in $doc.keys) {
                $k.PSObject.Properties.Name | Where-Object { $_ -in 'd', 'p', 'q', 'dp', 'dq', 'qi', 'k' } | Should -BeNullOrEmpty
            }
            if ($alg -like 'HS*') { @($doc.keys).Count | Should -Be 0 } else { @($doc.keys).Count | Should -Be 2 }
        }
    }
}
