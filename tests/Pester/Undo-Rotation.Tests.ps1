BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/RunJournal.Helpers.ps1"
}

Describe 'Undo-Rotation' {
    Context 'Parameters' {
        BeforeAll { $command = Get-Command Undo-Rotation }

        It 'declares exactly its parameters' {
            Get-RotationDeclaredParameter -CommandName Undo-Rotation | Should -Be @('Credential', 'RunId')
        }

        It 'supports -WhatIf and -Confirm' {
            (Get-Command Undo-Rotation).Parameters.Keys | Should -Contain 'WhatIf'
            (Get-Command Undo-Rotation).Parameters.Keys | Should -Contain 'Confirm'
        }

        It 'asks for confirmation by default (ConfirmImpact High)' {
            $attr = [Rotation.Commands.UndoRotationCommand].GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
            $attr.ConfirmImpact | Should -Be 'High'
            $attr.SupportsShouldProcess | Should -BeTrue
        }

        It 'takes a mandatory RunId from the pipeline by property name' {
            $p = $command.Parameters['RunId'].Attributes.Where({ $_ -is [Parameter] })
            $p.Mandatory | Should -BeTrue
            $p.ValueFromPipelineByPropertyName | Should -BeTrue
        }
    }

    Context 'Behaviour' {
        BeforeEach {
            Remove-Item (Join-Path $env:ROTATION_STATE_DIR 'runs') -Recurse -Force -ErrorAction SilentlyContinue
        }

        It 'returns an undone run unchanged' {
            $path = New-TestRunDocument -RunId 'r-pester-undone' -Status Undone -StepStatus Compensated, Compensated
            $before = Get-Content $path -Raw
            (Undo-Rotation -RunId 'r-pester-undone' -Confirm:$false).Status | Should -Be 'Undone'
            Get-Content $path -Raw | Should -Be $before
        }

        It 'changes nothing with -WhatIf' {
            $path = New-TestRunDocument -RunId 'r-pester-failed' -Status Failed
            $before = Get-Content $path -Raw
            Undo-Rotation -RunId 'r-pester-failed' -WhatIf | Should -BeNullOrEmpty
            Get-Content $path -Raw | Should -Be $before
        }

        It 'names an unknown runbook kind with RunbookNotFound' {
            New-TestRunDocument -RunId 'r-pester-unknown' -Kind 'NoSuchRunbook' -Status Failed | Out-Null
            Undo-Rotation -RunId 'r-pester-unknown' -Confirm:$false -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'RunbookNotFound*'
        }

        It 'binds run ids from Get-RotationRun' {
            New-TestRunDocument -RunId 'r-pester-a' -Status Undone -StepStatus Compensated | Out-Null
            (Get-RotationRun -RunId 'r-pester-a' | Undo-Rotation -Confirm:$false).RunId | Should -Be 'r-pester-a'
        }
    }
}
