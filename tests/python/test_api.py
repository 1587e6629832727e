"""The package's surface: names, docstrings, versions, time parsing and lazy optional imports."""

import inspect
import subprocess
import sys

import numpy as np
import pytest

import streetsafe as ss


def test_all_names_exist_and_are_documented():
    for name in ss.__all__:
        obj = getattr(ss, name)
        if callable(obj) or inspect.isclass(obj):
            assert inspect.getdoc(obj), f"streetsafe.{name} has no docstring"
    for cls in (ss.Incidents, ss.Grid):
        for name, member in vars(cls).items():
            if not name.startswith("_"):
                assert inspect.getdoc(member), f"{cls.__name__}.{name} has no docstring"


def test_versions():
    v = ss.versions()
    assert v["streetsafe"] == ss.__version__
    assert {"GDAL", "GEOS", "PROJ"} <= set(v)


def test_parse_time():
    t = ss.parse_time("2023-06-01T17:30", "Europe/London")
    assert t.start == t.end == np.datetime64("2023-06-01T17:30:00") and t.precision == "minute"
    month = ss.parse_time("2023-06")
    assert month.precision == "month"
    assert month.start == np.datetime64("2023-06-01T00:00:00") and month.end == np.datetime64("2023-06-30T23:59:59")
    offset = ss.parse_time("2023-06-01T16:30Z", "Europe/London")
    assert offset.start == np.datetime64("2023-06-01T17:30:00")
    between = ss.parse_time("between 2023-06-01T17:30 and 2023-06-01T19:00", "UTC")
    assert between.end - between.start == np.timedelta64(90, "m")
    with pytest.raises(ss.InvalidInput, match="teatime"):
        ss.parse_time("teatime", "UTC")
    with pytest.raises(ss.InvalidInput):
        ss.parse_time("2023-06-01", "Nowhere/Special")


def test_time_precision_enum(demo):
    assert ss.TimePrecision(int(demo.precision[0])) in (ss.TimePrecision.MINUTE, ss.TimePrecision.SECOND)


def test_select(demo):
    robbery = demo.categories.index("Robbery")
    selected = demo.select(demo.category == robbery)
    assert 0 < len(selected) < len(demo) and (selected.category == robbery).all()
    assert selected.report is None and selected.crs == demo.crs


def test_import_is_light():
    code = "import sys, streetsafe; print(sorted({'pandas', 'matplotlib', 'geopandas'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": ":".join(p for p in sys.path if p)})
    assert out.stdout.strip() == "[]"
