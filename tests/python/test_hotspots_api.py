"""Counts per cell, Getis-Ord Gi*, hotspot polygons, styled rasters, presets and severity weights
from Python, checked against numpy brute force where there is an oracle."""

from __future__ import annotations

import math
import sqlite3

import numpy as np
import pytest

import streetsafe as ss

ORIGIN_X, ORIGIN_Y = 530_000.0, 181_000.0  # central London, EPSG:27700


def brute_gi_star(values: np.ndarray, cell: float, band: float):
    """Ord & Getis (1995) Gi* of every valid cell with binary weights, the cell itself included."""
    rows, cols = values.shape
    valid = np.isfinite(values)
    x = values[valid]
    n = x.size
    mean = x.mean()
    s = math.sqrt((x**2).mean() - mean**2)
    z = np.full(values.shape, np.nan)
    for r in range(rows):
        for c in range(cols):
            if not valid[r, c]:
                continue
            total, w = 0.0, 0
            for rr in range(rows):
                for cc in range(cols):
                    if valid[rr, cc] and math.hypot(rr - r, cc - c) * cell <= band * (1 + 1e-9):
                        total += values[rr, cc]
                        w += 1
            z[r, c] = (total - mean * w) / (s * math.sqrt((n * w - w * w) / (n - 1)))
    return z


def brute_fdr(p: np.ndarray) -> np.ndarray:
    finite = np.isfinite(p)
    q = np.full(p.shape, np.nan)
    v = p[finite]
    order = np.argsort(v)
    m = v.size
    adjusted = np.minimum(1.0, v[order] * m / np.arange(1, m + 1))
    adjusted = np.minimum.accumulate(adjusted[::-1])[::-1]
    out = np.empty(m)
    out[order] = adjusted
    q[finite] = out
    return q


def grid(values: np.ndarray, cell: float = 100.0) -> ss.Grid:
    return ss.Grid.from_array(values, origin_x=ORIGIN_X, origin_y=ORIGIN_Y, cell=cell, crs="EPSG:27700")


@pytest.fixture()
def counts() -> np.ndarray:
    rng = np.random.default_rng(7)
    values = rng.poisson(2.0, size=(9, 11)).astype(float)
    values[2:4, 6:9] += 9  # a hot spot
    return values


def test_gi_star_grid_equals_brute_force(counts):
    result = ss.gi_star(grid(counts), distance_band=150)
    expected = brute_gi_star(counts, 100.0, 150.0)
    assert result.z.shape == counts.shape
    np.testing.assert_allclose(result.z, expected, rtol=1e-9, atol=1e-12)
    p = np.array([math.erfc(abs(v) / math.sqrt(2)) for v in expected.ravel()]).reshape(counts.shape)
    np.testing.assert_allclose(result.p, p, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(result.p_fdr, brute_fdr(p), rtol=1e-9, atol=1e-15)
    assert result.features == counts.size
    assert result.distance_band_m == 150
    assert result.neighbours[4, 5] == 9 and result.neighbours[0, 0] == 4
    # The z-score and class grids are Grids on the same geotransform.
    assert isinstance(result.z_grid, ss.Grid) and result.z_grid.geotransform == grid(counts).geotransform
    np.testing.assert_array_equal(np.asarray(result.z_grid), result.z)
    np.testing.assert_array_equal(np.asarray(result.class_grid), result.gi_bin_fdr.astype(float))
    assert result.classes is not None and result.classes[2, 7] == 3  # the hot spot, 99%


def test_gi_star_classes_follow_arcgis_bins(counts):
    result = ss.gi_star(grid(counts), distance_band=150, fdr=False)
    z, p = result.z.ravel(), result.p.ravel()
    expected = np.sign(z) * np.select([p <= 0.01, p <= 0.05, p <= 0.10], [3, 2, 1], 0)
    np.testing.assert_array_equal(result.gi_bin.ravel(), expected)
    np.testing.assert_array_equal(result.classes, result.gi_bin)


def test_gi_star_skips_nodata_cells(counts):
    counts[0, :] = np.nan
    result = ss.gi_star(grid(counts), distance_band=250)
    np.testing.assert_allclose(result.z, brute_gi_star(counts, 100.0, 250.0), rtol=1e-9, atol=1e-12)
    assert np.isnan(result.z[0]).all() and (result.classes[0] == 0).all()


def test_gi_star_k_nearest_and_points(counts):
    result = ss.gi_star(grid(counts), k=4)
    assert result.k_neighbours == 4 and (result.neighbours == 5).all()
    # Points at the cell centres with a band give the grid's answer.
    xs, ys = grid(counts).cell_centres()
    x, y = np.meshgrid(xs, ys)
    points = ss.gi_star(None, counts.ravel(), x=x.ravel(), y=y.ravel(), distance_band=150)
    np.testing.assert_allclose(points.z, brute_gi_star(counts, 100.0, 150.0).ravel(), rtol=1e-9)


def test_gi_star_rejects_constant_values():
    with pytest.raises(ss.InvalidInput):
        ss.gi_star(grid(np.ones((4, 4))), distance_band=150)
    with pytest.raises(ValueError):
        ss.gi_star(grid(np.arange(16.0).reshape(4, 4)), distance_band=-1)


def test_fdr_adjust():
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.2])
    np.testing.assert_allclose(ss.fdr_adjust(p), brute_fdr(p), equal_nan=True)


