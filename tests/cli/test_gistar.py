"""streetsafe gistar (and the styled outputs of hotspots): z-score and class GeoTIFFs with QGIS
sidecars, hotspot polygon GeoPackages, presets, severity weights and one-line errors."""

import sqlite3

import numpy as np
import pytest
from osgeo import gdal, ogr

gdal.UseExceptions()

# A dense cluster of 60 incidents near (530 600, 180 400) among 60 spread over 2 x 2 km (EPSG:27700).
rng = np.random.default_rng(1)
_X = np.concatenate([530_000 + rng.uniform(0, 2000, 60), 530_600 + rng.normal(0, 30, 60)])
_Y = np.concatenate([180_000 + rng.uniform(0, 2000, 60), 180_400 + rng.normal(0, 30, 60)])
_CATEGORIES = ["Robbery", "Violence and sexual offences", "Public order", "Burglary"]
CLUSTER_CSV = "easting,northing,category\n" + "".join(
    f"{x:.1f},{y:.1f},{_CATEGORIES[i % 4]}\n" for i, (x, y) in enumerate(zip(_X, _Y))
)


@pytest.fixture()
def cluster_csv(tmp_path):
    path = tmp_path / "cluster.csv"
    path.write_text(CLUSTER_CSV)
    return path


BNG = ("--source-crs", "EPSG:27700")


def test_gistar_writes_z_and_class_rasters_with_styles(run, cluster_csv, tmp_path):
    r = run("gistar", cluster_csv, "-o", "gi.tif", "--cell", 100, "--distance-band", 150, *BNG)
    assert r.returncode == 0, r.stderr
    z_ds = gdal.Open(str(tmp_path / "gi.tif"))
    c_ds = gdal.Open(str(tmp_path / "gi_classes.tif"))
    assert z_ds.GetGeoTransform() == c_ds.GetGeoTransform() and z_ds.GetGeoTransform()[1] == 100
    z = z_ds.GetRasterBand(1).ReadAsArray()
    classes = c_ds.GetRasterBand(1).ReadAsArray()
    assert np.nanmax(z) > 2.576 and set(np.unique(classes)) <= {-3, -2, -1, 0, 1, 2, 3}
    assert classes[np.unravel_index(np.nanargmax(z), z.shape)] == 3
    assert "singlebandpseudocolor" in (tmp_path / "gi.qml").read_text()
    assert "paletted" in (tmp_path / "gi_classes.qml").read_text()
    assert "within 150 m" in r.stdout and "gi_classes.tif" in r.stdout


def test_gistar_k_nearest_no_fdr_and_polygons(run, cluster_csv, tmp_path):
    r = run("gistar", cluster_csv, "-o", "gi.tif", "--k", 8, "--no-fdr", "--polygons", "hot.gpkg", "--no-style", *BNG)
    assert r.returncode == 0, r.stderr
    assert "k = 8 nearest cells" in r.stdout and not (tmp_path / "gi.qml").exists()
    ds = ogr.Open(str(tmp_path / "hot.gpkg"))
    layer = ds.GetLayerByName("gi_hotspots")
    assert layer.GetFeatureCount() >= 1
    first = layer.GetNextFeature()
    assert first.GetField("rank") == 1 and first.GetField("incidents") >= 30
    ds = None
    with sqlite3.connect(tmp_path / "hot.gpkg") as db:
        assert db.execute("SELECT COUNT(*) FROM layer_styles").fetchone()[0] == 1


def test_gistar_help_has_examples(run):
    r = run("gistar", "--help")
    assert r.returncode == 0 and "Examples:" in r.stdout and "OUT_classes.tif" in r.stdout


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (("--cell", "0.001"), 2, "max"),  # about 4e12 cells
        (("--distance-band", "-5"), 2, "--distance-band"),
        (("--k", "3", "--distance-band", "200"), 2, "excludes"),
        (("--preset", "no-such-preset"), 2, "no-such-preset"),
        (("--polygons", "hot.shp"), 2, ".gpkg"),
    ],
)
def test_gistar_bad_input_fails_with_one_line(run, cluster_csv, args, code, fragment):
    r = run("gistar", cluster_csv, "-o", "gi.tif", *BNG, *args)
    assert r.returncode == code, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("streetsafe: error: ")
    assert fragment.lower() in r.stderr.lower()


def test_hotspots_style_polygons_preset_and_weights(run, cluster_csv, tmp_path):
    weights = tmp_path / "harm.csv"
    weights.write_text("category,weight\nRobbery,10\nViolence and sexual offences,5\nPublic order,1\n")
    r = run(
        "hotspots", cluster_csv, "-o", "kde.tif", *BNG, "--x", "easting", "--y", "northing",
        "--category-column", "category", "--weights", weights, "--default-weight", 0.5,
        "--polygons", "hot.gpkg", "--top-percent", 2,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "kde.qml").is_file() and "polygons" in r.stdout and "weights" in r.stdout
    ds = ogr.Open(str(tmp_path / "hot.gpkg"))
    layer = ds.GetLayerByName("hotspots")
    assert layer.GetFeatureCount() >= 1 and layer.GetNextFeature().GetField("pai") > 1
    ds = None
    assert run("hotspots", cluster_csv, "-o", "plain.tif", *BNG, "--no-style").returncode == 0
    assert not (tmp_path / "plain.qml").exists()
    r = run("hotspots", cluster_csv, "-o", "gi.tif", *BNG, "--polygons", "gi.gpkg", "--gi-star")
    assert r.returncode == 0, r.stderr
    r = run("hotspots", cluster_csv, "-o", "x.tif", *BNG, "--weights", weights)  # Burglary unlisted
    assert r.returncode == 2 and "Burglary" in r.stderr and r.stderr.count("\n") == 1
