"""streetsafe hotspots: GeoTIFFs GIS tools can read, summaries, reports and one-line errors."""

import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, osr

gdal.UseExceptions()


def open_raster(path):
    ds = gdal.Open(str(path))
    gt = ds.GetGeoTransform()
    extent = (gt[0], gt[3] + gt[5] * ds.RasterYSize, gt[0] + gt[1] * ds.RasterXSize, gt[3])
    srs = osr.SpatialReference(wkt=ds.GetProjection())
    srs.AutoIdentifyEPSG()
    return ds, extent, srs.GetAuthorityCode(None)


def test_writes_geotiff_with_crs_and_extent(run, incidents_csv, tmp_path):
    bounds = (529000, 179000, 531000, 181000)
    r = run("hotspots", incidents_csv, "-o", "out.tif", "--bandwidth", 250, "--cell", 25, "--bounds", *bounds)
    assert r.returncode == 0, r.stderr
    ds, extent, epsg = open_raster(tmp_path / "out.tif")
    assert epsg == "27700"
    assert extent == pytest.approx(bounds)
    assert (ds.RasterXSize, ds.RasterYSize) == (80, 80)
    assert ds.GetGeoTransform()[1] == 25
    values = ds.GetRasterBand(1).ReadAsArray()
    # density per km2 integrates to the total weight of the 5 usable incidents (1+2+1+1+3)
    assert values.sum() * 25 * 25 / 1e6 == pytest.approx(8.0, rel=1e-9)
    assert r.stderr == ""


def test_summary_on_stdout(run, incidents_csv):
    r = run("hotspots", incidents_csv, "-o", "out.tif")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "5 used (total weight 8)" in out
    assert "unusable rows skipped" in out and "--report" in out
    assert "EPSG:27700" in out and "British National Grid" in out
    assert "incidents per km2 at (" in out and "lon -0.12" in out
    assert "written    out.tif" in out


def test_default_extent_covers_incidents_plus_bandwidth(run, incidents_csv, tmp_path):
    assert run("hotspots", incidents_csv, "-o", "out.tif", "--bandwidth", 300).returncode == 0
    _, extent, _ = open_raster(tmp_path / "out.tif")
    # The incidents span about 280 m x 220 m; the grid adds the 300 m support on every side.
    assert extent[2] - extent[0] == pytest.approx(280 + 600, abs=60)
    assert extent[3] - extent[1] == pytest.approx(220 + 600, abs=60)


def test_report_lists_skipped_rows_with_reasons(run, incidents_csv):
    r = run("hotspots", incidents_csv, "-o", "out.tif", "--report")
    assert r.returncode == 0
    report = r.stderr
    assert "8 rows read, 5 kept, 3 skipped" in report
    assert "missing coordinate: 1" in report and "row 6" in report
    assert "unparsable time: 1" in report and "'last Tuesday'" in report
    assert "0,0" in report and "row 8" in report
    assert "(--report lists them)" not in r.stdout


def test_category_and_time_filters(run, incidents_csv, tmp_path):
    r = run("hotspots", incidents_csv, "-o", "out.tif", "--category", "Robbery", "--category", "Public order")
    assert r.returncode == 0, r.stderr
    assert "3 used (total weight 4)" in r.stdout and "category not selected" in r.stdout
    r = run("hotspots", incidents_csv, "-o", "out.tif", "--from", "2023-03", "--to", "2023-05")
    assert r.returncode == 0, r.stderr
    assert "3 used (total weight 4)" in r.stdout  # March and April; --to is exclusive
    r = run("hotspots", incidents_csv, "-o", "out.tif", "--from", "2023-04-12", "--to", "2023-06-02")
    assert r.returncode == 0, r.stderr
    assert "3 used (total weight 5)" in r.stdout


def test_mapped_projected_columns(run, projected_csv, tmp_path):
    r = run("hotspots", projected_csv, "-o", "p.tif", "--x", "easting", "--y", "northing", "--source-crs",
            "EPSG:27700", "--time", "received", "--category-column", "kind", "--id", "ref",
            "--time-zone", "Europe/London", "--output", "count", "--cell", 10, "--quiet")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""
    ds, _, epsg = open_raster(tmp_path / "p.tif")
    assert epsg == "27700"
    assert ds.GetRasterBand(1).ReadAsArray().sum() == pytest.approx(3.0, rel=1e-9)  # counts per cell


def test_extent_from_layer(run, incidents_csv, area_geojson, tmp_path):
    r = run("hotspots", incidents_csv, "-o", "out.tif", "--extent-from", area_geojson, "--cell", 50)
    assert r.returncode == 0, r.stderr
    _, extent, _ = open_raster(tmp_path / "out.tif")
    # 0.015 degrees of longitude by 0.009 of latitude at 51.5 N: about 1040 m x 1000 m
    assert extent[2] - extent[0] == pytest.approx(1040, abs=120)
    assert extent[3] - extent[1] == pytest.approx(1000, abs=120)


