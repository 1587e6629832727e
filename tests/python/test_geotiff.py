"""GeoTIFF round trips, checked with GDAL's own Python bindings (what QGIS will see)."""

import numpy as np
import pytest
from osgeo import gdal, osr

import streetsafe as ss

gdal.UseExceptions()


@pytest.fixture(scope="module")
def grid(demo):
    return ss.kde(demo, bandwidth=250, cell=25)


def test_geotiff_as_gdal_sees_it(grid, tmp_path):
    path = tmp_path / "hotspots.tif"
    grid.to_geotiff(path)
    ds = gdal.Open(str(path))
    assert (ds.RasterYSize, ds.RasterXSize) == grid.shape
    srs = osr.SpatialReference(wkt=ds.GetProjection())
    srs.AutoIdentifyEPSG()
    assert srs.GetAuthorityCode(None) == "27700"
    assert ds.GetGeoTransform() == pytest.approx(grid.geotransform)
    gt = ds.GetGeoTransform()
    extent = (gt[0], gt[3] + gt[5] * ds.RasterYSize, gt[0] + gt[1] * ds.RasterXSize, gt[3])
    assert extent == pytest.approx(grid.bounds)
    band = ds.GetRasterBand(1)
    assert band.DataType == gdal.GDT_Float64
    assert band.GetOverviewCount() > 0
    np.testing.assert_array_equal(band.ReadAsArray(), np.asarray(grid))
    assert ds.GetMetadataItem("kernel") == "quartic" or "quartic" in str(ds.GetMetadata())


def test_read_raster_round_trip(grid, tmp_path):
    path = tmp_path / "hotspots.tif"
    grid.to_geotiff(path, overviews=False)
    back = ss.read_raster(path)
    assert back.shape == grid.shape and back.bounds == pytest.approx(grid.bounds)
    np.testing.assert_array_equal(np.asarray(back), np.asarray(grid))
    assert back.crs_name == grid.crs_name == "OSGB36 / British National Grid"
    assert back.units == grid.units
    assert back.metadata.get("kernel") == "quartic"


def test_float32(grid, tmp_path):
    path = tmp_path / "small.tif"
    grid.to_geotiff(path, float32=True)
    ds = gdal.Open(str(path))  # keep the dataset: GDAL 3.6's bands do not hold it alive
    band = ds.GetRasterBand(1)
    assert band.DataType == gdal.GDT_Float32
    np.testing.assert_allclose(band.ReadAsArray(), np.asarray(grid), rtol=1e-6)


def test_grid_from_array_writes_a_difference(grid, tmp_path):
    diff = ss.Grid.from_array(np.asarray(grid) * 0.5, like=grid, units="half")
    assert diff.bounds == grid.bounds and diff.crs == grid.crs and diff.units == "half"
    assert not np.shares_memory(np.asarray(diff), np.asarray(grid))
    path = tmp_path / "half.tif"
    diff.to_geotiff(path)
    np.testing.assert_allclose(ss.read_raster(path).values, np.asarray(grid) * 0.5)


def test_unwritable_path_is_io_error(grid, tmp_path):
    with pytest.raises(ss.IoError):
        grid.to_geotiff(tmp_path / "no" / "such" / "dir" / "x.tif")


def test_grid_properties(grid):
    left, right, bottom, top = grid.extent
    assert (left, bottom, right, top) == grid.bounds
    assert grid.geotransform == (grid.origin_x, grid.cell, 0.0, grid.origin_y, 0.0, -grid.cell)
    assert right - left == pytest.approx(grid.shape[1] * grid.cell)
    s = grid.summary()
    assert s["max"] == pytest.approx(np.nanmax(np.asarray(grid)))
    assert s["cells"] == grid.shape[0] * grid.shape[1]
    assert np.isnan(grid.nodata)
    assert "Grid" in repr(grid)


def test_plot(grid):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    image = grid.plot(ax=ax)
    assert tuple(image.get_extent()) == grid.extent
    plt.close(fig)
