#!/usr/bin/env python3
"""End-to-end import benchmark: synthetic file -> `sillage import` -> SQLite store.

Usage (from the repository root, after `cargo build --release -p sillage -p sillage-testdata`):
    python3 benches/import_bench.py [--runs 3] [--workdir /tmp/sillage-bench] CASE...
where CASE is FORMAT:POINTS, FORMAT one of records, gpx, csv (default:
records:1000000 records:5000000 gpx:1000000 csv:1000000).

Each run imports into a fresh store and is timed from process start to exit
(parsing, validation, SQLite writes, commit and WAL checkpoint included).
Peak RSS comes from /usr/bin/time. Prints a Markdown table of medians.
"""
import argparse, json, os, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SILLAGE = os.path.join(ROOT, "target/release/sillage")
TESTDATA = os.path.join(ROOT, "target/release/sillage-testdata")
EXT = {"records": "json", "gpx": "gpx", "csv": "csv"}


def generate(workdir, fmt, points):
    path = os.path.join(workdir, f"synthetic-{fmt}-{points}.{EXT[fmt]}")
    if not os.path.exists(path):
        with open(path + ".part", "wb") as out:
            subprocess.run([TESTDATA, fmt, str(points), "1"], stdout=out, check=True)
        os.rename(path + ".part", path)
    return path


def run_once(workdir, path):
    data = os.path.join(workdir, "data")
    shutil.rmtree(data, ignore_errors=True)
    cmd = ["/usr/bin/time", "-f", "%M", SILLAGE, "import", "--data-dir", data, "--citizen", "bench", "--json", path]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"import failed: {proc.stderr}")
    report = json.loads(proc.stdout.strip().splitlines()[0])
    peak_kb = int(proc.stderr.strip().splitlines()[-1])
    return elapsed, report["accepted"], peak_kb / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", default="/tmp/sillage-bench")
    parser.add_argument("cases", nargs="*", default=["records:1000000", "records:5000000", "gpx:1000000", "csv:1000000"])
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    print("| input | file size | runs | median time (s) | median points/s | peak RSS (MB, max of runs) |")
    print("|---|---:|---:|---:|---:|---:|")
    for case in args.cases:
        fmt, points = case.split(":")
        path = generate(args.workdir, fmt, int(points))
        results = [run_once(args.workdir, path) for _ in range(args.runs)]
        times = [r[0] for r in results]
        accepted = results[0][1]
        assert accepted == int(points), f"{case}: {accepted} accepted"
        median = statistics.median(times)
        size_mb = os.path.getsize(path) / 1e6
        print(f"| {fmt} {int(points):,} points | {size_mb:,.0f} MB | {args.runs} | {median:.2f} "
              f"| {accepted / median:,.0f} | {max(r[2] for r in results):.0f} |", flush=True)


if __name__ == "__main__":
    main()
