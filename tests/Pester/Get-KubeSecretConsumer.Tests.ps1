BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/_KubePesterHelpers.ps1"
    Initialize-OfflineKubeconfig
}

AfterAll {
    Restore-Kubeconfig
}

Describe 'Get-KubeSecretConsumer' {
    Context 'Parameters' {
        It 'has exactly the documented parameters' {
            $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
            $actual = (Get-Command Get-KubeSecretConsumer).Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object
            $actual | Should -Be (@('Context', 'Namespace', 'Name', 'Stale') | Sort-Object)
        }

        It 'takes Context and Namespace from the pipeline by property name' {
            foreach ($name in 'Context', 'Namespace') {
                (Get-Command Get-KubeSecretConsumer).Parameters[$name].Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).ValueFromPipelineByPropertyName | Should -Contain $true
            }
        }

        It 'has help with a synopsis and examples' {
            $help = Get-Help Get-KubeSecretConsumer
            $help.Synopsis | Should -Not -BeNullOrEmpty
            @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        }
    }

    Context 'Errors' {
        It 'reports a context that is not in the kubeconfig, naming the known ones' {
            $err = $null
            Get-KubeSecretConsumer -Context nope -Name db -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -Not -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'KubeContextNotFound*'
            $err[0].Exception.Message | Should -BeLike '*offline*'
        }

        It 'reports an unreachable API server as KubeUnreachable' {
            $err = $null
            Get-KubeSecretConsumer -Name db -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'KubeUnreachable*'
        }
    }

    Context 'Output' {
        It 'declares KubeSecretConsumer as its output type' {
            (Get-Command Get-KubeSecretConsumer).OutputType.Name | Should -Contain 'Rotation.Core.Kubernetes.KubeSecretConsumer'
        }
    }
}
