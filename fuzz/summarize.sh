#!/usr/bin/env bash
# Prints one Markdown row per fuzz target from fuzz/logs/<target>.log
# (written by run.sh): executions, time, coverage edges, corpus size, findings.
set -euo pipefail
cd "$(dirname "$0")"
echo "| target | time (s) | executions | execs/s | coverage (edges) | corpus | findings |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for log in logs/*.log; do
    t=$(basename "$log" .log)
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
    corpus=$(find "corpus/$t" -type f | wc -l)
    findings=$(find "artifacts/$t" -type f 2>/dev/null | wc -l)
    rate=$([ "$secs" != "?" ] && [ "$secs" -gt 0 ] && echo $((runs / secs)) || echo "?")
    echo "| $t | $secs | $runs | $rate | $cov | $corpus | $findings |"
done
