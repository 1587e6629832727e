"""Predictive accuracy of hotspot maps (hit rate, PAI, PEI, RRI), temporal train/test splits and
bandwidth selection for kernel density."""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core
from ._grid import Grid
from ._hotspots import _incidents
from ._incidents import Incidents
from ._time import TimeLike, to_local_seconds

#: Methods select_bandwidth accepts.
BANDWIDTH_METHODS = ("scott", "silverman", "arcgis", "likelihood", "diggle", "pai")


def evaluate_hotspots(
    surface: Grid, test: Union[Incidents, Any], *, top_percent: float = 5.0, train: Optional[Incidents] = None
) -> Dict[str, Any]:
    """Hit rate, PAI, PEI (and RRI with ``train``) of the top ``top_percent`` of ``surface``'s cells
    for the ``test`` incidents, with the areas, counts and coverage reports behind them."""
    return _core.evaluate_hotspots(
        surface._core,
        _incidents(test, "evaluate_hotspots")._core,
        float(top_percent) / 100.0,
        None if train is None else train._core,
    )


def pai(surface: Grid, test: Union[Incidents, Any], *, top_percent: float = 5.0) -> float:
    """The Predictive Accuracy Index (Chainey et al. 2008) of the top ``top_percent`` of the cells:
    share of the test incidents in them over their share of the study area."""
    return float(evaluate_hotspots(surface, test, top_percent=top_percent)["pai"])


def pai_curve(
    surface: Grid,
    test: Union[Incidents, Any],
    *,
    percents: Optional[Sequence[float]] = None,
    train: Optional[Incidents] = None,
) -> Dict[str, np.ndarray]:
    """Hit rate, PAI, PAI*, PEI (and RRI with ``train``) at each share of the study area in
    ``percents`` (default 0.5, 1, ... 20 %), as a dict of numpy arrays with a ``percent`` key;
    ``pandas.DataFrame(curve)`` makes it a table."""
    shares = None if percents is None else [float(p) / 100.0 for p in percents]
    curve, _test, _train = _core.evaluate_hotspot_curve(
        surface._core, _incidents(test, "pai_curve")._core, shares, None if train is None else train._core
    )
    curve = dict(curve)
    curve["percent"] = curve["area_share"] * 100.0
    return curve


def split_by_time(
    incidents: Incidents,
    train_from: TimeLike,
    train_to: TimeLike,
    test_to: TimeLike,
    *,
    time_zone: Optional[str] = None,
) -> Tuple[Incidents, Incidents, Dict[str, Any]]:
    """Incidents whose whole time range lies in [train_from, train_to) and in [train_to, test_to),
    and a report of the rest (before, after, straddling the split, without a time)."""
    zone = time_zone or incidents.time_zone
    names = ("train_from", "train_to", "test_to")
    t = [to_local_seconds(v, zone, name) for v, name in zip((train_from, train_to, test_to), names)]
    train, test, report = _core.split_by_time(incidents._core, *t)
    return Incidents(train), Incidents(test), report


def select_bandwidth(
    incidents: Union[Incidents, Any],
    *,
    method: str = "likelihood",
    kernel: str = "quartic",
    test: Optional[Incidents] = None,
    cell: float = 25.0,
    top_percent: float = 5.0,
    threads: int = 0,
) -> Dict[str, Any]:
    """A KDE bandwidth for ``kernel`` by ``method``: ``"scott"``, ``"silverman"``, ``"arcgis"``,
    ``"likelihood"`` (cross-validation, spatstat's bw.ppl), ``"diggle"`` (bw.diggle) or ``"pai"``
    (the best PAI on the held-out ``test`` incidents at ``top_percent``, KDEs of ``cell`` metres).
    Returns a dict with ``bandwidth_m`` (for ``kernel``), candidates, scores, detail and metadata
    to store with the raster."""
    return _core.select_bandwidth(
        _incidents(incidents, "select_bandwidth")._core,
        method,
        kernel,
        None if test is None else test._core,
        float(cell),
        float(top_percent) / 100.0,
        int(threads),
    )
