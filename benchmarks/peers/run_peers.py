#!/usr/bin/python3
"""streetsafe side by side with QGIS, GRASS GIS and R spatstat on the same points and grid.

Run with Debian's Python (it has numpy and GDAL):

    /usr/bin/python3 benchmarks/peers/run_peers.py --sizes 10000 100000 --runs 3
    /usr/bin/python3 benchmarks/peers/run_peers.py --sizes 1000000 --runs 1 --timeout 900

For each size it generates seeded clustered points in EPSG:27700 (CSV and GeoPackage), runs
streetsafe's CLI and each peer on exactly the same pixel grid, reads every raster with GDAL,
compares the surfaces after normalisation (each divided by its sum) and times each whole
command (median wall time of --runs runs, peak RSS from /usr/bin/time -v). Results are merged
into results.json (all sizes run so far) and written as results.md. See README.md for how each
peer's kernel and bandwidth were matched.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from osgeo import gdal

gdal.UseExceptions()

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

# The study square: anchor points sit on its corners so every tool sees the same data extent
# (QGIS derives its grid from the extent; see common_grid()). With the default 250 m radius and
# 25 m cells the grid is 800 x 800: FFT-friendly for spatstat (2^5 x 5^2).
X0, Y0, SIDE = 520_000.0, 170_000.0, 19_500.0


# ------------------------------------------------------------------------------------------
# Data


def generate_points(n: int, seed: int) -> np.ndarray:
    """n clustered points in the square [X0, X0+SIDE] x [Y0, Y0+SIDE], 1 cm resolution.

    A quarter of the points is uniform background; the rest falls in 400 Gaussian clusters with
    heavy-tailed sizes (Pareto weights) and standard deviations of 40-400 m, which is roughly what
    street-level violence looks like at city scale. Two of the n points are the square's
    south-west and north-east corners, so the extent of the data is exactly the square.
    """
    if n < 3:
        raise ValueError("n must be at least 3")
    rng = np.random.default_rng([seed, n])
    k = 400
    centres = rng.uniform([X0, Y0], [X0 + SIDE, Y0 + SIDE], size=(k, 2))
    sd = rng.uniform(40.0, 400.0, size=k)
    weights = rng.pareto(1.2, size=k) + 1.0
    weights /= weights.sum()
    core = n - 2
    n_bg = int(round(0.25 * core))
    background = rng.uniform([X0, Y0], [X0 + SIDE, Y0 + SIDE], size=(n_bg, 2))
    parts = [background]
    missing = core - n_bg
    while missing > 0:
        c = rng.choice(k, size=int(missing * 1.2) + 16, p=weights)
        pts = centres[c] + rng.normal(size=(c.size, 2)) * sd[c, None]
        inside = (pts[:, 0] >= X0) & (pts[:, 0] <= X0 + SIDE) & (pts[:, 1] >= Y0) & (pts[:, 1] <= Y0 + SIDE)
        pts = pts[inside][:missing]
        parts.append(pts)
        missing -= pts.shape[0]
    pts = np.concatenate(parts)
    rng.shuffle(pts)
    pts = np.round(pts, 2)
    anchors = np.array([[X0, Y0], [X0 + SIDE, Y0 + SIDE]])
    return np.concatenate([anchors, pts])


def write_inputs(n: int, seed: int, work: Path) -> tuple[Path, Path]:
    """CSV (x,y) and GeoPackage (layer pts) of the same points; reused when present."""
    csv = work / f"points_{n}_seed{seed}.csv"
    gpkg = work / f"points_{n}_seed{seed}.gpkg"
    if not csv.exists():
        pts = generate_points(n, seed)
        tmp = csv.with_suffix(".tmp")
        np.savetxt(tmp, pts, fmt="%.2f", delimiter=",", header="x,y", comments="")
        tmp.rename(csv)
    if not gpkg.exists():
        csv_to_gpkg(csv, gpkg)
    return csv, gpkg


def csv_to_gpkg(csv: Path, gpkg: Path) -> None:
    """The x,y CSV as a GeoPackage point layer `pts` in EPSG:27700 (with GDAL's spatial index)."""
    src = gdal.OpenEx(str(csv), gdal.OF_VECTOR,
                      open_options=["X_POSSIBLE_NAMES=x", "Y_POSSIBLE_NAMES=y", "KEEP_GEOM_COLUMNS=NO"])
    tmp = gpkg.with_name(gpkg.stem + ".tmp.gpkg")
    if tmp.exists():
        tmp.unlink()
    gdal.VectorTranslate(str(tmp), src, format="GPKG", layerName="pts", srcSRS="EPSG:27700",
                         dstSRS="EPSG:27700", geometryType="POINT")
    src = None
    tmp.rename(gpkg)


# ------------------------------------------------------------------------------------------
# The common grid


def common_grid(radius: float, cell: float) -> dict:
    """The grid every tool is given: the data extent grown by the radius, in whole cells.

    QGIS (QgsKernelDensityEstimation::prepare) has no extent parameter: it takes the layer extent
    grown by the radius, puts the origin at its north-west corner and uses ceil(size / pixel) + 1
    columns and rows. Its raster is therefore this grid plus one column to the east and one row
    to the south, beyond the reach of every kernel; read_on_grid() drops them after checking that
    they are empty.
    """
    width = SIDE + 2 * radius
    cols = round(width / cell)
    if abs(cols * cell - width) > 1e-6:
        raise ValueError(f"side + 2 x radius = {width} m is not a whole number of {cell} m cells")
    xmin, ymax = X0 - radius, Y0 + SIDE + radius
    return {"xmin": xmin, "ymax": ymax, "xmax": xmin + cols * cell, "ymin": ymax - cols * cell,
            "cols": cols, "rows": cols, "cell": cell}


def read_on_grid(path: Path, grid: dict) -> tuple[np.ndarray, str]:
    """Band 1 of a raster placed on `grid` (cells outside it or nodata become 0).

    Rasters whose cell centres coincide with the grid's (origin offset by whole cells, same cell
    size) are copied cell for cell; anything else would need resampling and is refused, so a
    mismatch cannot hide in the comparison.
    """
    ds = gdal.Open(str(path))
    gt = ds.GetGeoTransform()
    band = ds.GetRasterBand(1)
    a = band.ReadAsArray().astype(np.float64)
    nodata = band.GetNoDataValue()
    if nodata is not None:
        a[a == nodata] = 0.0
    a[~np.isfinite(a)] = 0.0
    cell = grid["cell"]
    if abs(gt[1] - cell) > 1e-9 or abs(gt[5] + cell) > 1e-9 or gt[2] != 0 or gt[4] != 0:
        raise RuntimeError(f"{path}: geotransform {gt} is not a north-up grid of {cell} m cells")
    dc = (gt[0] - grid["xmin"]) / cell
    dr = (grid["ymax"] - gt[3]) / cell
    if abs(dc - round(dc)) > 1e-6 or abs(dr - round(dr)) > 1e-6:
        raise RuntimeError(f"{path}: cell centres are offset by a fraction of a cell ({dc}, {dr})")
    dc, dr = int(round(dc)), int(round(dr))
    out = np.zeros((grid["rows"], grid["cols"]))
    r0, c0 = max(dr, 0), max(dc, 0)
    r1, c1 = min(dr + a.shape[0], grid["rows"]), min(dc + a.shape[1], grid["cols"])
    out[r0:r1, c0:c1] = a[r0 - dr:r1 - dr, c0 - dc:c1 - dc]
    dropped = a.sum() - out.sum()
    if abs(dropped) > 1e-9 * max(abs(a.sum()), 1e-300):
        raise RuntimeError(f"{path}: cells outside the common grid hold {dropped:g} of {a.sum():g}")
    how = "identical grid" if (dc, dr, a.shape) == (0, 0, out.shape) else f"offset ({dc}, {dr}) cells, shape {a.shape}"
    return out, how


def compare(ref: np.ndarray, other: np.ndarray) -> dict:
    """Pearson r of the two surfaces after each is divided by its sum, and the largest cell
    difference of the normalised surfaces as a fraction of the reference's normalised peak."""
    a = ref / ref.sum()
    b = other / other.sum()
    r = float(np.corrcoef(a.ravel(), b.ravel())[0, 1])
    return {"pearson": r, "max_abs_diff_of_peak": float(np.abs(a - b).max() / a.max())}


# ------------------------------------------------------------------------------------------
# Running and timing


def run_timed(cmd: list[str], timeout: float, env: dict | None = None, cwd: Path | None = None) -> dict:
    """Runs cmd under /usr/bin/time -v: wall seconds, peak RSS (MB) and output. On timeout the
    whole process group started here is killed."""
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
        time_file = tf.name
    nice = ["nice", "-n", str(NICE["level"])] if NICE["level"] else []
    full = ["/usr/bin/time", "-v", "-o", time_file] + nice + cmd
    t0 = time.perf_counter()
    proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=cwd, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        wall = time.perf_counter() - t0
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        wall = time.perf_counter() - t0
        timed_out = True
    text = Path(time_file).read_text(errors="replace")
    os.unlink(time_file)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    return {"wall_s": wall, "max_rss_mb": int(m.group(1)) / 1024 if m else None, "rc": proc.returncode,
            "timed_out": timed_out, "stdout": out, "stderr": err}


def cpu_busy(seconds: float = 2.0) -> float:
    """CPUs kept busy by everything else on the machine (this script sleeps meanwhile), from
    /proc/stat sampled over `seconds`."""
    def sample():
        f = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return sum(f), f[3] + f[4]  # total, idle + iowait
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return (os.cpu_count() or 1) * (1.0 - (i1 - i0) / max(t1 - t0, 1))


QUIET = {"threshold": 0.5, "max_wait_s": 900.0}
NICE = {"level": 0}


def autogroup_enabled() -> bool:
    p = Path("/proc/sys/kernel/sched_autogroup_enabled")
    return p.exists() and p.read_text().strip() == "1"


def wait_until_quiet() -> float:
    """Waits (up to QUIET['max_wait_s']) until other processes use less than QUIET['threshold']
    CPUs, so that timings are not taken while other engineers build; returns the last reading."""
    waited = 0.0
    busy = cpu_busy()
    while busy > QUIET["threshold"] and waited < QUIET["max_wait_s"]:
        time.sleep(10)
        waited += 12
        busy = cpu_busy()
    if waited:
        print(f"  (waited {waited:.0f} s for a quiet machine; background {busy:.2f} CPUs)", flush=True)
    return busy


def phases(stdout: str) -> dict:
    m = re.search(r"PHASES (.*)", stdout)
    if not m:
        return {}
    return {k: float(v) for k, v in (p.split("=") for p in m.group(1).split())}


def repeat(name: str, make_cmd, runs: int, timeout: float, env=None, check_output: Path | None = None,
           cwd_factory=None) -> dict:
    """Median wall time and peak RSS over `runs` runs; stops at the first failure or timeout."""
    walls, rss, ph, background = [], [], [], []
    for i in range(runs):
        cwd = cwd_factory() if cwd_factory else None
        if check_output is not None and check_output.exists():
            check_output.unlink()
        background.append(wait_until_quiet())
        res = run_timed(make_cmd(cwd), timeout, env=env)
        if res["timed_out"]:
            print(f"  {name}: TIMEOUT after {timeout:.0f} s", flush=True)
            return {"status": "timeout", "timeout_s": timeout}
        if res["rc"] != 0 or (check_output is not None and not check_output.exists()):
            print(f"  {name}: FAILED rc={res['rc']}\n{res['stdout'][-2000:]}\n{res['stderr'][-4000:]}", flush=True)
            return {"status": "failed", "rc": res["rc"], "stderr": res["stderr"][-4000:]}
        walls.append(res["wall_s"])
        rss.append(res["max_rss_mb"])
        ph.append(phases(res["stdout"]))
        print(f"  {name}: run {i + 1}/{runs} {res['wall_s']:.3f} s, {res['max_rss_mb']:.0f} MB "
              f"(background {background[-1]:.2f} CPUs)", flush=True)
    out = {"status": "ok", "runs": runs, "wall_s": statistics.median(walls), "wall_all_s": walls,
           "max_rss_mb": max(rss), "background_cpus": background}
    if ph and ph[0]:
        out["phases_s"] = {k: statistics.median(p[k] for p in ph) for k in ph[0]}
    return out


# ------------------------------------------------------------------------------------------
# The tools


class Tools:
    def __init__(self, args):
        self.args = args
        self.streetsafe = Path(args.build) / "bin" / "streetsafe"
        self.work = Path(args.work)
        xdg = self.work / "xdg-runtime"
        xdg.mkdir(parents=True, exist_ok=True)
        os.chmod(xdg, 0o700)
        self.qgis_env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(xdg))
        # Debian's /usr/bin/qgis_process wrapper passes --noversioncheck from /etc/default/qgis,
        # which qgis_process 3.22 rejects ("Command --noversioncheck not known!"); the binary
        # itself needs no wrapper when the GRASS plugin is not installed.
        self.qgis = shutil.which("qgis_process.bin") or "/usr/bin/qgis_process.bin"

    # streetsafe ---------------------------------------------------------------------------
    def streetsafe_cmd(self, inp: Path, out: Path, grid: dict, kernel: str, bandwidth: float,
                       threads: int = 0) -> list[str]:
        cmd = [str(self.streetsafe), "hotspots", str(inp), "-o", str(out), "--bandwidth", repr(bandwidth),
               "--cell", repr(grid["cell"]), "--kernel", kernel, "--crs", "EPSG:27700",
               "--bounds", repr(grid["xmin"]), repr(grid["ymin"]), repr(grid["xmax"]), repr(grid["ymax"]),
               "--threads", str(threads), "--quiet"]
        if inp.suffix == ".csv":
            cmd += ["--x", "x", "--y", "y", "--source-crs", "EPSG:27700"]
        else:
            cmd += ["--layer", "pts"]
        return cmd

    # QGIS ---------------------------------------------------------------------------------
    def qgis_cmd(self, gpkg: Path, out: Path, radius: float, cell: float) -> list[str]:
        return [self.qgis, "run", "qgis:heatmapkerneldensityestimation", f"--INPUT={gpkg}",
                f"--RADIUS={radius!r}", f"--PIXEL_SIZE={cell!r}", "--KERNEL=0", "--DECAY=0",
                "--OUTPUT_VALUE=0", f"--OUTPUT={out}"]

    # GRASS --------------------------------------------------------------------------------
    def grass_cmd(self, csv: Path, out: Path, grid: dict, radius: float, kernel: str, dbase: Path) -> list[str]:
        return ["grass", "-c", "EPSG:27700", str(dbase / "loc"), "--exec", "sh", str(HERE / "grass_vkernel.sh"),
                str(csv), str(out), repr(grid["xmin"]), repr(grid["ymin"]), repr(grid["xmax"]), repr(grid["ymax"]),
                repr(grid["cell"]), repr(radius), kernel]

    # spatstat -----------------------------------------------------------------------------
    def spatstat_cmd(self, csv: Path, out: Path, grid: dict, sigma: float, kernel: str) -> list[str]:
        return ["Rscript", str(HERE / "spatstat_density.R"), str(csv), str(out), repr(grid["xmin"]),
                repr(grid["xmax"]), repr(grid["ymin"]), repr(grid["ymax"]), str(grid["rows"]), str(grid["cols"]),
                repr(sigma), kernel]


