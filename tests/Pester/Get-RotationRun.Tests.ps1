BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/RunJournal.Helpers.ps1"
}

Describe 'Get-RotationRun' {
    Context 'Parameters' {
        BeforeAll { $command = Get-Command Get-RotationRun }

        It 'declares exactly its parameters' {
            Get-RotationDeclaredParameter -CommandName Get-RotationRun | Should -Be @('Kind', 'RunId', 'Status')
        }

        It 'binds RunId from the pipeline by property name' {
            $command.Parameters['RunId'].Attributes.Where({ $_ -is [Parameter] }).ValueFromPipelineByPropertyName | Should -BeTrue
        }

        It 'declares RotationRun as its output' {
            $command.OutputType.Name | Should -Contain 'Rotation.Core.Runs.RotationRun'
        }
    }

    Context 'Behaviour' {
        BeforeEach {
            Remove-Item (Join-Path $env:ROTATION_STATE_DIR 'runs') -Recurse -Force -ErrorAction SilentlyContinue
            New-TestRunDocument -RunId 'r-pester-old' -Status Succeeded -StepStatus Done, Done -CreatedAt ([datetime]::UtcNow.AddHours(-2)) | Out-Null
            New-TestRunDocument -RunId 'r-pester-new' -Status Failed -Kind 'OtherSample' | Out-Null
        }

        It 'lists every run, oldest first' {
            (Get-RotationRun).RunId | Should -Be 'r-pester-old', 'r-pester-new'
        }

        It 'filters by status and by kind with wildcards' {
            (Get-RotationRun -Status Failed).RunId | Should -Be 'r-pester-new'
            (Get-RotationRun -Kind 'pester*').RunId | Should -Be 'r-pester-old'
        }

        It 'selects runs with a wildcard pattern' {
            (Get-RotationRun -RunId 'r-pester-*').Count | Should -Be 2
        }

        It 'gets one run with its next step' {
            $run = Get-RotationRun -RunId 'r-pester-new'
            $run.Status | Should -Be 'Failed'
            $run.NextStep | Should -Be 'step-2'
        }

        It 'writes RunNotFound for a missing run and goes on with the next id' {
            $runs = [pscustomobject]@{ RunId = 'r-missing' }, [pscustomobject]@{ RunId = 'r-pester-old' } |
                Get-RotationRun -ErrorVariable errors -ErrorAction SilentlyContinue
            $runs.RunId | Should -Be 'r-pester-old'
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'RunNotFound*'
        }

        It 'binds run ids from piped objects' {
            ([pscustomobject]@{ RunId = 'r-pester-old' } | Get-RotationRun).Status | Should -Be 'Succeeded'
        }
    }
}
