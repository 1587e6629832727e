"""Each C++ error kind arrives as its own Python exception, which also is the matching built-in."""

import numpy as np
import pytest

import streetsafe as ss


def test_hierarchy():
    assert issubclass(ss.InvalidInput, ss.Error) and issubclass(ss.InvalidInput, ValueError)
    assert issubclass(ss.IoError, ss.Error) and issubclass(ss.IoError, OSError)
    assert issubclass(ss.CrsError, ss.Error)
    assert issubclass(ss.Cancelled, ss.Error)
    assert issubclass(ss.Error, Exception)
    assert ss.InvalidInput.__module__ == "streetsafe" and ss.InvalidInput.__doc__


def test_bad_kernel_is_invalid_input_and_value_error(london_points):
    x, y, _ = london_points
    incidents = ss.incidents_from_arrays(x, y, "EPSG:27700")
    with pytest.raises(ss.InvalidInput, match="kernel 'parabolic'"):
        ss.kde(incidents, kernel="parabolic")
    with pytest.raises(ValueError):
        ss.kde(incidents, kernel="parabolic")


@pytest.mark.parametrize(
    "options, field",
    [({"bandwidth": -5}, "bandwidth"), ({"cell": 0}, "cell"), ({"output": "sum"}, "output"),
     ({"normalisation": "exactish"}, "normalisation"), ({"method": "fast"}, "method")],
)
def test_bad_options_name_the_field(london_points, options, field):
    x, y, _ = london_points
    with pytest.raises(ss.InvalidInput, match=field):
        ss.kde(ss.incidents_from_arrays(x, y, "EPSG:27700"), **options)


def test_missing_file_is_io_error_and_os_error(tmp_path):
    missing = tmp_path / "nowhere.csv"
    with pytest.raises(ss.IoError, match="nowhere.csv"):
        ss.read_incidents(missing)
    with pytest.raises(OSError):
        ss.read_incidents(missing)
    with pytest.raises(ss.IoError):
        ss.read_raster(tmp_path / "nowhere.tif")


def test_unknown_crs_is_crs_error(demo_csv):
    with pytest.raises(ss.CrsError, match="EPSG:99999"):
        ss.read_incidents(demo_csv, crs="EPSG:99999")


def test_unknown_column_role_and_time_zone(demo_csv):
    with pytest.raises(ss.InvalidInput, match="colour"):
        ss.read_incidents(demo_csv, columns={"colour": "category"})
    with pytest.raises(ss.InvalidInput, match="Mars/Olympus"):
        ss.read_incidents(demo_csv, time_zone="Mars/Olympus")


def test_empty_selection(demo_csv):
    with pytest.raises(ss.InvalidInput):
        incidents = ss.read_incidents(demo_csv, categories=["Shoplifting"])
        ss.kde(incidents)


def test_grid_too_large_fails_fast(london_points):
    x, y, _ = london_points
    with pytest.raises(ss.InvalidInput, match="exceeds"):
        ss.kde(ss.incidents_from_arrays(x, y, "EPSG:27700"), cell=0.01)


def test_progress_callback_exception_propagates(london_points):
    x, y, _ = london_points

    class Stop(Exception):
        pass

    def progress(fraction, stage):
        raise Stop(f"stopped at {fraction}")

    with pytest.raises(Stop):
        ss.kde(ss.incidents_from_arrays(x, y, "EPSG:27700"), progress=progress)


def test_unknown_skip_reason(demo):
    with pytest.raises(ss.InvalidInput, match="null_island"):
        demo.report.count("teleported")


def test_mismatched_array_lengths():
    with pytest.raises(ss.InvalidInput, match="weight"):
        ss.incidents_from_arrays([1.0, 2.0], [3.0, 4.0], "EPSG:27700", weight=np.ones(3))
