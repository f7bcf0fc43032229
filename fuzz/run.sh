#!/usr/bin/env bash
# Fuzzes every parser target for SECONDS each, JOBS targets at a time, and
# prints executions, coverage and findings per target.
#   fuzz/run.sh [SECONDS=600] [JOBS=2] [TARGET...]
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); runs on the stable
# toolchain through RUSTC_BOOTSTRAP=1. Corpora are seeded from fuzz/seeds and
# from ../shared/data; crashes land in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-600}
jobs=${2:-2}
shift $(( $# > 2 ? 2 : $# ))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(records semantic timeline_android timeline_ios geojson overland owntracks_json emission
             gpx kml tcx fit csv plt owntracks_rec detect sources)
fi
shared=../../shared/data
export RUSTC_BOOTSTRAP=1

seed() { # seed TARGET FILE...
    mkdir -p "corpus/$1"
    shift_target=$1; shift
    for f in "$@"; do [ -f "$f" ] && cp "$f" "corpus/$shift_target/" || true; done
}
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t" logs
    [ -d "seeds/$t" ] && cp seeds/"$t"/* "corpus/$t/"
done
seed gpx "$shared"/gpx-fixtures/*.gpx
seed plt "$shared"/geolife-sample/020/Trajectory/*.plt
mkdir -p corpus/csv corpus/emission corpus/detect corpus/sources
(zcat "$shared/mobilitynet/fixes/ucb-sdb-ios-3.csv.gz" || true) | head -200 > corpus/csv/mobilitynet.csv
(zcat "$shared/traces/berlin_gps_traces.csv.gz" || true) | head -50 > corpus/csv/berlin.csv
(zcat "$shared/emission-real-examples/shankari_2015-08-23.json.gz" || true) | head -c 20000 > corpus/emission/shankari.json
cp seeds/*/* corpus/detect/ 2>/dev/null || true
cp corpus/csv/mobilitynet.csv corpus/plt/* corpus/detect/ 2>/dev/null || true
python3 - <<'PY'
import gzip, zipfile, glob
with zipfile.ZipFile("corpus/sources/takeout.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for f in glob.glob("seeds/*/*"):
        z.write(f, "Takeout/" + f.split("/", 1)[1])
with open("seeds/records/seed.json", "rb") as f, gzip.open("corpus/sources/records.json.gz", "wb") as g:
    g.write(f.read())
PY

cargo fuzz build --release >/dev/null

run_one() {
    local t=$1
    local log="logs/$t.log"
    nice -n 10 cargo fuzz run --release "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="artifacts/$t/" -print_final_stats=1 >"$log" 2>&1 || true
    local runs cov crashes
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
    crashes=$(find "artifacts/$t" -type f | wc -l)
    printf '%-18s %8ss %12s execs %6s edges %3s findings\n' "$t" "$seconds" "$runs" "$cov" "$crashes"
}
export -f run_one
export seconds
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}' | tee logs/summary.txt