def qgis_model(points: np.ndarray, grid: dict, radius: float) -> np.ndarray:
    """A numpy re-implementation of QGIS 3.22's QgsKernelDensityEstimation::addFeature (raw
    quartic), cell for cell, to show what the QGIS surface is.

    QGIS computes each point's kernel over a (2b+1)^2 block whose y coordinates are counted
    from the bottom of the extent (yPosition + yp), but writes the block from the top
    (yPositionIO + yp): the block is mirrored vertically about the point's cell, so each kernel
    is evaluated as if the point sat at its mirrored position within the cell (up to one cell
    off in y). It also truncates the block origin toward zero and stores Float32.
    """
    cell = grid["cell"]
    xmin, ymax = grid["xmin"], grid["ymax"]
    ymin = Y0 - radius  # QGIS' bounds (the extent grown by the radius), not the raster's south edge
    buf = int(radius / cell)
    if radius - cell * buf > 0.5:
        buf += 1
    px, py = points[:, 0], points[:, 1]
    x_pos = np.trunc((px - xmin) / cell - buf).astype(np.int64)
    y_pos = np.trunc((py - ymin) / cell - buf).astype(np.int64)
    y_io = np.trunc((ymax - py) / cell - buf).astype(np.int64)
    out = np.zeros((grid["rows"], grid["cols"]), dtype=np.float64)
    for xp in range(2 * buf + 1):
        cx = (x_pos + xp + 0.5) * cell + xmin
        dx2 = (cx - px) ** 2
        for yp in range(2 * buf + 1):
            cy = (y_pos + yp + 0.5) * cell + ymin
            d = np.sqrt(dx2 + (cy - py) ** 2)
            keep = d <= radius
            v = (1.0 - (d[keep] / radius) ** 2) ** 2
            rr, cc = (y_io + yp)[keep], (x_pos + xp)[keep]
            ok = (rr >= 0) & (rr < grid["rows"]) & (cc >= 0) & (cc < grid["cols"])
            np.add.at(out, (rr[ok], cc[ok]), v[ok])
    return out


