"""streetsafe areas: incidents per area with rates, a styled GeoPackage, the top areas printed, and
one-line errors for layers that are not polygons and selections that are empty."""

import sqlite3

import pytest
from osgeo import ogr, osr

# Four 1 km squares in a row (EPSG:27700) with populations; incidents: 5, 3, 1, 0 and 2 outside.
POPULATION = [1000, 3000, 500, 2000]
COUNTS = [5, 3, 1, 0]


def write_areas(path, points=False):
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(27700)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = ds.CreateLayer("wards", srs, ogr.wkbPoint if points else ogr.wkbPolygon)
    for name, kind in (("code", ogr.OFTString), ("name", ogr.OFTString), ("residents", ogr.OFTInteger)):
        layer.CreateField(ogr.FieldDefn(name, kind))
    for i, pop in enumerate(POPULATION):
        f = ogr.Feature(layer.GetLayerDefn())
        f.SetField("code", f"E{i}")
        f.SetField("name", f"Ward {i}")
        f.SetField("residents", pop)
        x = 530_000 + 1000 * i
        wkt = (
            f"POINT({x + 500} 180500)"
            if points
            else f"POLYGON(({x} 180000,{x + 1000} 180000,{x + 1000} 181000,{x} 181000,{x} 180000))"
        )
        f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(f)
    ds = None
    return path


@pytest.fixture()
def inputs(tmp_path):
    rows = ["x,y"]
    for i, n in enumerate(COUNTS):
        rows += [f"{530_000 + 1000 * i + 100 + 150 * k},{180_300 + 40 * k}" for k in range(n)]
    rows += ["529500,180500", "534500,180500"]  # outside every ward
    (tmp_path / "incidents.csv").write_text("\n".join(rows) + "\n")
    write_areas(tmp_path / "wards.gpkg")
    return tmp_path


BASE = ("incidents.csv", "--source-crs", "EPSG:27700", "--areas", "wards.gpkg", "--id-field", "code")


def test_areas_rates_from_population_field(run, inputs):
    r = run("areas", *BASE, "--name-field", "name", "--population-field", "residents", "-o", "rates.gpkg")
    assert r.returncode == 0, r.stderr
    ds = ogr.Open(str(inputs / "rates.gpkg"))
    got = {f.GetField("area_id"): (f.GetField("incidents"), f.GetField("rate_per_1000")) for f in ds.GetLayer(0)}
    ds = None
    for i, (n, pop) in enumerate(zip(COUNTS, POPULATION)):
        assert got[f"E{i}"][0] == n and got[f"E{i}"][1] == pytest.approx(1000 * n / pop)
    with sqlite3.connect(inputs / "rates.gpkg") as db:
        (qml,) = db.execute("SELECT styleQML FROM layer_styles").fetchone()
    assert "rate_per_1000" in qml
    out = r.stdout
    assert "2 outside every area" in out and "by rate per 1,000 residents" in out
    top = [line for line in out.splitlines() if line.startswith("    1  ")]
    assert top and "E0 Ward 0" in top[0] and "5 per 1,000" in top[0]


def test_areas_population_table_with_filter(run, inputs):
    (inputs / "pop.csv").write_text(
        "ward,mid_year,all_ages\n" + "".join(f"E{i},2019,{p}\nE{i},2020,{2 * p}\n" for i, p in enumerate(POPULATION))
    )
    r = run(
        "areas", *BASE, "--population", "pop.csv", "--population-key", "ward", "--population-value", "all_ages",
        "--population-where", "mid_year = 2020", "-o", "rates.gpkg", "--top", 2,
    )
    assert r.returncode == 0, r.stderr
    assert "top 2 by rate" in r.stdout and "2.5 per 1,000" in r.stdout  # E0: 5 / 2,000 residents


def test_areas_without_population_rank_by_count(run, inputs):
    r = run("areas", *BASE, "--where", "residents >= 1000", "-o", "rates.gpkg")
    assert r.returncode == 0, r.stderr
    assert "3 in wards.gpkg" in r.stdout and "by incidents" in r.stdout
    assert "3 outside every area" in r.stdout  # the 2 outside, and E2's one now


def test_areas_help_has_examples(run):
    r = run("areas", "--help")
    assert r.returncode == 0 and "Examples:" in r.stdout and "--population-where" in r.stdout


@pytest.mark.parametrize(
    "extra, code, fragment",
    [
        (("--where", "residents > 99999"), 2, ""),  # empty selection
        (("--id-field", "nope"), 2, "nope"),
        (("--population", "pop.csv"), 2, "--population-key"),
    ],
)
def test_areas_bad_input_fails_with_one_line(run, inputs, extra, code, fragment):
    args = list(BASE)
    if extra[0] == "--id-field":
        args[args.index("code")] = extra[1]
        extra = ()
    r = run("areas", *args, *extra, "-o", "rates.gpkg")
    assert r.returncode == code, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("streetsafe: error: ")
    assert fragment in r.stderr


def test_areas_layer_of_points_is_refused(run, inputs):
    write_areas(inputs / "points.gpkg", points=True)
    r = run("areas", "incidents.csv", "--source-crs", "EPSG:27700", "--areas", "points.gpkg", "--id-field", "code",
            "-o", "rates.gpkg")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "point" in r.stderr.lower()
    assert not (inputs / "rates.gpkg").exists()


def test_areas_output_must_be_gpkg(run, inputs):
    r = run("areas", *BASE, "-o", "rates.shp")
    assert r.returncode == 2 and ".gpkg" in r.stderr
