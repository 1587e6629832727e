"""Area layers from Python: reading polygons, population joins, incidents per area against a numpy
point-in-polygon count, Gi* of areas against brute force, and the styled GeoPackage."""

from __future__ import annotations

import math
import sqlite3

import numpy as np
import pytest

import streetsafe as ss

X0, Y0, SIDE = 530_000.0, 180_000.0, 1000.0  # a 3 x 2 block of 1 km squares in central London
SQUARES = [(c, r) for r in range(2) for c in range(3)]
POPULATION = [1200.0, 800.0, 0.0, 4000.0, 2500.0, 600.0]


def write_layer(path, kind="polygon"):
    from osgeo import ogr, osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(27700)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = ds.CreateLayer("wards", srs, ogr.wkbPolygon if kind == "polygon" else ogr.wkbPoint)
    for name, type_ in (("code", ogr.OFTString), ("name", ogr.OFTString), ("pop", ogr.OFTReal)):
        layer.CreateField(ogr.FieldDefn(name, type_))
    for i, (c, r) in enumerate(SQUARES):
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("code", f"W{i:02d}")
        feature.SetField("name", f"Ward {i}")
        feature.SetField("pop", POPULATION[i])
        x, y = X0 + c * SIDE, Y0 + r * SIDE
        if kind == "polygon":
            wkt = f"POLYGON(({x} {y},{x + SIDE} {y},{x + SIDE} {y + SIDE},{x} {y + SIDE},{x} {y}))"
        else:
            wkt = f"POINT({x + SIDE / 2} {y + SIDE / 2})"
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    ds = None
    return path


@pytest.fixture()
def wards(tmp_path):
    return write_layer(tmp_path / "wards.gpkg")


@pytest.fixture()
def points():
    rng = np.random.default_rng(5)
    x = rng.uniform(X0 - 500, X0 + 3 * SIDE + 500, 2000)
    y = rng.uniform(Y0 - 500, Y0 + 2 * SIDE + 500, 2000)
    return x, y


def numpy_counts(x, y):
    """Point in square, by arithmetic: which of SQUARES holds each point, -1 for none."""
    c = np.floor((x - X0) / SIDE).astype(int)
    r = np.floor((y - Y0) / SIDE).astype(int)
    inside = (c >= 0) & (c < 3) & (r >= 0) & (r < 2)
    index = np.where(inside, r * 3 + c, -1)
    return np.array([(index == i).sum() for i in range(len(SQUARES))]), index


def test_read_areas(wards):
    areas = ss.read_areas(wards, id_field="code", name_field="name", population_field="pop", crs="EPSG:27700")
    assert len(areas) == 6 and areas.ids == [f"W{i:02d}" for i in range(6)]
    assert areas.names[3] == "Ward 3"
    np.testing.assert_allclose(areas.population, POPULATION)
    np.testing.assert_allclose(areas.area_m2, SIDE * SIDE)
    np.testing.assert_allclose(areas.centroid_x, [X0 + (c + 0.5) * SIDE for c, _ in SQUARES])
    assert areas.repaired == [] and "British National Grid" in areas.crs_name
    subset = ss.read_areas(wards, id_field="code", where="pop > 1000")
    assert subset.ids == ["W00", "W03", "W04"]
    with pytest.raises(ss.InvalidInput):
        ss.read_areas(wards, id_field="code", where="pop > 1e9")  # selects nothing
    with pytest.raises(ss.InvalidInput, match="no_such"):
        ss.read_areas(wards, id_field="no_such")


def test_read_areas_rejects_points(tmp_path):
    with pytest.raises(ss.InvalidInput):
        ss.read_areas(write_layer(tmp_path / "points.gpkg", kind="point"), id_field="code")


def test_area_rates_equal_point_in_polygon(wards, points):
    areas = ss.read_areas(wards, id_field="code", population_field="pop", crs="EPSG:27700")
    x, y = points
    incidents = ss.incidents_from_arrays(x, y, "EPSG:27700", working_crs="EPSG:27700")
    rates = ss.area_rates(areas, incidents)
    expected, index = numpy_counts(x, y)
    np.testing.assert_array_equal(rates["incidents"], expected)
    np.testing.assert_array_equal(rates.area_of_incident, index)
    assert rates.outside_count == (index < 0).sum()
    pop = np.array(POPULATION)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected_rate = np.where(pop > 0, expected / pop * 1000, np.nan)
    np.testing.assert_allclose(rates["rate_per_1000"], expected_rate, equal_nan=True)
    np.testing.assert_allclose(rates["density_per_km2"], expected)
    frame = rates.to_pandas()
    assert list(frame.index) == areas.ids and frame.loc["W00", "incidents"] == expected[0]


def test_join_population_and_gpkg(wards, points, tmp_path):
    areas = ss.read_areas(wards, id_field="code", crs="EPSG:27700")
    assert np.isnan(areas.population).all()
    table = tmp_path / "pop.csv"
    table.write_text(
        "ward,mid_year,residents\n"
        + "".join(f"W{i:02d},2019,{100 * (i + 1)}\nW{i:02d},2020,{200 * (i + 1)}\n" for i in range(5))
    )
    missing = ss.join_population(areas, table, key="ward", value="residents", where="mid_year = 2019")
    assert missing == ["W05"]
    np.testing.assert_allclose(areas.population[:5], [100, 200, 300, 400, 500])

    x, y = points
    rates = ss.area_rates(areas, ss.incidents_from_arrays(x, y, "EPSG:27700", working_crs="EPSG:27700"))
    path = tmp_path / "rates.gpkg"
    ss.write_area_rates_gpkg(path, rates)
    from osgeo import ogr

    ds = ogr.Open(str(path))
    layer = ds.GetLayerByName("area_rates")
    assert layer.GetFeatureCount() == 6
    got = {f.GetField("area_id"): f.GetField("incidents") for f in layer}
    expected, _ = numpy_counts(x, y)
    assert got == {f"W{i:02d}": int(expected[i]) for i in range(6)}
    ds = None
    with sqlite3.connect(path) as db:
        (style,) = db.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = 'area_rates'").fetchone()
    assert "rate_per_1000" in style


def test_gi_star_of_areas_equals_brute_force(wards, points):
    areas = ss.read_areas(wards, id_field="code", crs="EPSG:27700")
    values = np.array([3.0, 10.0, 4.0, 1.0, 8.0, 2.0])
    result = ss.gi_star(areas, values, distance_band=1000)
    cx, cy = np.asarray(areas.centroid_x), np.asarray(areas.centroid_y)
    n, mean = values.size, values.mean()
    s = math.sqrt((values**2).mean() - mean**2)
    expected = []
    for i in range(n):
        w = np.hypot(cx - cx[i], cy - cy[i]) <= 1000 * (1 + 1e-9)
        k = w.sum()
        expected.append((values[w].sum() - mean * k) / (s * math.sqrt((n * k - k * k) / (n - 1))))
    np.testing.assert_allclose(result.z, expected, rtol=1e-9, atol=1e-12)
    assert result.z_grid is None and result.features == 6
    with pytest.raises(ss.InvalidInput):
        ss.gi_star(areas, values[:3], distance_band=1000)