# ------------------------------------------------------------------------------------------
# Reporting


def versions(tools: Tools) -> dict:
    def first_line(cmd, pattern=None, env=None):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
            text = p.stdout + p.stderr
            if pattern:
                m = re.search(pattern, text)
                return m.group(1).strip() if m else text.strip()[:200]
            return text.strip().splitlines()[0]
        except Exception as e:  # noqa: BLE001 - a missing tool is reported, not fatal
            return f"unavailable ({e})"

    v = {
        "streetsafe": first_line([str(tools.streetsafe), "--version"]),
        "streetsafe_full": subprocess.run([str(tools.streetsafe), "--version"], capture_output=True,
                                          text=True).stdout.strip(),
        "qgis": first_line([tools.qgis, "--version"], r"(QGIS \d[^\n]*)", env=tools.qgis_env),
        "grass": first_line(["grass", "--version"]),
        "r": first_line(["Rscript", "-e", 'cat(R.version.string, "\\n")']),
        "spatstat": first_line(["Rscript", "-e",
                                'cat(paste0("spatstat.explore ", packageVersion("spatstat.explore"), ", spatstat.geom ", packageVersion("spatstat.geom")), "\\n")']),
        "gdal_python": gdal.__version__,
        "numpy": np.__version__,
    }
    return v


