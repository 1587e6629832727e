"""Arrays cross between C++ and numpy without copies, and views keep their owner alive."""

import gc

import numpy as np
import pytest

import streetsafe as ss

ARRAYS = {
    "x": np.float64,
    "y": np.float64,
    "time": np.dtype("datetime64[s]"),
    "time_end": np.dtype("datetime64[s]"),
    "precision": np.uint8,
    "category": np.int32,
    "weight": np.float64,
    "source_row": np.int64,
}


@pytest.mark.parametrize("name, dtype", ARRAYS.items())
def test_incident_arrays_are_shared_views(demo, name, dtype):
    first, second = getattr(demo, name), getattr(demo, name)
    assert first.dtype == dtype
    assert first.shape == (len(demo),)
    assert np.shares_memory(first, second)
    assert first.__array_interface__["data"][0] == second.__array_interface__["data"][0]
    assert not first.flags.writeable  # the C++ value keeps its invariants
    assert not first.flags.owndata


def test_incident_array_is_the_cpp_buffer(demo):
    assert demo.x.__array_interface__["data"][0] == demo._core._buffer_address("x")
    assert demo.time.__array_interface__["data"][0] == demo._core._buffer_address("time")


def test_views_keep_incidents_alive(london_points):
    x, y, w = london_points
    incidents = ss.incidents_from_arrays(x, y, "EPSG:27700", weight=w, working_crs="EPSG:27700")
    xs, weights = incidents.x, incidents.weight
    del incidents
    gc.collect()
    np.testing.assert_allclose(xs, x, atol=1e-6)
    np.testing.assert_array_equal(weights, w)


def test_time_uses_numpy_encoding_with_nat():
    t = np.array(["2023-06-01T17:30:05", "NaT"], dtype="datetime64[s]")
    incidents = ss.incidents_from_arrays([530000.0, 530100.0], [180000.0, 180100.0], "EPSG:27700", time=t)
    np.testing.assert_array_equal(incidents.time, t)
    assert incidents.time.view(np.int64)[1] == np.iinfo(np.int64).min
    assert np.isnat(incidents.time[1])


def test_grid_array_is_a_zero_copy_view(london_points):
    x, y, _ = london_points
    grid = ss.kde(ss.incidents_from_arrays(x, y, "EPSG:27700"), bandwidth=200, cell=20)
    a, b = np.asarray(grid), np.asarray(grid)
    assert a.shape == grid.shape and a.dtype == np.float64 and a.flags.c_contiguous
    assert np.shares_memory(a, b) and np.shares_memory(a, grid.values)
    assert a.__array_interface__["data"][0] == grid._core._buffer_address()
    assert grid.values.__array_interface__["data"][0] == grid._core._buffer_address()

    # A write through one view is seen through another, and by the C++ side.
    before = grid.integral()
    a[0, 0] = 1e6
    assert np.asarray(grid)[0, 0] == 1e6
    assert grid.integral() == pytest.approx(before + 1e6 * grid.cell**2 / 1e6)


def test_grid_view_keeps_grid_alive(london_points):
    x, y, _ = london_points
    grid = ss.kde(ss.incidents_from_arrays(x, y, "EPSG:27700"), bandwidth=200, cell=20)
    expected = np.array(grid)  # a copy
    view = np.asarray(grid)
    del grid
    gc.collect()
    np.testing.assert_array_equal(view, expected)
