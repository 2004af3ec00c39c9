@{
    # build.ps1 writes ModuleVersion from Directory.Build.props (the one version source).
    RootModule             = 'Rotation.dll'
    ModuleVersion          = '0.1.0'
    CompatiblePSEditions   = @('Core')
    GUID                   = '5d0c7f3e-8a4b-4c61-9f5e-2b7a1d9e6c40'
    Author                 = 'Rotation contributors'
    CompanyName            = 'Rotation'
    Copyright              = '(c) Rotation contributors. All rights reserved.'
    Description            = 'Secret-rotation runbooks as scripted, verifiable, zero-downtime pipelines: PostgreSQL and Redis credentials, JWT signing keys, secrets in AWS Secrets Manager, Google Secret Manager, Azure Key Vault, HashiCorp Vault, Kubernetes or a file, with a run journal and an audit trail that never holds a secret value.'
    PowerShellVersion      = '7.4'
    # Runs before PowerShell reads Rotation.dll's types: see Rotation.Init.ps1.
    NestedModules          = @('Rotation.Init.ps1')
    FormatsToProcess       = @(
        'Formats/Jwt.format.ps1xml',
        'Formats/Kubernetes.format.ps1xml',
        'Formats/Postgres.format.ps1xml',
        'Formats/Redis.format.ps1xml',
        'Formats/Rotation.format.ps1xml',
        'Formats/Runs.format.ps1xml',
        'Formats/Secrets.Generation.format.ps1xml',
        'Formats/Secrets.format.ps1xml'
    )
    CmdletsToExport        = @(
        'Add-JwtSigningKey',
        'Complete-RotationSecret',
        'ConvertTo-JwtKeyLayout',
        'Export-Jwks',
        'Export-RotationAuditLog',
        'Get-DbUserSession',
        'Get-JwtKeyRing',
        'Get-KubeSecret',
        'Get-KubeSecretConsumer',
        'Get-RedisUserClient',
        'Get-RotationAuditLog',
        'Get-RotationRun',
        'Get-RotationSecret',
        'Invoke-DbUserRotation',
        'Invoke-JwtKeyRevocation',
        'Invoke-RedisAclRotation',
        'Measure-JwtKeyUsage',
        'New-JwtSigningKey',
        'New-RotationKeyPair',
        'New-RotationSecret',
        'Remove-RetiredDbUser',
        'Remove-RetiredJwtKey',
        'Remove-RetiredRedisCredential',
        'Restart-KubeWorkload',
        'Resume-Rotation',
        'Set-KubeSecret',
        'Set-RotationSecret',
        'Switch-JwtSigningKey',
        'Sync-ExternalSecret',
        'Test-DbCredential',
        'Test-JwtToken',
        'Test-RedisCredential',
        'Undo-JwtSigningKey',
        'Undo-Rotation',
        'Undo-RotationSecret',
        'Wait-KubeRollout'
    )
    FunctionsToExport      = @()
    VariablesToExport      = @()
    AliasesToExport        = @()
    PrivateData            = @{
        PSData = @{
            Tags         = @('secrets', 'rotation', 'postgresql', 'redis', 'jwt', 'kubernetes', 'aws', 'vault', 'security')
            ProjectUri   = ''
            ReleaseNotes = 'See CHANGELOG.md.'
        }
    }
}
