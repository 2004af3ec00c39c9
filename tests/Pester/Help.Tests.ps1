# Every exported cmdlet has real help (not the syntax PowerShell makes up when there is none): a synopsis, a
# description, at least two examples, and a description for every parameter.
BeforeDiscovery {
    . "$PSScriptRoot/TestHelpers.ps1"
    $commands = @(Get-Command -Module Rotation -CommandType Cmdlet | ForEach-Object Name | Sort-Object)
}

BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
}

Describe 'Help for <_>' -ForEach $commands {
    BeforeAll {
        $name = $_
        $help = Get-Help -Name $name -Full
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        $declared = @((Get-Command -Name $name -Module Rotation).Parameters.Keys | Where-Object { $_ -notin $common -or $_ -in 'WhatIf', 'Confirm' })
        $helpParameters = @($help.parameters.parameter | Where-Object { $_ })
    }

    It 'comes from the MAML file, not generated' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        # Without a help file PowerShell shows the syntax as the synopsis.
        $help.Synopsis.Trim() | Should -Not -BeLike "$name *"
        $help.Synopsis.Trim() | Should -Not -Be $name
    }

    It 'has a description' {
        ($help.description | ForEach-Object Text) -join "`n" | Should -Not -BeNullOrEmpty
    }

    It 'has at least two examples, each with code and an explanation' {
        $examples = @($help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($example in $examples) {
            $example.code | Should -Not -BeNullOrEmpty
            ($example.remarks | ForEach-Object Text) -join '' | Should -Not -BeNullOrEmpty
        }
    }

    It 'documents every parameter with a description' {
        foreach ($parameter in $declared) {
            $entry = $helpParameters | Where-Object name -EQ $parameter
            $entry | Should -Not -BeNullOrEmpty -Because "-$parameter of $name needs help"
            ($entry.description | ForEach-Object Text) -join '' | Should -Not -BeNullOrEmpty -Because "-$parameter of $name needs a description"
        }
    }

    It 'documents no parameter the cmdlet does not have' {
        foreach ($entry in $helpParameters) {
            $entry.name | Should -BeIn $declared -Because "$name's help documents -$($entry.name)"
        }
    }
}
