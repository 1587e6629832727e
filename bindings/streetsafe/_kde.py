"""Kernel density estimation, with the GIL released while C++ computes."""

from __future__ import annotations

from typing import Any, Callable, Optional, Tuple, Union

from . import _core
from ._frames import is_dataframe
from ._grid import Grid
from ._incidents import Incidents, from_dataframe

#: Kernel names kde accepts ("biweight" is the quartic's other name).
KERNELS = ("quartic", "epanechnikov", "triangular", "uniform", "gaussian")

ProgressCallback = Callable[[float, str], Any]


def kde(
    data: Union[Incidents, Any],
    *,
    bandwidth: float = 250.0,
    cell: float = 25.0,
    kernel: str = "quartic",
    output: str = "density",
    normalisation: str = "discrete",
    bounds: Optional[Tuple[float, float, float, float]] = None,
    method: str = "exact",
    threads: int = 0,
    progress: Optional[ProgressCallback] = None,
    max_cells: Optional[int] = None,
) -> Grid:
    """Kernel density of the incidents' weights on a grid in their working CRS.

    Args:
        data: :class:`Incidents`, or a pandas DataFrame / geopandas GeoDataFrame read with
            :func:`from_dataframe`'s defaults.
        bandwidth: metres; the support radius of the compact kernels, the standard deviation of
            the Gaussian.
        cell: cell edge, metres.
        kernel: ``"quartic"`` (default, as QGIS, ArcGIS and CrimeStat), ``"epanechnikov"``,
            ``"triangular"``, ``"uniform"`` or ``"gaussian"``.
        output: ``"density"`` (incidents per km²) or ``"count"`` (expected incidents per cell).
        normalisation: ``"discrete"`` (each kernel's cell samples sum exactly to its weight) or
            ``"continuous"`` (the kernel sampled at cell centres, as QGIS' heatmap).
        bounds: (min_x, min_y, max_x, max_y) in the working CRS; default: the incidents' extent
            padded by the kernel's support.
        method: ``"exact"`` or ``"brute_force"`` (every kernel at every cell, for checks).
        threads: worker threads, 0 for all; the result never depends on it.
        progress: called as ``progress(fraction, stage)`` from the calling thread, fractions
            rising to 1; raising from it (or Ctrl-C) stops the computation and re-raises.
            For a tqdm bar: ``bar = tqdm(total=1); progress=lambda f, s: bar.update(f - bar.n)``.
        max_cells: refuse grids larger than this (default 400 million cells, 3.2 GB).

    Returns:
        A :class:`Grid` with units, metadata (kernel, bandwidth, ...) and CRS.

    Raises:
        InvalidInput: no incidents, or a bad option (named in the message).
    """
    if is_dataframe(data):
        data = from_dataframe(data)
    if not isinstance(data, Incidents):
        raise TypeError(f"kde needs Incidents or a data frame, not {type(data).__name__}")
    core = _core.kde(
        data._core,
        kernel,
        float(bandwidth),
        float(cell),
        output,
        normalisation,
        method,
        None if bounds is None else tuple(float(b) for b in bounds),
        max_cells,
        int(threads),
        progress,
    )
    return Grid(core)
