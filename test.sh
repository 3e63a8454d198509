#!/usr/bin/env bash
# Builds the solution (warnings are errors) and runs every test project; ends with one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")"
dotnet build ArchGen.sln -c Release -nologo -clp:ErrorsOnly -warnaserror || exit 1
log=$(mktemp)
dotnet test ArchGen.sln -c Release --no-build -nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
awk '/^(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { gsub(",", "", p); printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
