#!/usr/bin/env python3
"""Peer baseline for the import benchmark: the straightforward way most
self-hosted tools import Records.json — load the whole document, then insert
rows — written with CPython's json and sqlite3 (C-accelerated both).

Usage: /usr/bin/time -f %M python3 benches/python_baseline.py Records.json store.sqlite
Prints points/s; peak RSS (KB) comes from /usr/bin/time.
"""
import datetime, json, sqlite3, sys, time

start = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    records = json.load(f)["locations"]
db = sqlite3.connect(sys.argv[2])
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
db.execute(
    "CREATE TABLE IF NOT EXISTS fixes (device_id INTEGER, t_ms INTEGER, lat REAL, lon REAL, accuracy_m REAL, "
    "speed_mps REAL, bearing_deg REAL, altitude_m REAL, PRIMARY KEY (device_id, t_ms)) WITHOUT ROWID"
)


def rows():
    for r in records:
        ts = datetime.datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00"))
        yield (1, int(ts.timestamp() * 1000), r["latitudeE7"] / 1e7, r["longitudeE7"] / 1e7,
               r.get("accuracy"), r.get("velocity"), r.get("heading"), r.get("altitude"))


with db:
    db.executemany("INSERT OR IGNORE INTO fixes VALUES (?,?,?,?,?,?,?,?)", rows())
db.close()
elapsed = time.perf_counter() - start
print(f"{len(records)} points in {elapsed:.2f} s: {len(records) / elapsed:,.0f} points/s")