def incidents_at(x, y, weight=None) -> ss.Incidents:
    return ss.incidents_from_arrays(
        np.asarray(x, float), np.asarray(y, float), "EPSG:27700", weight=weight, working_crs="EPSG:27700"
    )


def test_count_grid_equals_numpy_binning():
    rng = np.random.default_rng(3)
    x = ORIGIN_X + rng.uniform(0, 1000, 500)
    y = ORIGIN_Y - rng.uniform(0, 800, 500)
    incidents = incidents_at(x, y)
    like = grid(np.zeros((8, 10)))
    counts = ss.count_grid(incidents, like=like)
    expected = np.zeros((8, 10))
    np.add.at(expected, (((ORIGIN_Y - y) // 100).astype(int), ((x - ORIGIN_X) // 100).astype(int)), 1)
    np.testing.assert_array_equal(np.asarray(counts), expected)
    fresh = ss.count_grid(incidents, cell=50)
    assert np.nansum(np.asarray(fresh)) == 500 and fresh.cell == 50


@pytest.fixture()
def hot_incidents():
    rng = np.random.default_rng(11)
    x = np.concatenate([ORIGIN_X + rng.uniform(0, 2000, 300), ORIGIN_X + 1200 + rng.normal(0, 40, 200)])
    y = np.concatenate([ORIGIN_Y - rng.uniform(0, 2000, 300), ORIGIN_Y - 700 + rng.normal(0, 40, 200)])
    return incidents_at(x, y)


def test_hotspot_polygons_top_percent(hot_incidents, tmp_path):
    surface = ss.kde(hot_incidents, bandwidth=200, cell=50)
    table = ss.hotspot_polygons(surface, hot_incidents, top_percent=5)
    assert len(table) >= 1 and len(table.wkb) == len(table)
    cols = table.columns
    assert list(cols["rank"]) == list(range(1, len(table) + 1))
    assert isinstance(cols["pai"], np.ndarray) and not cols["pai"].flags.writeable
    summary = table.summary
    assert summary["selected_cells"] == math.ceil(0.05 * summary["study_cells"])
    assert cols["incidents"].sum() == pytest.approx(summary["incidents_selected"])
    assert cols["pai"][0] > 1  # the hot spot holds far more than its share of incidents
    assert "wkb" in table.to_dict()
    try:
        frame = table.to_geopandas()
    except ImportError:
        frame = None
    if frame is not None:
        assert len(frame) == len(table)

    path = tmp_path / "hot.gpkg"
    ss.write_hotspots_gpkg(path, table)
    from osgeo import ogr

    ds = ogr.Open(str(path))
    layer = ds.GetLayerByName("hotspots")
    assert layer.GetFeatureCount() == len(table)
    assert layer.GetGeomType() in (ogr.wkbPolygon, ogr.wkbMultiPolygon)
    ds = None
    with sqlite3.connect(path) as db:
        (n,) = db.execute("SELECT COUNT(*) FROM layer_styles WHERE f_table_name = 'hotspots'").fetchone()
    assert n == 1


def test_hotspot_polygons_gi_star(hot_incidents):
    counts = ss.count_grid(hot_incidents, cell=100)
    table = ss.hotspot_polygons(counts, hot_incidents, gi_star=True, distance_band=150)
    assert isinstance(table.summary["gi"], ss.GiStarResult)
    assert len(table) >= 1 and table["incidents"][0] > 100
    with pytest.raises(ss.InvalidInput):
        ss.hotspot_polygons(counts, hot_incidents, top_percent=0)


def test_to_geotiff_writes_qml_sidecar(hot_incidents, tmp_path):
    surface = ss.kde(hot_incidents, bandwidth=200, cell=50)
    path = tmp_path / "density.tif"
    qml = surface.to_geotiff(path, style=True)
    assert qml == str(tmp_path / "density.qml")
    text = (tmp_path / "density.qml").read_text()
    assert "singlebandpseudocolor" in text and "INTERPOLATED" in text
    assert surface.to_geotiff(tmp_path / "plain.tif") is None and not (tmp_path / "plain.qml").exists()


def test_presets_and_severity_weights(tmp_path):
    names = ss.preset_names()
    assert names and all(isinstance(n, str) for n in names)
    category_presets = [n for n in names if ss.preset(n)["categories"]]
    assert category_presets
    categories = ss.preset_categories(category_presets[0])
    assert categories == ss.preset(category_presets[0])["categories"]
    with pytest.raises(ValueError, match="known"):
        ss.preset_categories("no such preset")

    table = tmp_path / "harm.csv"
    table.write_text("category,weight\nRobbery,5\n# comment\nPublic order,0.5\n")
    weights = ss.read_severity_weights(table)
    assert list(weights.categories) == ["Robbery", "Public order"] and len(weights) == 2
    incidents = ss.incidents_from_arrays(
        np.array([ORIGIN_X, ORIGIN_X + 10, ORIGIN_X + 20]),
        np.array([ORIGIN_Y, ORIGIN_Y, ORIGIN_Y]),
        "EPSG:27700",
        category=["Robbery", "Public order", "Burglary"],
        working_crs="EPSG:27700",
    )
    with pytest.raises(ss.InvalidInput):
        ss.apply_severity_weights(incidents, weights)
    weighted, report = ss.apply_severity_weights(incidents, table, default_weight=1)
    np.testing.assert_array_equal(weighted.weight, [5, 0.5, 1])
    assert report["unweighted_categories"] == ["Burglary"] and report["unweighted_incidents"] == 1
    np.testing.assert_array_equal(incidents.weight, [1, 1, 1])  # the input is left as it was


def test_pai_and_curve_equal_numpy(hot_incidents):
    rng = np.random.default_rng(2)
    values = rng.random((10, 12))
    surface = grid(values)
    x = ORIGIN_X + rng.uniform(0, 1200, 400)
    y = ORIGIN_Y - rng.uniform(0, 1000, 400)
    test = incidents_at(x, y)
    counts = np.zeros(values.shape)
    np.add.at(counts, (((ORIGIN_Y - y) // 100).astype(int), ((x - ORIGIN_X) // 100).astype(int)), 1)
    for percent in (1, 5, 12.5):
        k = math.ceil(percent / 100 * values.size)
        top = np.argsort(-values.ravel(), kind="stable")[:k]
        expected = (counts.ravel()[top].sum() / 400) / (k / values.size)
        assert ss.pai(surface, test, top_percent=percent) == pytest.approx(expected, rel=1e-12)
    curve = ss.pai_curve(surface, test, percents=[1, 5, 12.5])
    np.testing.assert_allclose(curve["percent"], [1, 5, 12.5])
    assert curve["pai"][1] == pytest.approx(ss.pai(surface, test, top_percent=5))
    assert (curve["pei"] <= 1 + 1e-12).all()
    result = ss.evaluate_hotspots(surface, test, top_percent=5, train=test)
    assert result["rri"] == pytest.approx(1.0) and result["test"]["in_study_area"] == 400


def test_select_bandwidth(hot_incidents):
    scott = ss.select_bandwidth(hot_incidents, method="scott", kernel="gaussian")
    assert scott["bandwidth_m"] > 0 and scott["kernel"] == "gaussian"
    quartic = ss.select_bandwidth(hot_incidents, method="scott", kernel="quartic")
    assert quartic["bandwidth_m"] == pytest.approx(scott["bandwidth_m"] * 2.779, rel=1e-3)
    with pytest.raises(ss.InvalidInput):
        ss.select_bandwidth(hot_incidents, method="pai")  # needs test incidents
    with pytest.raises(ValueError):
        ss.select_bandwidth(hot_incidents, method="guess")
