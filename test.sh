#!/usr/bin/env bash
# Builds the solution (warnings are errors) and runs every test project, then the numerical parity tests (trait
# Category=Parity) a second time with oneDNN capped at AVX2 (ONEDNN_MAX_CPU_ISA=AVX2), so that both kinds of kernel
# are exercised whichever CPU this is; ends with one "N passed, N failed" line over both runs.
set -uo pipefail
cd "$(dirname "$0")"
dotnet build ArchGen.sln -c Release -nologo -clp:ErrorsOnly -warnaserror || exit 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet test ArchGen.sln -c Release --no-build -nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
echo "Parity tests again with ONEDNN_MAX_CPU_ISA=AVX2:"
ONEDNN_MAX_CPU_ISA=AVX2 dotnet test ArchGen.sln -c Release --no-build -nologo --filter "Category=Parity" 2>&1 | tee -a "$log"
parity=${PIPESTATUS[0]}
awk '/^(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { gsub(",", "", p); printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
[ "$status" -ne 0 ] && exit "$status"
exit "$parity"
