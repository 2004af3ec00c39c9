# Shared set-up for the Kubernetes cmdlets' Pester files: a kubeconfig whose only context points at a closed
# loopback port, so nothing in these tests can reach a cluster.

function Initialize-OfflineKubeconfig {
    $script:KubeDir = Join-Path ([IO.Path]::GetTempPath()) ("rotation-kube-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $script:KubeDir | Out-Null
    $script:Kubeconfig = Join-Path $script:KubeDir 'config'
    @"
apiVersion: v1
kind: Config
current-context: offline
clusters:
- name: offline
  cluster: {server: "http://127.0.0.1:9"}
users:
- name: offline
  user: {}
contexts:
- name: offline
  context: {cluster: offline, user: offline, namespace: default}
"@ | Set-Content -Path $script:Kubeconfig
    $script:OldKubeconfig = $env:KUBECONFIG
    $env:KUBECONFIG = $script:Kubeconfig
}

function Restore-Kubeconfig {
    $env:KUBECONFIG = $script:OldKubeconfig
    Remove-Item -Recurse -Force $script:KubeDir -ErrorAction SilentlyContinue
}
