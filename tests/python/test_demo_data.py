"""The committed demo data is exactly what data/make_demo.py generates, and loads as documented."""

import subprocess
import sys

import pytest

import streetsafe as ss

DEMO_FILES = ("demo_incidents.csv", "demo_boundary.geojson")


def test_generator_reproduces_committed_files(repo, tmp_path):
    subprocess.run(
        [sys.executable, str(repo / "data" / "make_demo.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in DEMO_FILES:
        assert (tmp_path / name).read_bytes() == (repo / "data" / name).read_bytes(), (
            f"data/{name} differs from what data/make_demo.py generates: rerun it and commit the output"
        )


def test_demo_is_small(demo_csv):
    assert demo_csv.stat().st_size < 1_000_000


def test_demo_loads_with_documented_counts(demo):
    report = demo.report
    assert report.rows_read == 6000
    assert len(demo) == report.rows_kept == 5940
    assert report.counts() == {"missing_coordinate": 25, "null_island": 15, "unparsable_time": 20}
    assert report.count("null_island") == 15
    skipped = report.skipped
    assert len(skipped["row"]) == 60 and set(skipped["reason"]) == set(report.counts())
    assert "unparsable time" in report.summary() or "unparsable_time" in report.summary()
    assert str(report) == report.summary()
    assert demo.crs_authority == "EPSG:27700" and report.working_crs_automatic
    assert sorted(demo.categories) == sorted(
        ["Violence and sexual offences", "Robbery", "Possession of weapons", "Public order", "Anti-social behaviour"]
    )
    assert demo.ids[0] == "DEMO-000001"
    assert (demo.time_end > demo.time).mean() == pytest.approx(0.15, abs=0.02)
    assert set(demo.weight) == {1.0, 2.0, 3.0}


def test_demo_boundary_holds_the_incidents(demo, repo):
    bounds = ss.layer_bounds(repo / "data" / "demo_boundary.geojson", demo.crs)
    assert bounds[2] - bounds[0] == pytest.approx(6000, abs=300)
    assert bounds[3] - bounds[1] == pytest.approx(5000, abs=300)
    assert bounds[0] <= demo.x.min() and demo.x.max() <= bounds[2]
    assert bounds[1] <= demo.y.min() and demo.y.max() <= bounds[3]
