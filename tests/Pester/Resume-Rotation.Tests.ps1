BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/RunJournal.Helpers.ps1"
}

Describe 'Resume-Rotation' {
    Context 'Parameters' {
        BeforeAll { $command = Get-Command Resume-Rotation }

        It 'declares exactly its parameters' {
            Get-RotationDeclaredParameter -CommandName Resume-Rotation | Should -Be @('Credential', 'RunId')
        }

        It 'supports -WhatIf and -Confirm' {
            (Get-Command Resume-Rotation).Parameters.Keys | Should -Contain 'WhatIf'
            (Get-Command Resume-Rotation).Parameters.Keys | Should -Contain 'Confirm'
        }

        It 'takes a mandatory RunId from the pipeline by property name' {
            $p = $command.Parameters['RunId'].Attributes.Where({ $_ -is [Parameter] })
            $p.Mandatory | Should -BeTrue
            $p.ValueFromPipelineByPropertyName | Should -BeTrue
        }

        It 'takes a PSCredential' {
            $command.Parameters['Credential'].ParameterType | Should -Be ([pscredential])
        }
    }

    Context 'Behaviour' {
        BeforeEach {
            Remove-Item (Join-Path $env:ROTATION_STATE_DIR 'runs') -Recurse -Force -ErrorAction SilentlyContinue
        }

        It 'returns a succeeded run unchanged' {
            $path = New-TestRunDocument -RunId 'r-pester-done' -Status Succeeded -StepStatus Done, Done
            $before = Get-Content $path -Raw
            (Resume-Rotation -RunId 'r-pester-done').Status | Should -Be 'Succeeded'
            Get-Content $path -Raw | Should -Be $before
        }

        It 'changes nothing with -WhatIf' {
            $path = New-TestRunDocument -RunId 'r-pester-failed' -Status Failed
            $before = Get-Content $path -Raw
            Resume-Rotation -RunId 'r-pester-failed' -WhatIf | Should -BeNullOrEmpty
            Get-Content $path -Raw | Should -Be $before
        }

        It 'names an unknown runbook kind with RunbookNotFound and leaves the run as it was' {
            $path = New-TestRunDocument -RunId 'r-pester-unknown' -Kind 'NoSuchRunbook' -Status Failed
            $before = Get-Content $path -Raw
            Resume-Rotation -RunId 'r-pester-unknown' -Confirm:$false -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'RunbookNotFound*'
            Get-Content $path -Raw | Should -Be $before
        }

        It 'writes RunNotFound for a missing run' {
            Resume-Rotation -RunId 'r-missing' -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'RunNotFound*'
        }

        It 'refuses to resume a run that was rolled back' {
            New-TestRunDocument -RunId 'r-pester-undone' -Status Undone -StepStatus Compensated, NotStarted | Out-Null
            Resume-Rotation -RunId 'r-pester-undone' -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'RunNotResumable*'
        }
    }
}
