"""pytest set-up for the Python package's tests.

Run as ``PYTHONPATH=<build>/python /usr/bin/python3 -m pytest tests/python``. Without a
PYTHONPATH the package is looked for in ``$STREETSAFE_PYTHONPATH`` or, failing that, in
``<repo>/build/python`` (appended, so an explicit PYTHONPATH always wins).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]

if os.environ.get("STREETSAFE_PYTHONPATH"):
    sys.path.insert(0, os.environ["STREETSAFE_PYTHONPATH"])
else:
    sys.path.append(str(REPO / "build" / "python"))


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def demo_csv() -> Path:
    return REPO / "data" / "demo_incidents.csv"


@pytest.fixture(scope="session")
def demo(demo_csv):
    import streetsafe as ss

    return ss.read_incidents(demo_csv, time_zone="Europe/London")


@pytest.fixture()
def london_points():
    """A few incidents in British National Grid coordinates (central London), with weights."""
    x = np.array([530000.0, 530120.0, 529950.0, 530400.0, 530210.0])
    y = np.array([180000.0, 180060.0, 179870.0, 180300.0, 179990.0])
    w = np.array([1.0, 2.0, 1.0, 0.5, 3.0])
    return x, y, w
