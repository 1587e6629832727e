"""Golden runs of the streetsafe program on small hand-made inputs.

ctest runs them as ``cli_golden`` with ``--streetsafe=<path to the binary>``; by hand:
``/usr/bin/python3 -m pytest tests/cli --streetsafe=build/bin/streetsafe``. Without the option
the binary is looked for in ``$STREETSAFE_CLI``, then ``<repo>/build/bin/streetsafe``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parents[2]


def pytest_addoption(parser):
    parser.addoption("--streetsafe", action="store", default=None, help="path to the streetsafe binary")


@pytest.fixture(scope="session")
def streetsafe(request) -> Path:
    path = request.config.getoption("--streetsafe") or os.environ.get("STREETSAFE_CLI") or REPO / "build/bin/streetsafe"
    path = Path(path).resolve()  # the runs happen in tmp_path
    if not path.is_file():
        pytest.fail(f"no streetsafe binary at {path}: build it, or pass --streetsafe=PATH")
    return path


@pytest.fixture()
def run(streetsafe, tmp_path) -> Callable[..., subprocess.CompletedProcess]:
    """Runs streetsafe with the given arguments in tmp_path; returns the completed process."""

    def _run(*args, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(streetsafe), *map(str, args)], cwd=tmp_path, capture_output=True, text=True, timeout=timeout
        )

    return _run


# Eight incidents in central London (lon/lat), three of them defective: a row without
# coordinates, one with an unparsable time, one at 0,0.
INCIDENTS_CSV = """\
id,lon,lat,time,time_end,category,weight
a1,-0.1276,51.5072,2023-03-01T16:10:00,,Robbery,1
a2,-0.1280,51.5075,2023-03-02T17:45:00,2023-03-02T18:30:00,Robbery,2
a3,-0.1265,51.5069,2023-04-12T21:00:00,,Violence and sexual offences,1
a4,-0.1290,51.5080,2023-05-20T23:30:00,,Public order,1
a5,-0.1250,51.5060,2023-06-01T15:20:00,,Violence and sexual offences,3
b1,,,2023-03-03T12:00:00,,Robbery,1
b2,-0.1277,51.5071,last Tuesday,,Robbery,1
b3,0,0,2023-03-04T12:00:00,,Public order,1
"""

# The same kind of data with projected columns under other names.
PROJECTED_CSV = """\
ref,easting,northing,received,kind
p1,530000,180000,2023-01-05 10:00,Robbery
p2,530120,180060,2023-01-06 11:00,Robbery
p3,529950,179870,2023-01-07 12:00,Public order
"""

AREA_GEOJSON = """\
{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
 "geometry": {"type": "Polygon", "coordinates": [[[-0.135, 51.503], [-0.120, 51.503], [-0.120, 51.512],
 [-0.135, 51.512], [-0.135, 51.503]]]}}]}
"""


@pytest.fixture()
def incidents_csv(tmp_path) -> Path:
    path = tmp_path / "incidents.csv"
    path.write_text(INCIDENTS_CSV)
    return path


@pytest.fixture()
def projected_csv(tmp_path) -> Path:
    path = tmp_path / "projected.csv"
    path.write_text(PROJECTED_CSV)
    return path


@pytest.fixture()
def area_geojson(tmp_path) -> Path:
    path = tmp_path / "area.geojson"
    path.write_text(AREA_GEOJSON)
    return path
