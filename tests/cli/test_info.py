"""streetsafe info: the summary step of the demo."""

import re

import pytest


@pytest.fixture()
def raster(run, incidents_csv, tmp_path):
    r = run("hotspots", incidents_csv, "-o", "out.tif", "--bounds", 529000, 179000, 531000, 181000, "--quiet")
    assert r.returncode == 0, r.stderr
    return tmp_path / "out.tif"


def test_info_summarises_a_raster(run, raster):
    r = run("info", raster)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "80 columns x 80 rows of 25 m cells (2.00 x 2.00 km)" in out
    assert "OSGB36 / British National Grid (EPSG:27700)" in out
    assert "x 529000.0 to 531000.0, y 179000.0 to 181000.0" in out
    assert "incidents per km2" in out
    assert re.search(r"kernel = quartic", out)
    assert "max " in out and "mean " in out
    top = re.findall(r"^\s+(\d)\. (\d+\.\d), (\d+\.\d): ([\d.,]+)$", out, flags=re.M)
    assert [t[0] for t in top] == ["1", "2", "3", "4", "5"]
    values = [float(t[3].replace(",", "")) for t in top]
    assert values == sorted(values, reverse=True)
    x, y = float(top[0][1]), float(top[0][2])
    assert 529000 < x < 531000 and 179000 < y < 181000


def test_info_top(run, raster):
    out = run("info", raster, "--top", 2).stdout
    assert "top 2 cells" in out and "\n    3. " not in out


def test_info_missing_raster(run, tmp_path):
    r = run("info", tmp_path / "none.tif")
    assert r.returncode == 3 and r.stderr.startswith("streetsafe: error: ") and r.stderr.count("\n") == 1
