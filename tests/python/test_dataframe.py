"""pandas / geopandas in and out: data frames give the same incidents as arrays and files."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import streetsafe as ss


def frame():
    return pd.DataFrame(
        {
            "Longitude": [-0.95, -0.951, -0.949, -0.952],
            "Latitude": [54.38, 54.381, 54.3795, 54.382],
            "when": ["2023-06-01T17:30", "2023-06-02", "between 2023-06-03T15:00 and 2023-06-03T16:30", None],
            "kind": ["Robbery", "Public order", "Robbery", None],
            "w": [1.0, 2.0, 1.0, 3.0],
        }
    )


def test_dataframe_equals_arrays():
    df = frame()
    from_df = ss.from_dataframe(
        df, lon="Longitude", lat="Latitude", time="when", category="kind", weight="w", time_zone="Europe/London"
    )
    from_arrays = ss.incidents_from_arrays(
        df.Longitude.to_numpy(),
        df.Latitude.to_numpy(),
        "EPSG:4326",
        time=np.array(["2023-06-01T17:30", "2023-06-02T00:00", "2023-06-03T15:00", "NaT"], "datetime64[s]"),
        time_end=np.array(["2023-06-01T17:30", "2023-06-02T23:59:59", "2023-06-03T16:30", "NaT"], "datetime64[s]"),
        weight=df.w.to_numpy(),
        category=np.array([1, 0, 1, -1]),
        categories=["Public order", "Robbery"],
        time_zone="Europe/London",
    )
    for name in ("x", "y", "time", "time_end", "category", "weight", "source_row"):
        np.testing.assert_array_equal(getattr(from_df, name), getattr(from_arrays, name), err_msg=name)
    assert from_df.categories == from_arrays.categories
    assert from_df.time_zone == "Europe/London"
    assert from_df.crs_authority == "EPSG:27700"


def test_columns_dict_equals_keywords():
    a = ss.from_dataframe(frame(), columns={"lon": "Longitude", "lat": "Latitude"})
    b = ss.from_dataframe(frame(), lon="Longitude", lat="Latitude")
    np.testing.assert_array_equal(a.x, b.x)


def test_recognised_names_and_datetime_columns():
    times = pd.to_datetime(["2023-01-05 10:00", "2023-07-05 10:00"])
    df = pd.DataFrame({"lon": [-0.95, -0.951], "lat": [54.38, 54.381], "time": times, "category": ["a", "b"]})
    incidents = ss.from_dataframe(df)
    np.testing.assert_array_equal(incidents.time, times.to_numpy().astype("datetime64[s]"))
    assert incidents.categories == ["a", "b"]

    # tz-aware times become local times of the zone (BST in July)
    aware = df.assign(time=times.tz_localize("UTC"))
    local = ss.from_dataframe(aware, time_zone="Europe/London")
    assert local.time[0] == np.datetime64("2023-01-05T10:00:00")
    assert local.time[1] == np.datetime64("2023-07-05T11:00:00")


def test_categorical_column_keeps_its_categories():
    df = frame().assign(kind=pd.Categorical(["b", "c", "b", None], categories=["a", "b", "c"]))
    incidents = ss.from_dataframe(df, lon="Longitude", lat="Latitude", category="kind")
    assert incidents.categories == ["a", "b", "c"]
    np.testing.assert_array_equal(incidents.category, [1, 2, 1, -1])


def test_unparsable_times_and_missing_columns_are_named():
    df = frame().assign(when=pd.array(["2023-06-01", "soon", "2023-06-03", None], dtype="string"))
    with pytest.raises(ss.InvalidInput, match="'soon'"):
        ss.from_dataframe(df, lon="Longitude", lat="Latitude", time="when")
    with pytest.raises(ss.InvalidInput, match="Longitude"):
        ss.from_dataframe(df.drop(columns=["when"]), lon="Lon", lat="Latitude")
    with pytest.raises(ss.InvalidInput, match="coordinate"):
        ss.from_dataframe(pd.DataFrame({"a": [1.0]}))
    with pytest.raises(ss.InvalidInput, match="source_crs"):
        ss.from_dataframe(pd.DataFrame({"x": [530000.0], "y": [180000.0]}))


def test_demo_through_pandas_equals_read_incidents(demo, demo_csv):
    df = pd.read_csv(demo_csv, dtype={"time": str, "time_end": str})
    usable = pd.to_datetime(df.time, errors="coerce").notna()
    from_df = ss.from_dataframe(df[usable].reset_index(drop=True), time_zone="Europe/London")
    # read_incidents skipped the same defective rows; match rows through their ids
    ids = df[usable].reset_index(drop=True).id.to_numpy()[from_df.source_row]
    assert list(ids) == demo.ids
    np.testing.assert_allclose(from_df.x, demo.x, atol=1e-6)
    np.testing.assert_allclose(from_df.y, demo.y, atol=1e-6)
    np.testing.assert_array_equal(from_df.time, demo.time)
    np.testing.assert_array_equal(from_df.time_end, demo.time_end)
    np.testing.assert_array_equal(from_df.weight, demo.weight)
    names = lambda inc: np.array(inc.categories)[inc.category]  # noqa: E731
    np.testing.assert_array_equal(names(from_df), names(demo))


def test_to_pandas(demo):
    df = demo.to_pandas()
    assert len(df) == len(demo)
    assert list(df.columns) == ["id", "x", "y", "time", "time_end", "precision", "category", "weight", "source_row"]
    assert isinstance(df.category.dtype, pd.CategoricalDtype)
    assert set(df.category.cat.categories) == set(demo.categories)
    assert df.time.dtype.kind == "M"
    assert set(df.precision.unique()) <= {"none", "month", "day", "minute", "second"}
    assert df.attrs["crs"] == "EPSG:27700" and df.attrs["time_zone"] == "Europe/London"
    # and back again: the frame's attrs give the CRS and the zone
    again = ss.from_dataframe(df)
    assert again.time_zone == "Europe/London" and again.crs_authority == "EPSG:27700"
    np.testing.assert_allclose(again.x, demo.x, atol=1e-6)
    np.testing.assert_array_equal(again.time, demo.time)


def test_time_filters_accept_strings_datetimes_and_datetime64(demo_csv):
    by_str = ss.read_incidents(demo_csv, time_from="2023-03", time_to="2023-05")
    by_dt = ss.read_incidents(demo_csv, time_from=dt.datetime(2023, 3, 1), time_to=dt.date(2023, 5, 1))
    by_np = ss.read_incidents(demo_csv, time_from=np.datetime64("2023-03-01"), time_to=np.datetime64("2023-05-01"))
    assert 0 < len(by_str) == len(by_dt) == len(by_np)
    assert by_str.time.min() >= np.datetime64("2023-03-01T00:00:00")
    assert by_str.time_end.max() < np.datetime64("2023-05-01T00:00:00")
    assert by_str.report.count("outside_time_filter") > 0


def test_geodataframe_round_trip(demo):
    gpd = pytest.importorskip("geopandas")
    gdf = demo.to_geopandas()
    assert isinstance(gdf, gpd.GeoDataFrame) and gdf.crs.to_epsg() == 27700
    again = ss.from_dataframe(gdf, time_zone="Europe/London")
    np.testing.assert_allclose(again.x, demo.x, atol=1e-6)
    np.testing.assert_array_equal(np.array(again.categories)[again.category], np.array(demo.categories)[demo.category])
    lonlat = gdf.to_crs(4326)
    moved = ss.from_dataframe(lonlat)
    np.testing.assert_allclose(moved.x, demo.x, atol=1e-3)
