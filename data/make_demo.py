#!/usr/bin/python3
"""Generate streetsafe's SYNTHETIC demo data: a made-up "demo borough" and 6,000 made-up incidents.

Nothing here describes real places or real events. The borough is a 6 km x 5 km outline placed
over open moorland in North Yorkshire only so that its coordinates fall inside Great Britain
(streetsafe then picks EPSG:27700, British National Grid, as the working CRS).

    /usr/bin/python3 data/make_demo.py            # rewrites data/demo_incidents.csv, data/demo_boundary.geojson
    /usr/bin/python3 data/make_demo.py --out DIR  # writes them into DIR instead

Needs only numpy. The output bytes are deterministic: numpy's legacy RandomState stream (frozen
across numpy versions), fixed formatting, '\n' line endings. tests/python/test_demo_data.py
regenerates the files and compares them byte for byte with the committed ones.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from pathlib import Path

import numpy as np

SEED = 20230901
N_ROWS = 6000

# Where the borough sits (its centre), and a local tangent-plane approximation to place metres.
LON0, LAT0 = -0.95, 54.38
EARTH_RADIUS_M = 6_371_008.8

# The outline in local kilometres (east, north), counter-clockwise as GeoJSON (RFC 7946) wants.
OUTLINE_KM = [
    (-3.0, -1.9), (-1.6, -2.5), (0.2, -2.4), (1.5, -2.5), (2.8, -2.0), (3.0, -0.6), (2.7, 0.8),
    (2.9, 2.0), (1.4, 2.5), (0.0, 2.3), (-1.2, 2.5), (-2.6, 2.1), (-3.0, 0.9), (-2.8, -0.4),
]

CATEGORIES = [
    "Violence and sexual offences",
    "Robbery",
    "Possession of weapons",
    "Public order",
    "Anti-social behaviour",
]

# Clusters: centre (km), spread (m), number of incidents, time profile, category mix (as CATEGORIES).
CLUSTERS = [
    ("town centre", (0.2, 0.3), 250, 1320, "night", (50, 6, 4, 25, 15)),
    ("transport hub", (1.3, -0.4), 150, 600, "commute", (40, 20, 8, 12, 20)),
    ("north-west estate", (-1.8, 1.2), 300, 720, "general", (45, 7, 8, 10, 30)),
    ("north-east estate", (1.9, 1.6), 280, 600, "general", (45, 7, 8, 10, 30)),
    ("south-west school", (-1.0, -1.3), 200, 480, "school", (40, 25, 15, 5, 15)),
    ("south-east school", (2.1, -1.5), 180, 360, "school", (40, 25, 15, 5, 15)),
]
BACKGROUND = ("background", None, None, N_ROWS - sum(c[3] for c in CLUSTERS), "general", (45, 8, 5, 12, 30))

# Incidents per hour of day (0..23) before the after-school peak is added.
HOURLY = {
    "general": [3, 2, 1.5, 1, 0.7, 0.6, 0.8, 1.5, 2.5, 3, 3.5, 4, 4.5, 4.5, 5, 6, 6.5, 6.5, 6, 5.5, 5, 4.5, 4, 3.5],
    "night": [8, 7, 5, 3, 1.5, 0.8, 0.5, 0.7, 1, 1.5, 2, 2.5, 3, 3, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 9],
    "commute": [2, 1, 0.5, 0.3, 0.3, 1, 3, 6, 7, 4, 3, 3, 3.5, 3.5, 4, 5.5, 7, 7.5, 6, 5, 4.5, 4, 3.5, 3],
    "school": [1.5, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3.5, 2, 1.5, 1.5, 2, 2, 2.5, 4, 4.5, 4, 3.5, 3, 2.5, 2, 2, 1.5],
}
# Factor on 15:00-19:00 of school days: the after-school peak.
AFTER_SCHOOL = {"general": 1.8, "night": 1.3, "commute": 1.8, "school": 4.0}
# Factor per weekday (Monday first).
WEEKDAY = {
    "general": [1, 1, 1, 1, 1.1, 1.1, 1],
    "night": [0.8, 0.8, 0.9, 1.0, 1.6, 1.8, 1.2],
    "commute": [1.1, 1.1, 1.1, 1.1, 1.2, 0.8, 0.6],
    "school": [1.2, 1.2, 1.2, 1.2, 1.2, 0.6, 0.5],
}

YEAR = 2023
# An English-style school calendar for 2023: weekdays outside these closures are school days.
SCHOOL_CLOSED = [
    ("2023-01-01", "2023-01-03"), ("2023-02-13", "2023-02-17"), ("2023-04-03", "2023-04-14"),
    ("2023-05-01", "2023-05-01"), ("2023-05-08", "2023-05-08"), ("2023-05-29", "2023-06-02"),
    ("2023-07-24", "2023-09-01"), ("2023-10-23", "2023-10-27"), ("2023-12-21", "2023-12-31"),
]
# Europe/London's spring-forward gap: 01:00-02:00 local on this day does not exist.
DST_GAP_DAY = dt.date(2023, 3, 26)

RANGE_SHARE = 0.15  # rows with a from/to range ("between A and B") rather than a single time
RANGE_MINUTES = ([30, 60, 90, 120, 180, 240, 360, 480, 720], [10, 20, 10, 15, 15, 10, 10, 5, 5])
WEIGHTS = ([1, 2, 3], [0.975, 0.02, 0.005])

# Deliberate defects, exercising the load report.
N_MISSING_COORDINATES = 25  # lon and/or lat empty
N_UNPARSABLE_TIME = 20  # a time field that is not a time
N_NULL_ISLAND = 15  # 0,0: a placeholder for "not geocoded"
UNPARSABLE_TIMES = ["not recorded", "unknown", "TBC", "see notes", "??:?? 2023"]


def local_to_lonlat(east_m: np.ndarray, north_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local metres to WGS 84 degrees (equirectangular about the borough's centre: < 1 m off here)."""
    lat = LAT0 + np.degrees(north_m / EARTH_RADIUS_M)
    lon = LON0 + np.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(LAT0))))
    return lon, lat


