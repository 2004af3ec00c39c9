BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/_KubePesterHelpers.ps1"
    Initialize-OfflineKubeconfig
}

AfterAll {
    Restore-Kubeconfig
}

Describe 'Sync-ExternalSecret' {
    Context 'Parameters' {
        It 'has exactly the documented parameters' {
            $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
            $actual = (Get-Command Sync-ExternalSecret).Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object
            $actual | Should -Be (@('Context', 'Namespace', 'Name', 'All', 'Wait', 'Timeout') | Sort-Object)
        }

        It 'takes Context and Namespace from the pipeline by property name' {
            foreach ($name in 'Context', 'Namespace') {
                (Get-Command Sync-ExternalSecret).Parameters[$name].Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).ValueFromPipelineByPropertyName | Should -Contain $true
            }
        }

        It 'has help with a synopsis and examples' {
            $help = Get-Help Sync-ExternalSecret
            $help.Synopsis | Should -Not -BeNullOrEmpty
            @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        }
    }

    Context 'Errors' {
        It 'reports a context that is not in the kubeconfig, naming the known ones' {
            $err = $null
            Sync-ExternalSecret -Context nope -Name database-credentials -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -Not -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'KubeContextNotFound*'
            $err[0].Exception.Message | Should -BeLike '*offline*'
        }

        It 'reports an unreachable API server as KubeUnreachable' {
            $err = $null
            Sync-ExternalSecret -Name database-credentials -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'KubeUnreachable*'
        }
    }

    Context 'Parameter sets' {
        It 'syncs one by -Name or all with -All, and supports ShouldProcess' {
            (Get-Command Sync-ExternalSecret).ParameterSets.Name | Sort-Object | Should -Be @('All', 'Name')
            (Get-Command Sync-ExternalSecret).Parameters.Keys | Should -Contain 'WhatIf'
        }
    }
}
