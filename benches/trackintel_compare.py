#!/usr/bin/env python3
"""Side by side with trackintel (pip install trackintel): same stay points on
GeoLife, and the speed of stay points + triplegs + trips on the same input.

Usage, from the repository root after `cargo build --release -p sillage-analysis --examples`:
    python3 benches/trackintel_compare.py parity      # GeoLife sample: counts and boundaries
    python3 benches/trackintel_compare.py speed FILE  # any importable file, e.g. a synthetic CSV

Parameters on both sides: sliding method, 100 m, 5 min, gap 15 min (trackintel's
defaults); trackintel triplegs `between_staypoints` and trips with a 15 min gap.
"""
import glob, os, statistics, subprocess, sys, time

import pandas as pd
import geopandas as gpd
import trackintel as ti

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "data")
BENCH = os.path.join(ROOT, "target", "release", "examples", "pipeline_bench")


def read_plt(paths):
    rows = []
    for path in sorted(paths):
        with open(path) as f:
            for line in f.readlines()[6:]:
                lat, lon, _, _alt, _days, date, clock = line.strip().split(",")
                rows.append((float(lat), float(lon), pd.Timestamp(f"{date} {clock}", tz="UTC")))
    return rows


def positionfixes(rows, user=0):
    df = pd.DataFrame(rows, columns=["latitude", "longitude", "tracked_at"])
    df["user_id"] = user
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.longitude, df.latitude), crs="EPSG:4326")
    return ti.Positionfixes(gdf)


def trackintel_staypoints(pfs):
    return pfs.generate_staypoints(method="sliding", dist_threshold=100, time_threshold=5.0, gap_threshold=15.0,
                                   distance_metric="haversine", include_last=False, print_progress=False)


def parity():
    total_ti = total_us = matched = 0
    for user in ["010", "020"]:
        files = glob.glob(os.path.join(SHARED, "geolife-sample", user, "Trajectory", "*.plt"))
        rows = read_plt(files)
        pfs, sp = trackintel_staypoints(positionfixes(rows))
        out = subprocess.run([BENCH, "staypoints", *sorted(files)], capture_output=True, text=True, check=True).stdout
        ours = pd.read_csv(pd.io.common.StringIO(out))
        # Fix times in order, to measure "within one fix".
        times = sorted(r[2].value // 1_000_000 for r in rows)
        index = {t: i for i, t in enumerate(times)}
        theirs = [(int(s.started_at.value // 1_000_000), int(s.finished_at.value // 1_000_000)) for s in sp.itertuples()]
        mine = list(zip(ours.start_ms, ours.end_ms))
        ok = 0
        for (a, b), (c, d) in zip(sorted(theirs), sorted(mine)):
            if abs(index.get(a, -9) - index.get(c, 9)) <= 1 and abs(index.get(b, -9) - index.get(d, 9)) <= 1:
                ok += 1
        print(f"user {user}: {len(rows)} fixes, trackintel {len(theirs)} stay points, Sillage {len(mine)}, "
              f"{ok} with start and end within one fix")
        total_ti += len(theirs); total_us += len(mine); matched += ok
    print(f"all: trackintel {total_ti}, Sillage {total_us}, matching {matched}")


def speed(path):
    out = subprocess.run([BENCH, "time", path], capture_output=True, text=True, check=True).stdout.strip()
    print("Sillage (stays + trips + legs + modes):", out)
    df = pd.read_csv(path)
    df["tracked_at"] = pd.to_datetime(df["time"], utc=True)
    rows = list(zip(df["lat"], df["lon"], df["tracked_at"]))
    times = []
    for _ in range(3):
        pfs = positionfixes(rows)
        started = time.perf_counter()
        pfs, sp = trackintel_staypoints(pfs)
        sp = sp.create_activity_flag(method="time_threshold", time_threshold=15.0)
        pfs, tpls = pfs.generate_triplegs(sp, method="between_staypoints", gap_threshold=15.0)
        sp, tpls, trips = ti.preprocessing.generate_trips(sp, tpls, gap_threshold=15.0, add_geometry=False)
        times.append(time.perf_counter() - started)
    print(f"trackintel (staypoints + triplegs + trips): {len(rows)} fixes, {len(trips)} trips, "
          f"median {statistics.median(times):.3f} s over 3 runs")


if __name__ == "__main__":
    if sys.argv[1] == "parity":
        parity()
    else:
        speed(sys.argv[2])
