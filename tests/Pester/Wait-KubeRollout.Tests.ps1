BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/_KubePesterHelpers.ps1"
    Initialize-OfflineKubeconfig
}

AfterAll {
    Restore-Kubeconfig
}

Describe 'Wait-KubeRollout' {
    Context 'Parameters' {
        It 'has exactly the documented parameters' {
            $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
            $actual = (Get-Command Wait-KubeRollout).Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object
            $actual | Should -Be (@('Context', 'Namespace', 'Workload', 'Timeout') | Sort-Object)
        }

        It 'takes Context and Namespace from the pipeline by property name' {
            foreach ($name in 'Context', 'Namespace') {
                (Get-Command Wait-KubeRollout).Parameters[$name].Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).ValueFromPipelineByPropertyName | Should -Contain $true
            }
        }

        It 'has help with a synopsis and examples' {
            $help = Get-Help Wait-KubeRollout
            $help.Synopsis | Should -Not -BeNullOrEmpty
            @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        }
    }

    Context 'Errors' {
        It 'reports a context that is not in the kubeconfig, naming the known ones' {
            $err = $null
            Wait-KubeRollout -Context nope -Workload deployment/backend -Timeout 00:00:02 -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -Not -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'KubeContextNotFound*'
            $err[0].Exception.Message | Should -BeLike '*offline*'
        }

        It 'reports an unreachable API server as KubeUnreachable' {
            $err = $null
            Wait-KubeRollout -Workload deployment/backend -Timeout 00:00:05 -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'KubeUnreachable*'
        }
    }

    Context 'Pipeline' {
        It 'binds Workload from Restart-KubeWorkload output by property name' {
            (Get-Command Wait-KubeRollout).Parameters['Workload'].Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).ValueFromPipelineByPropertyName | Should -Contain $true
        }
    }
}