def machine() -> dict:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    def field(name):
        m = re.search(rf"^{name}:\s*(.*)$", lscpu, re.M)
        return m.group(1).strip() if m else "?"
    mem_kb = int(re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return {"cpu": field("Model name"), "cpus": field(r"CPU\(s\)"), "threads_per_core": field(r"Thread\(s\) per core"),
            "mem_gb": round(mem_kb / 1024 / 1024, 1), "kernel": platform.release(),
            "os": Path("/etc/debian_version").read_text().strip() if Path("/etc/debian_version").exists() else "?"}


def fmt_s(x):
    return "—" if x is None else (f"{x:.2f}" if x < 100 else f"{x:.0f}")


def write_markdown(db: dict, path: Path) -> None:
    m = db["machine"]
    v = db["versions"]
    p = db["params"]
    lines = [
        "# Peer comparison results",
        "",
        f"Generated by `benchmarks/peers/run_peers.py` (last run {db['updated']}). Do not edit by hand;",
        "see README.md for the method and how each peer's kernel was matched.",
        "",
        f"**Machine:** {m['cpu']}, {m['cpus']} CPUs ({m['threads_per_core']} thread(s) per core), "
        f"{m['mem_gb']} GB RAM, Linux {m['kernel']}, Debian {m['os']}. The machine is shared: "
        "other jobs may have run at the same time (load averages per size below).",
        "",
        "**Versions:** " + "; ".join([
            v['streetsafe'], v['qgis'], v['grass'], v['r'], v['spatstat'],
            f"GDAL (Python) {v['gdal_python']}"]),
        "",
        f"**Workload:** seeded clustered points in a {SIDE / 1000:.0f} km square (EPSG:27700), quartic kernel of "
        f"radius {p['bandwidth']:g} m, {p['cell']:g} m cells, grid {p['grid']['cols']} x {p['grid']['rows']} "
        f"= {p['grid']['cols'] * p['grid']['rows']:,} cells, the same cell centres for every tool. Gaussian rows: "
        f"sigma = {p['sigma']:.3f} m (= the quartic's standard deviation, {p['bandwidth']:g}/sqrt(8)).",
        "",
        "Times are wall-clock seconds of the whole command (start-up, reading the input file, computing, "
        "writing the raster), median of the runs; memory is the peak resident set size from "
        "`/usr/bin/time -v`. *Speed-up* = peer time / streetsafe time on the same input file, both measured "
        "in the same invocation. *r* = Pearson correlation of the two surfaces after each is divided by "
        "its sum; *max diff* = largest cell difference of the normalised surfaces, as a percentage of "
        "streetsafe's normalised peak.",
        "",
        "| n | tool (kernel, input) | time s | peak MB | streetsafe s (same input) | streetsafe MB | speed-up | r vs streetsafe | max diff % of peak | notes |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for n in sorted(db["sizes"], key=int):
        s = db["sizes"][n]
        for row in s["rows"]:
            peer = row["peer"]
            ss = row.get("streetsafe") or {}
            if peer.get("status") == "ok":
                t, mem = fmt_s(peer["wall_s"]), f"{peer['max_rss_mb']:.0f}"
            elif peer.get("status") == "timeout":
                t, mem = f"timeout > {peer['timeout_s']:.0f}", "—"
            elif peer.get("status") == "skipped":
                t, mem = "not run", "—"
            else:
                t, mem = "failed", "—"
            sst = fmt_s(ss.get("wall_s")) if ss.get("status") == "ok" else "—"
            ssm = f"{ss['max_rss_mb']:.0f}" if ss.get("status") == "ok" else "—"
            speed = (f"{peer['wall_s'] / ss['wall_s']:.1f}x" if peer.get("status") == "ok" and ss.get("status") == "ok"
                     else "—")
            cmpd = row.get("compare") or {}
            r = f"{cmpd['pearson']:.6f}" if "pearson" in cmpd else "—"
            md = f"{100 * cmpd['max_abs_diff_of_peak']:.3f}" if "max_abs_diff_of_peak" in cmpd else "—"
            lines.append(f"| {int(n):,} | {row['label']} | {t} | {mem} | {sst} | {ssm} | {speed} | {r} | {md} | {row.get('note', '')} |")
    lines += ["", "## streetsafe alone", "",
              "| n | run | time s | peak MB |", "|---:|---|---:|---:|"]
    for n in sorted(db["sizes"], key=int):
        for label, res in db["sizes"][n]["streetsafe"].items():
            if res.get("status") == "ok":
                lines.append(f"| {int(n):,} | {label} | {fmt_s(res['wall_s'])} | {res['max_rss_mb']:.0f} |")
    lines += ["", "## Where the peers spend their time (medians, seconds)", ""]
    for n in sorted(db["sizes"], key=int):
        s = db["sizes"][n]
        parts = []
        for row in s["rows"]:
            ph = row["peer"].get("phases_s")
            if ph:
                parts.append(f"{row['label']}: " + ", ".join(f"{k} {v:.2f}" for k, v in ph.items()))
        if s.get("qgis_startup_s") is not None:
            parts.append(f"QGIS start-up (qgis_process on 3 points) {s['qgis_startup_s']:.2f}")
        load = s.get("loadavg")
        bg = [b for r in list(s["streetsafe"].values()) + [row["peer"] for row in s["rows"]]
              for b in r.get("background_cpus", [])]
        st = s.get("settings", {})
        context = (f"load average at start {load[0]:.2f}; other processes used {statistics.median(bg):.2f} CPUs "
                   f"(median, max {max(bg):.2f}) just before the timed runs" if bg else f"load average {load[0]:.2f}")
        if st.get("nice"):
            if st.get("autogroup", autogroup_enabled()):
                context += (f"; commands were started at nice {st['nice']}, which has no effect here: the kernel's "
                            "autogroup scheduling is on and each command runs in its own session, so the tools "
                            "shared the CPUs with the other jobs on equal terms")
            else:
                context += f"; every timed command ran at nice {st['nice']}"
        lines.append(f"* n = {int(n):,} ({context}): " + ("; ".join(parts) if parts else "—"))
    extra = [(n, s["qgis_model"]) for n, s in db["sizes"].items() if s.get("qgis_model")]
    if extra:
        lines += ["", "## QGIS against a re-implementation of its own algorithm", "",
                  "`qgis_model()` in run_peers.py re-implements QGIS 3.22's heatmap loop (mirrored kernel block in y, "
                  "truncated block origin). If QGIS' output equals the model, the difference from streetsafe is "
                  "QGIS' kernel placement, not a matching error:", ""]
        for n, q in sorted(extra, key=lambda t: int(t[0])):
            lines.append(f"* n = {int(n):,}: QGIS vs model r = {q['qgis_vs_model']['pearson']:.9f}, max diff "
                         f"{100 * q['qgis_vs_model']['max_abs_diff_of_peak']:.5f}% of peak; streetsafe vs model "
                         f"r = {q['streetsafe_vs_model']['pearson']:.6f}.")
    path.write_text("\n".join(lines) + "\n")


# ------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--runs", type=int, default=3, help="timed runs per tool and size (median reported)")
    ap.add_argument("--runs-large", type=int, default=1, help="runs per peer for sizes >= 1,000,000")
    ap.add_argument("--timeout", type=float, default=900, help="seconds before a peer run is killed")
    ap.add_argument("--peers", default="qgis,grass,spatstat")
    ap.add_argument("--build", default=str(REPO / "build-peers"))
    ap.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "streetsafe-peers"))
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--bandwidth", type=float, default=250.0, help="quartic support radius, metres")
    ap.add_argument("--cell", type=float, default=25.0)
    ap.add_argument("--results", default=str(HERE / "results.json"))
    ap.add_argument("--markdown", default=str(HERE / "results.md"))
    ap.add_argument("--keep-outputs", action="store_true")
    ap.add_argument("--quiet-threshold", type=float, default=0.5,
                    help="wait before each timed run until other processes use fewer CPUs than this")
    ap.add_argument("--quiet-max-wait", type=float, default=900, help="seconds to wait for that at most")
    ap.add_argument("--nice", type=int, default=0,
                    help="run every timed command (all tools alike) at this nice level, e.g. -10 on a "
                         "machine shared with builds (negative levels need root)")
    args = ap.parse_args()
    QUIET.update(threshold=args.quiet_threshold, max_wait_s=args.quiet_max_wait)
    NICE["level"] = args.nice

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    tools = Tools(args)
    if not tools.streetsafe.exists():
        print(f"streetsafe CLI not found at {tools.streetsafe}; build it first", file=sys.stderr)
        return 2
    peers = [p for p in args.peers.split(",") if p]
    radius, cell = args.bandwidth, args.cell
    sigma = radius / math.sqrt(8.0)  # standard deviation of the 2-D quartic of support radius h
    grid = common_grid(radius, cell)

    db_path = Path(args.results)
    db = json.loads(db_path.read_text()) if db_path.exists() else {"sizes": {}}
    db["machine"] = machine()
    db["versions"] = versions(tools)
    db["params"] = {"bandwidth": radius, "cell": cell, "sigma": sigma, "grid": grid, "seed": args.seed,
                    "side_m": SIDE, "origin": [X0, Y0]}
    size_params = {"nice": args.nice, "autogroup": autogroup_enabled(), "runs": args.runs,
                   "runs_large": args.runs_large, "timeout_s": args.timeout}
    print(json.dumps(db["versions"], indent=1), flush=True)

    timed_out: set[str] = set()
    for n in sorted(args.sizes):
        runs_peer = args.runs_large if n >= 1_000_000 else args.runs
        print(f"\n=== n = {n:,} (streetsafe runs {args.runs}, peer runs {runs_peer}) ===", flush=True)
        csv, gpkg = write_inputs(n, args.seed, work)
        out = work / f"out_{n}"
        out.mkdir(exist_ok=True)
        size = {"loadavg": list(os.getloadavg()), "when": dt.datetime.now().isoformat(timespec="seconds"),
                "settings": size_params, "streetsafe": {}, "rows": []}

        def ss(label, inp, kernel, bw, threads=0):
            tif = out / f"streetsafe_{label}.tif"
            res = repeat(f"streetsafe {label}", lambda _cwd: tools.streetsafe_cmd(inp, tif, grid, kernel, bw, threads),
                         args.runs, args.timeout, check_output=tif)
            size["streetsafe"][label] = res
            return tif, res

        ss_q_csv, r_q_csv = ss("quartic csv", csv, "quartic", radius)
        ss_q_gpkg, r_q_gpkg = ss("quartic gpkg", gpkg, "quartic", radius)
        ss("quartic csv 1 thread", csv, "quartic", radius, threads=1)
        ss_g_csv, r_g_csv = ss("gaussian csv", csv, "gaussian", sigma)
        ref_q, how = read_on_grid(ss_q_csv, grid)
        ref_g, _ = read_on_grid(ss_g_csv, grid)
        print(f"  streetsafe grid: {how}", flush=True)

        def add_row(label, key, peer_res, ss_res, tif, ref, note=""):
            row = {"label": label, "peer": peer_res, "streetsafe": ss_res, "note": note}
            if peer_res.get("status") == "ok":
                a, how_p = read_on_grid(tif, grid)
                row["compare"] = compare(ref, a)
                row["alignment"] = how_p
                print(f"  {label}: r = {row['compare']['pearson']:.6f}, max diff "
                      f"{100 * row['compare']['max_abs_diff_of_peak']:.3f}% of peak ({how_p})", flush=True)
            size["rows"].append(row)
            if peer_res.get("status") == "timeout":
                timed_out.add(key)

        def skipped(label, key):
            size["rows"].append({"label": label, "peer": {"status": "skipped"}, "streetsafe": None,
                                 "note": f"not run: timed out at a smaller size"})

        if "qgis" in peers:
            key = "qgis"
            label = "QGIS heatmap (quartic, gpkg)"
            if key in timed_out:
                skipped(label, key)
            else:
                # Start-up cost, and a warm-up so the first timed run does not create the profile.
                tiny = work / "tiny.gpkg"
                if not tiny.exists():
                    (work / "tiny.csv").write_text("x,y\n520000,170000\n521000,171000\n520500,170200\n")
                    csv_to_gpkg(work / "tiny.csv", tiny)
                warm = run_timed(tools.qgis_cmd(tiny, out / "qgis_tiny.tif", radius, cell), args.timeout,
                                 env=tools.qgis_env)
                warm = run_timed(tools.qgis_cmd(tiny, out / "qgis_tiny.tif", radius, cell), args.timeout,
                                 env=tools.qgis_env)
                size["qgis_startup_s"] = warm["wall_s"]
                tif = out / "qgis_quartic.tif"
                res = repeat("qgis quartic", lambda _c: tools.qgis_cmd(gpkg, tif, radius, cell), runs_peer,
                             args.timeout, env=tools.qgis_env, check_output=tif)
                add_row(label, key, res, r_q_gpkg, tif, ref_q,
                        note="raw (unnormalised) quartic; kernel block mirrored in y (see README)")
                if res.get("status") == "ok" and n <= 200_000:
                    pts = np.loadtxt(csv, delimiter=",", skiprows=1)
                    model = qgis_model(pts, grid, radius)
                    q, _ = read_on_grid(tif, grid)
                    size["qgis_model"] = {"qgis_vs_model": compare(model, q), "streetsafe_vs_model": compare(ref_q, model)}
                    print(f"  QGIS vs model: {size['qgis_model']}", flush=True)

        if "grass" in peers:
            key = "grass"
            label = "GRASS v.kernel (quartic, csv)"
            if key in timed_out:
                skipped(label, key)
            else:
                tif = out / "grass_quartic.tif"

                def fresh_db():
                    d = Path(tempfile.mkdtemp(prefix="grassdb-", dir=work))
                    return d

                res = repeat("grass quartic", lambda d: tools.grass_cmd(csv, tif, grid, radius, "quartic", d),
                             runs_peer, args.timeout, check_output=tif, cwd_factory=fresh_db)
                for d in work.glob("grassdb-*"):
                    shutil.rmtree(d, ignore_errors=True)
                add_row(label, key, res, r_q_csv, tif, ref_q, note="import + v.kernel + r.out.gdal")

        if "spatstat" in peers:
            for kernel, ref, ss_res, in (("quartic", ref_q, r_q_csv), ("gaussian", ref_g, r_g_csv)):
                key = f"spatstat-{kernel}"
                label = f"R spatstat density.ppp ({kernel}, csv)"
                if key in timed_out:
                    skipped(label, key)
                    continue
                envi = out / f"spatstat_{kernel}.envi"
                res = repeat(f"spatstat {kernel}", lambda _c: tools.spatstat_cmd(csv, envi, grid, sigma, kernel),
                             runs_peer, args.timeout, check_output=envi)
                add_row(label, key, res, ss_res, envi, ref,
                        note=f"sigma {sigma:.2f} m, edge=FALSE, FFT on points binned to cells")

        db["sizes"][str(n)] = size
        db["updated"] = dt.datetime.now().isoformat(timespec="seconds")
        db_path.write_text(json.dumps(db, indent=1))
        write_markdown(db, Path(args.markdown))
        if not args.keep_outputs:
            shutil.rmtree(out, ignore_errors=True)
    print(f"\nwrote {args.results} and {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