def inside(east_m: np.ndarray, north_m: np.ndarray) -> np.ndarray:
    """Point in the outline (ray casting)."""
    poly = np.asarray(OUTLINE_KM) * 1000.0
    result = np.zeros(east_m.shape, dtype=bool)
    for (x1, y1), (x2, y2) in zip(poly, np.roll(poly, -1, axis=0)):
        crosses = (y1 > north_m) != (y2 > north_m)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x1 + (north_m - y1) * (x2 - x1) / (y2 - y1)
        result ^= crosses & (east_m < x_at)
    return result


def sample_points(rng: np.random.RandomState, centre_km, spread_m, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n points inside the borough: normal about a centre, or uniform for the background."""
    xs, ys = [], []
    poly = np.asarray(OUTLINE_KM) * 1000.0
    while sum(len(x) for x in xs) < n:
        if centre_km is None:
            x = rng.uniform(poly[:, 0].min(), poly[:, 0].max(), n)
            y = rng.uniform(poly[:, 1].min(), poly[:, 1].max(), n)
        else:
            x = rng.normal(centre_km[0] * 1000.0, spread_m, n)
            y = rng.normal(centre_km[1] * 1000.0, spread_m, n)
        keep = inside(x, y)
        xs.append(x[keep])
        ys.append(y[keep])
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def school_days(days: list[dt.date]) -> np.ndarray:
    closed = set()
    for first, last in SCHOOL_CLOSED:
        day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        while day <= end:
            closed.add(day)
            day += dt.timedelta(days=1)
    return np.array([d.weekday() < 5 and d not in closed for d in days])


def sample_times(rng: np.random.RandomState, profile: str, n: int, days: list[dt.date]) -> list[dt.datetime]:
    """n local start times: day and hour from the profile's joint weights, minute uniform."""
    hourly = np.array(HOURLY[profile], dtype=float)
    school = school_days(days)
    weekday = np.array([WEEKDAY[profile][d.weekday()] for d in days])
    season = np.array([1.0 + 0.15 * math.sin(2 * math.pi * (d.timetuple().tm_yday - 100) / 365.0) for d in days])
    joint = np.outer(weekday * season, hourly)
    joint[np.ix_(school, np.arange(15, 19))] *= AFTER_SCHOOL[profile]
    flat = rng.choice(joint.size, size=n, p=(joint / joint.sum()).ravel())
    minutes = rng.randint(0, 60, n)
    times = []
    for cell, minute in zip(flat, minutes):
        day, hour = days[cell // 24], int(cell % 24)
        if day == DST_GAP_DAY and hour == 1:
            hour = 2  # 01:xx does not exist on the wall clock that day
        times.append(dt.datetime(day.year, day.month, day.day, hour, int(minute)))
    return times


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S")


def generate(out_dir: Path) -> dict:
    rng = np.random.RandomState(SEED)
    days = [dt.date(YEAR, 1, 1) + dt.timedelta(days=i) for i in range(365)]

    east, north, starts, cats = [], [], [], []
    for _name, centre, spread, n, profile, mix in CLUSTERS + [BACKGROUND]:
        x, y = sample_points(rng, centre, spread, n)
        east.append(x)
        north.append(y)
        starts.extend(sample_times(rng, profile, n, days))
        p = np.array(mix, dtype=float)
        cats.append(rng.choice(len(CATEGORIES), size=n, p=p / p.sum()))
    east_m, north_m, category = np.concatenate(east), np.concatenate(north), np.concatenate(cats)
    lon, lat = local_to_lonlat(east_m, north_m)

    n = len(starts)
    has_range = rng.random_sample(n) < RANGE_SHARE
    minutes, p = RANGE_MINUTES
    durations = rng.choice(minutes, size=n, p=np.array(p, dtype=float) / sum(p))
    weight_values, weight_p = WEIGHTS
    weights = rng.choice(weight_values, size=n, p=weight_p)

    rows = []
    for i in range(n):
        start = starts[i]
        end = ""
        if has_range[i]:
            t = start + dt.timedelta(minutes=int(durations[i]))
            if t.date() == DST_GAP_DAY and t.hour == 1:
                t += dt.timedelta(hours=1)
            end = iso(t)
        rows.append([f"{lon[i]:.6f}", f"{lat[i]:.6f}", iso(start), end, CATEGORIES[category[i]], str(weights[i])])
    order = sorted(range(n), key=lambda i: (rows[i][2], rows[i][0], rows[i][1]))
    rows = [rows[i] for i in order]

    # Deliberate defects on distinct, randomly chosen rows.
    defect_rows = rng.permutation(n)[: N_MISSING_COORDINATES + N_UNPARSABLE_TIME + N_NULL_ISLAND]
    missing = defect_rows[:N_MISSING_COORDINATES]
    unparsable = defect_rows[N_MISSING_COORDINATES : N_MISSING_COORDINATES + N_UNPARSABLE_TIME]
    null_island = defect_rows[N_MISSING_COORDINATES + N_UNPARSABLE_TIME :]
    for k, i in enumerate(missing):
        if k % 3 == 2:
            rows[i][1] = ""  # latitude only
        else:
            rows[i][0] = rows[i][1] = ""
    for k, i in enumerate(unparsable):
        rows[i][2] = UNPARSABLE_TIMES[k % len(UNPARSABLE_TIMES)]
        rows[i][3] = ""
    for i in null_island:
        rows[i][0] = rows[i][1] = "0.000000"

    out_dir.mkdir(parents=True, exist_ok=True)
    lines = ["id,lon,lat,time,time_end,category,weight"]
    lines += [f"DEMO-{i + 1:06d}," + ",".join(row) for i, row in enumerate(rows)]
    (out_dir / "demo_incidents.csv").write_bytes(("\n".join(lines) + "\n").encode("ascii"))

    ring_lon, ring_lat = local_to_lonlat(*(np.asarray(OUTLINE_KM + OUTLINE_KM[:1]).T * 1000.0))
    ring = ", ".join(f"[{a:.6f}, {b:.6f}]" for a, b in zip(ring_lon, ring_lat))
    geojson = (
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"name": "Demo Borough (synthetic)", "note": "SYNTHETIC: not a real place"}, '
        f'"geometry": {{"type": "Polygon", "coordinates": [[{ring}]]}}}}]}}\n'
    )
    (out_dir / "demo_boundary.geojson").write_bytes(geojson.encode("ascii"))
    return {
        "rows": n,
        "ranges": sum(1 for row in rows if row[3]),
        "missing_coordinates": N_MISSING_COORDINATES,
        "unparsable_time": N_UNPARSABLE_TIME,
        "null_island": N_NULL_ISLAND,
        "usable": n - len(defect_rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output directory")
    counts = generate(parser.parse_args().out)
    print(", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
