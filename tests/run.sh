#!/usr/bin/env bash
# Runs every test Rotation has, on a fresh machine of this kind, without PowerShell:
#   1. installs and starts PostgreSQL 15, Redis 7 and moto on 127.0.0.1 (tests/servers.sh), stopped on exit;
#   2. builds the solution and runs every xunit test against them;
#   3. where pwsh exists, stages the module and runs the Pester suite;
#   4. ends with the line "N passed, N failed" (exit status non-zero when anything failed or nothing ran).
# Usage: tests/run.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Postgres]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export ROTATION_PORT_BASE=${ROTATION_PORT_BASE:-55300}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 AWS_EC2_METADATA_DISABLED=true
results=$(mktemp -d /tmp/rotation-results.XXXXXX)

cleanup() { tests/servers.sh stop "$ROTATION_PORT_BASE" >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM

envfile=$(tests/servers.sh start "$ROTATION_PORT_BASE") || { echo "could not start the test servers"; echo "0 passed, 1 failed"; exit 1; }
# shellcheck disable=SC1090
source "$envfile"

echo "== build"
dotnet build Module.sln -c Release -nologo -v q > "$results/build.log" 2>&1
build_rc=$?
grep -E "error|warn" "$results/build.log" | sort -u | tail -n 20
if [ "$build_rc" != 0 ]; then tail -n 30 "$results/build.log"; echo "build failed"; echo "0 passed, 1 failed"; exit 1; fi

echo "== xunit"
dotnet test Module.sln -c Release --no-build -nologo -v q \
  --logger "trx;LogFilePrefix=xunit" --results-directory "$results" "$@" 2>&1 | grep -vE '^\s*$' | tail -n 60
pester_passed=0; pester_failed=0
if command -v pwsh >/dev/null 2>&1; then
  echo "== pester"
  pwsh -NoProfile -NonInteractive -File build.ps1 -Task Package >/dev/null 2>&1 || echo "module packaging failed"
  pwsh -NoProfile -NonInteractive -Command "
    Import-Module Pester -MinimumVersion 5.5 -ErrorAction Stop
    \$c = New-PesterConfiguration; \$c.Run.Path = 'tests/Pester'; \$c.Run.PassThru = \$true; \$c.Output.Verbosity = 'Normal'
    \$r = Invoke-Pester -Configuration \$c
    # A file that fails discovery, or a BeforeAll/AfterAll that fails, is not in FailedCount: count it too.
    Set-Content -Path '$results/pester.txt' -Value \"\$(\$r.PassedCount) \$(\$r.FailedCount + \$r.FailedBlocksCount + \$r.FailedContainersCount)\"" 2>&1 | tail -n 40
  if [ -f "$results/pester.txt" ]; then read -r pester_passed pester_failed < "$results/pester.txt"; else pester_failed=1; fi
else
  echo "== pester: pwsh is not installed here; the Pester suite runs where PowerShell 7.4+ exists (build.ps1 -Task Test)"
fi

python3 - "$results" "$pester_passed" "$pester_failed" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = int(sys.argv[2]); failed = int(sys.argv[3]); skipped = 0; files = 0
for f in glob.glob(sys.argv[1] + "/*.trx"):
    files += 1
    c = ET.parse(f).getroot().find("t:ResultSummary/t:Counters", ns)
    passed += int(c.get("passed", 0))
    failed += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0)) + int(c.get("aborted", 0))
    skipped += int(c.get("notExecuted", 0))
if files == 0:
    failed += 1
    print("no test results were produced")
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)
PY
