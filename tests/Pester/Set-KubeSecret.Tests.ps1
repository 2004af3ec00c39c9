BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/_KubePesterHelpers.ps1"
    Initialize-OfflineKubeconfig
}

AfterAll {
    Restore-Kubeconfig
}

Describe 'Set-KubeSecret' {
    Context 'Parameters' {
        It 'has exactly the documented parameters' {
            $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
            $actual = (Get-Command Set-KubeSecret).Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object
            $actual | Should -Be (@('Context', 'Namespace', 'Name', 'Data', 'StringData', 'Type', 'ResourceVersion', 'Merge', 'PassThru') | Sort-Object)
        }

        It 'takes Context and Namespace from the pipeline by property name' {
            foreach ($name in 'Context', 'Namespace') {
                (Get-Command Set-KubeSecret).Parameters[$name].Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).ValueFromPipelineByPropertyName | Should -Contain $true
            }
        }

        It 'has help with a synopsis and examples' {
            $help = Get-Help Set-KubeSecret
            $help.Synopsis | Should -Not -BeNullOrEmpty
            @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        }
    }

    Context 'Errors' {
        It 'reports a context that is not in the kubeconfig, naming the known ones' {
            $err = $null
            Set-KubeSecret -Context nope -Name db -Data @{ k = 'v' } -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -Not -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'KubeContextNotFound*'
            $err[0].Exception.Message | Should -BeLike '*offline*'
        }

        It 'reports an unreachable API server as KubeUnreachable' {
            $err = $null
            Set-KubeSecret -Name db -Data @{ k = 'v' } -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'KubeUnreachable*'
        }
    }

    Context 'WhatIf' {
        It 'changes nothing and sends nothing with -WhatIf' {
            # The only context is unreachable: any request would fail, so no error proves no request was made.
            $out = Set-KubeSecret -Name db -Data @{ password = (ConvertTo-SecureString 'x' -AsPlainText -Force) } -WhatIf -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -BeNullOrEmpty
            $out | Should -BeNullOrEmpty
        }

        It 'supports ShouldProcess' {
            (Get-Command Set-KubeSecret).Parameters.Keys | Should -Contain 'WhatIf'
        }
    }
}
