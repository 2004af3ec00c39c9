BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/_KubePesterHelpers.ps1"
    Initialize-OfflineKubeconfig
}

AfterAll {
    Restore-Kubeconfig
}

Describe 'Restart-KubeWorkload' {
    Context 'Parameters' {
        It 'has exactly the documented parameters' {
            $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
            $actual = (Get-Command Restart-KubeWorkload).Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object
            $actual | Should -Be (@('Context', 'Namespace', 'Workload', 'Selector', 'All', 'SecretName') | Sort-Object)
        }

        It 'takes Context and Namespace from the pipeline by property name' {
            foreach ($name in 'Context', 'Namespace') {
                (Get-Command Restart-KubeWorkload).Parameters[$name].Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).ValueFromPipelineByPropertyName | Should -Contain $true
            }
        }

        It 'has help with a synopsis and examples' {
            $help = Get-Help Restart-KubeWorkload
            $help.Synopsis | Should -Not -BeNullOrEmpty
            @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        }
    }

    Context 'Errors' {
        It 'reports a context that is not in the kubeconfig, naming the known ones' {
            $err = $null
            Restart-KubeWorkload -Context nope -Workload deployment/backend -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -Not -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'KubeContextNotFound*'
            $err[0].Exception.Message | Should -BeLike '*offline*'
        }

        It 'reports an unreachable API server as KubeUnreachable' {
            $err = $null
            Restart-KubeWorkload -Workload deployment/backend -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'KubeUnreachable*'
        }
    }

    Context 'Parameter sets' {
        It 'offers Workload, Selector and Secret sets, with Workload by property name' {
            (Get-Command Restart-KubeWorkload).ParameterSets.Name | Sort-Object | Should -Be @('Secret', 'Selector', 'Workload')
            (Get-Command Restart-KubeWorkload).Parameters['Workload'].Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).ValueFromPipelineByPropertyName | Should -Contain $true
        }

        It 'supports ShouldProcess' {
            (Get-Command Restart-KubeWorkload).Parameters.Keys | Should -Contain 'WhatIf'
        }

        It 'rejects a workload kind it cannot restart before contacting the cluster' {
            $err = $null
            Restart-KubeWorkload -Workload cronjob/nightly -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'KubeWorkloadInvalid*'
        }
    }
}
