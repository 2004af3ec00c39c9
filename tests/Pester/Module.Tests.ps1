# The module as a whole: it imports, exports exactly its cmdlets, ships its help and format views, and keeps its
# dependencies out of PowerShell's default load context.
BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $script:module = Get-Module -Name Rotation
    $script:manifest = Import-PowerShellDataFile -Path $script:RotationModulePath
}

Describe 'Rotation module' {
    It 'imports from the staged manifest' {
        $script:module | Should -Not -BeNullOrEmpty
        $script:module.ModuleType | Should -Be 'Binary'
        $script:module.Version | Should -Be ([version]$script:manifest.ModuleVersion)
        $script:module.ModuleBase | Should -Be (Split-Path -Parent $script:RotationModulePath)
    }

    It 'exports exactly the cmdlets listed in CmdletsToExport' {
        $exported = @(Get-Command -Module Rotation -CommandType Cmdlet | ForEach-Object Name | Sort-Object)
        $listed = @($script:manifest.CmdletsToExport | Sort-Object)
        $listed.Count | Should -BeGreaterThan 0
        Compare-Object -ReferenceObject $listed -DifferenceObject $exported | Should -BeNullOrEmpty
    }

    It 'exports no functions, variables or aliases' {
        @(Get-Command -Module Rotation -CommandType Function, Alias).Count | Should -Be 0
    }

    It 'declares PowerShell 7.4 and the Core edition' {
        $script:manifest.PowerShellVersion | Should -Be '7.4'
        $script:manifest.CompatiblePSEditions | Should -Be @('Core')
    }

    It 'ships every format view the manifest lists' {
        foreach ($format in $script:manifest.FormatsToProcess) {
            Join-Path $script:module.ModuleBase $format | Should -Exist
        }
    }

    It 'ships MAML help and the about topic' {
        Join-Path $script:module.ModuleBase 'en-US/Rotation.dll-Help.xml' | Should -Exist
        Join-Path $script:module.ModuleBase 'en-US/about_Rotation.help.txt' | Should -Exist
        (Get-Help about_Rotation | Out-String) | Should -Match 'SecureString'
    }

    Context 'dependency isolation' {
        BeforeAll {
            # Any cmdlet call makes the cmdlet assembly resolve Rotation.Core.
            $script:secret = New-RotationSecret -Preset ApiKey
            $script:coreAssembly = $script:secret.GetType().Assembly
        }

        It 'loads Rotation.dll itself in the default context' {
            $cmdletAssembly = (Get-Command New-RotationSecret).ImplementingType.Assembly
            [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($cmdletAssembly).Name | Should -Be 'Default'
        }

        It 'loads Rotation.Core in the module''s own load context' {
            $script:coreAssembly.GetName().Name | Should -Be 'Rotation.Core'
            [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($script:coreAssembly).Name | Should -Be 'Rotation'
        }

        It 'keeps Rotation.Core and its dependencies out of the default context' {
            $dependencies = Join-Path $script:module.ModuleBase 'dependencies'
            $shipped = Get-ChildItem -Path $dependencies -Filter *.dll | ForEach-Object BaseName
            $shipped | Should -Contain 'Rotation.Core'
            $default = [System.Runtime.Loader.AssemblyLoadContext]::Default.Assemblies
            $default.GetName().Name | Should -Not -Contain 'Rotation.Core'
            # The host may hold its own copy of a library the module also ships (pwsh's Newtonsoft.Json, the runtime's
            # DiagnosticSource): that is what the isolation allows. The module's copies must never land there.
            @($default | Where-Object { $_.Location -and $_.Location.StartsWith($dependencies) } | ForEach-Object Location) |
                Should -BeNullOrEmpty -Because 'assemblies in dependencies/ load only into the Rotation context'
        }

        It 'resolves Npgsql inside the Rotation context when a Postgres cmdlet runs' -Skip:(-not $env:ROTATION_TEST_PG_HOST) {
            $password = ConvertTo-SecureString $env:ROTATION_TEST_PG_PASSWORD -AsPlainText -Force
            $admin = [pscredential]::new($env:ROTATION_TEST_PG_USER, $password)
            Test-DbCredential -Server $env:ROTATION_TEST_PG_HOST -Port $env:ROTATION_TEST_PG_PORT -Database postgres -Credential $admin | Should -BeTrue
            $context = [System.Runtime.Loader.AssemblyLoadContext]::All | Where-Object Name -EQ 'Rotation'
            $context.Assemblies.GetName().Name | Should -Contain 'Npgsql'
            [System.Runtime.Loader.AssemblyLoadContext]::Default.Assemblies.GetName().Name | Should -Not -Contain 'Npgsql'
        }

        It 'has only Rotation.dll beside the manifest' {
            @(Get-ChildItem -Path $script:module.ModuleBase -Filter *.dll | ForEach-Object Name) | Should -Be @('Rotation.dll')
        }
    }
}