def test_float32_and_kernel(run, incidents_csv, tmp_path):
    r = run("hotspots", incidents_csv, "-o", "out.tif", "--float32", "--kernel", "gaussian", "--bandwidth", 100)
    assert r.returncode == 0, r.stderr
    ds, _, _ = open_raster(tmp_path / "out.tif")
    assert ds.GetRasterBand(1).DataType == gdal.GDT_Float32
    assert "gaussian" in str(ds.GetMetadata())


def test_progress_bar(streetsafe, incidents_csv, tmp_path):
    # bytes, not text: text mode would turn the bar's carriage returns into newlines
    r = subprocess.run([streetsafe, "hotspots", incidents_csv, "-o", "out.tif", "--progress"], cwd=tmp_path,
                       capture_output=True, timeout=120)
    assert r.returncode == 0
    assert r.stderr.startswith(b"\r[") and b"] 100% " in r.stderr and r.stderr.endswith(b"\n")
    assert r.stderr.count(b"\n") == 1  # one line, redrawn in place


def test_help_has_examples(run):
    for args in (["--help"], ["hotspots", "--help"], ["info", "--help"]):
        r = run(*args)
        assert r.returncode == 0 and "Examples:" in r.stdout, args
    assert "--bandwidth" in run("hotspots", "--help").stdout


def test_version_lists_dependencies(run):
    r = run("--version")
    assert r.returncode == 0
    names = {line.split()[0] for line in r.stdout.splitlines()}
    assert {"streetsafe", "GDAL", "PROJ", "GEOS"} <= names


ERRORS = [
    # (arguments after INPUT, exit code, a fragment the one-line message must contain)
    (["--kernel", "parabolic"], 2, "kernel 'parabolic'"),
    (["--bandwidth", "-250"], 2, "--bandwidth"),
    (["--cell", "0"], 2, "--cell"),
    (["--category", "Shoplifting"], 2, "category not selected"),
    (["--cell", "0.01"], 2, "exceeds"),
    (["--from", "last week"], 2, "--from"),
    (["--output", "sum"], 2, "--output"),
    (["--x", "easting"], 2, "--y"),
    (["--bounds", "1", "2", "3"], 2, "--bounds"),
    (["--crs", "EPSG:99999"], 4, "EPSG:99999"),
    (["--crs", "EPSG:4326"], 4, "metres"),
    (["--time-zone", "Mars/Olympus"], 2, "Mars/Olympus"),
]


@pytest.mark.parametrize("args, code, fragment", ERRORS, ids=[" ".join(e[0]) for e in ERRORS])
def test_bad_input_fails_with_one_line(run, incidents_csv, tmp_path, args, code, fragment):
    start = time.monotonic()
    r = run("hotspots", incidents_csv, "-o", "out.tif", *args, timeout=60)
    assert time.monotonic() - start < 30  # fails fast: a billion-cell grid is refused, not allocated
    assert r.returncode == code, r.stderr
    assert r.stderr.startswith("streetsafe: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert fragment in r.stderr
    assert r.stdout == ""
    assert not (tmp_path / "out.tif").exists()


def test_missing_input_is_io_error(run, tmp_path):
    r = run("hotspots", tmp_path / "nowhere.csv", "-o", "out.tif")
    assert r.returncode == 3
    assert r.stderr.startswith("streetsafe: error: ") and r.stderr.count("\n") == 1
    assert "nowhere.csv" in r.stderr


def test_unwritable_output_is_io_error(run, incidents_csv, tmp_path):
    r = run("hotspots", incidents_csv, "-o", tmp_path / "no" / "dir" / "out.tif")
    assert r.returncode == 3 and r.stderr.count("\n") == 1 and "out.tif" in r.stderr


def test_strict_stops_at_the_first_bad_row(run, incidents_csv):
    r = run("hotspots", incidents_csv, "-o", "out.tif", "--strict")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "row 6" in r.stderr


def test_usage_errors(run):
    for args, fragment in (([], None), (["frobnicate"], "unknown command 'frobnicate'"),
                           (["hotspots"], "INPUT is required"), (["hotspots", "x.csv"], "--out is required")):
        r = run(*args)
        assert r.returncode == 2, args
        if fragment:
            assert r.stderr.startswith("streetsafe: error: ") and r.stderr.count("\n") == 1
            assert fragment in r.stderr


def test_demo_like_the_dev_script(run, tmp_path):
    """scripts/dev demo's command on the committed demo data."""
    data = Path(__file__).resolve().parents[2] / "data"
    r = run("hotspots", data / "demo_incidents.csv", "-o", "demo.tif", "--bandwidth", 250, "--cell", 25,
            "--category", "Violence and sexual offences", "--category", "Robbery",
            "--category", "Possession of weapons", "--extent-from", data / "demo_boundary.geojson", "--report")
    assert r.returncode == 0, r.stderr
    assert "6000 rows read" in r.stderr
    ds, extent, epsg = open_raster(tmp_path / "demo.tif")
    assert epsg == "27700"
    assert extent[2] - extent[0] == pytest.approx(6000, abs=300)
    values = ds.GetRasterBand(1).ReadAsArray()
    assert np.isfinite(values).all() and values.max() > 0
