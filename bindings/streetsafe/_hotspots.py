"""Hot spots: incident counts per cell, Getis-Ord Gi* (grids, areas, points) and hotspot polygons
as a table that converts to geopandas; GeoPackage output styled for QGIS."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from . import _core
from ._frames import is_dataframe
from ._grid import Grid
from ._incidents import Incidents, from_dataframe

PathLike = Union[str, "os.PathLike[str]"]


def _incidents(data: Any, function: str) -> Incidents:
    if is_dataframe(data):
        data = from_dataframe(data)
    if not isinstance(data, Incidents):
        raise TypeError(f"{function} needs Incidents or a data frame, not {type(data).__name__}")
    return data


class FeatureTable:
    """Features as ISO WKB geometries plus attribute columns, in the order C++ returned them.

    :attr:`columns` is a dict of 1-D numpy arrays (numbers, read-only views without copies) and
    lists (text); :attr:`wkb` a list of ``bytes``. :meth:`to_geopandas` and :meth:`to_pandas`
    import pandas / geopandas / shapely only when called.
    """

    __slots__ = ("_core",)

    def __init__(self, core: Any) -> None:
        self._core = core

    def __len__(self) -> int:
        return len(self._core)

    def __repr__(self) -> str:
        return f"<streetsafe.FeatureTable: {len(self)} features, columns {', '.join(self.column_names)}>"

    @property
    def column_names(self) -> List[str]:
        """The attribute columns' names, in order."""
        return list(self._core.column_names)

    @property
    def columns(self) -> Dict[str, Any]:
        """Column name → numpy array (numbers) or list (text)."""
        return self._core.columns()

    def __getitem__(self, name: str) -> Any:
        """One column by name."""
        return self.columns[name]

    @property
    def wkb(self) -> List[bytes]:
        """Geometries as ISO WKB, in :attr:`crs`."""
        return self._core.wkb

    @property
    def crs(self) -> str:
        """CRS of the geometries, as WKT."""
        return self._core.crs_wkt

    def to_dict(self) -> Dict[str, Any]:
        """The columns plus ``"wkb"``."""
        out = dict(self.columns)
        out["wkb"] = self.wkb
        return out

    def to_pandas(self) -> Any:
        """The attribute columns as a pandas DataFrame (geometries left out)."""
        import pandas as pd

        return pd.DataFrame(self.columns)

    def to_geopandas(self) -> Any:
        """A geopandas GeoDataFrame (needs geopandas and shapely)."""
        import geopandas as gpd
        import shapely

        geometry = shapely.from_wkb(np.array(self.wkb, dtype=object)) if len(self) else []
        return gpd.GeoDataFrame(self.columns, geometry=list(geometry), crs=self.crs or None)


class GiStarResult:
    """Gi* per feature: ``z``, ``p``, ``p_fdr`` (Benjamini–Hochberg q-values), ``gi_bin`` and
    ``gi_bin_fdr`` (ArcGIS' −3 … +3 classes), ``neighbours``; :attr:`classes` is the classification
    chosen by ``fdr``. For grid input the arrays are row-major over all cells (NaN / 0 where nodata)
    and :attr:`z_grid` / :attr:`class_grid` are :class:`Grid` results ready for GeoTIFF.
    """

    __slots__ = ("_core", "z_grid", "class_grid")

    def __init__(self, core: Any, z_grid: Optional[Grid] = None, class_grid: Optional[Grid] = None) -> None:
        self._core = core
        self.z_grid = z_grid
        self.class_grid = class_grid

    def __repr__(self) -> str:
        hood = (
            f"k={self.k_neighbours}" if self.k_neighbours else f"distance band {self.distance_band_m:g} m"
        )
        return f"<streetsafe.GiStarResult: {self.features} features, {hood}, fdr={self.fdr}>"

    def _shaped(self, values: np.ndarray) -> np.ndarray:
        if self.z_grid is None:
            return values
        return values.reshape(self.z_grid.shape)

    z = property(lambda self: self._shaped(self._core.z), doc="Gi* z-scores.")
    p = property(lambda self: self._shaped(self._core.p), doc="Two-sided p-values.")
    p_fdr = property(lambda self: self._shaped(self._core.p_fdr), doc="FDR-adjusted p-values (q-values).")
    gi_bin = property(lambda self: self._shaped(self._core.gi_bin), doc="Classes from raw p-values.")
    gi_bin_fdr = property(lambda self: self._shaped(self._core.gi_bin_fdr), doc="Classes from q-values.")
    neighbours = property(lambda self: self._shaped(self._core.neighbours), doc="Neighbourhood sizes.")
    features = property(lambda self: self._core.features, doc="Number of features.")
    isolated = property(lambda self: self._core.isolated, doc="Features without neighbours.")
    mean = property(lambda self: self._core.mean, doc="Mean value over the features.")
    sd = property(lambda self: self._core.sd, doc="Population standard deviation of the values.")
    distance_band_m = property(lambda self: self._core.distance_band_m, doc="Band used (0 under k).")
    k_neighbours = property(lambda self: self._core.k_neighbours, doc="k used (0 under a band).")
    fdr = property(lambda self: self._core.fdr, doc="Whether classes use the FDR correction.")

    @property
    def classes(self) -> np.ndarray:
        """``gi_bin_fdr`` when ``fdr`` else ``gi_bin``."""
        return self.gi_bin_fdr if self.fdr else self.gi_bin


def count_grid(
    data: Union[Incidents, Any],
    *,
    cell: float = 100.0,
    like: Optional[Grid] = None,
    bounds: Optional[Tuple[float, float, float, float]] = None,
) -> Grid:
    """Incident weights summed per cell: on ``like``'s grid and study-area mask, or on a new grid of
    ``cell``-metre cells covering ``bounds`` (default: the incidents' extent plus half a cell).
    Cells are half-open: a point on an edge goes to the eastern or southern cell."""
    incidents = _incidents(data, "count_grid")
    if like is not None:
        return Grid(_core.count_grid_like(incidents._core, like._core))
    return Grid(
        _core.count_grid(incidents._core, float(cell), None if bounds is None else tuple(map(float, bounds)))
    )


def gi_star(
    features: Any,
    values: Any = None,
    *,
    distance_band: float = 0.0,
    k: int = 0,
    fdr: bool = True,
    x: Any = None,
    y: Any = None,
    threads: int = 0,
) -> GiStarResult:
    """Getis-Ord Gi* hot and cold spots, as ArcGIS' Hot Spot Analysis.

    Args:
        features: a :class:`Grid` of values (e.g. :func:`count_grid`; ``values`` unused), an
            :class:`AreaLayer` with one value per area in ``values``, or ``None`` with point
            coordinates ``x``, ``y`` and ``values``.
        distance_band: neighbours within this many metres (between cell centres / centroids).
        k: instead, the k nearest neighbours. Both 0: an automatic band (reported in the result).
        fdr: whether :attr:`GiStarResult.classes` uses the False Discovery Rate correction.
        threads: worker threads, 0 for all; the result never depends on it.

    Raises:
        InvalidInput: fewer than 3 features, all values equal, or bad options.
    """
    from ._areas import AreaLayer

    band, k, fdr, threads = float(distance_band), int(k), bool(fdr), int(threads)
    if isinstance(features, Grid):
        core, z, classes = _core.gi_star_grid(features._core, band, k, fdr, threads)
        return GiStarResult(core, Grid(z), Grid(classes))
    if isinstance(features, AreaLayer):
        if values is None:
            raise _core.InvalidInput("gi_star of areas needs one value per area in values=")
        return GiStarResult(
            _core.gi_star_areas(features._core, np.asarray(values, dtype=np.float64), band, k, fdr, threads)
        )
    if features is None and x is not None and y is not None and values is not None:
        return GiStarResult(
            _core.gi_star_points(
                np.asarray(x, dtype=np.float64),
                np.asarray(y, dtype=np.float64),
                np.asarray(values, dtype=np.float64),
                band,
                k,
                fdr,
                threads,
            )
        )
    raise TypeError("gi_star needs a Grid, an AreaLayer with values=, or x=, y= and values=")


def fdr_adjust(p: Any) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values); NaNs stay NaN."""
    return np.asarray(_core.fdr_adjust(np.asarray(p, dtype=np.float64)))


def hotspot_polygons(
    surface: Grid,
    incidents: Union[Incidents, Any],
    *,
    top_percent: float = 5.0,
    gi_star: bool = False,
    threshold: Optional[float] = None,
    distance_band: float = 0.0,
    k: int = 0,
    fdr: bool = True,
    min_gi_bin: int = 2,
    min_cells: int = 1,
    threads: int = 0,
) -> FeatureTable:
    """Hotspot polygons dissolved from the hottest cells of ``surface`` (a KDE, counts, ...).

    Cells are chosen as the ``top_percent`` of the study area's cells (default), or with
    ``gi_star=True`` those whose Gi* class of the incident counts is at least ``min_gi_bin``
    (neighbourhood from ``distance_band`` / ``k``, ``fdr``), or with ``threshold`` those at or above
    it. Returns one feature per 4-connected polygon, ranked by incidents inside, with columns
    rank, cells, area_km2, incidents, incidents_per_km2, incidents_pct, cum_incidents_pct,
    area_pct, pai, mean_value and max_value; the totals are in the table's ``summary`` dict.
    """
    if gi_star and threshold is not None:
        raise _core.InvalidInput("hotspot_polygons: give gi_star=True or threshold=, not both")
    selection = "gi_star" if gi_star else ("at_least" if threshold is not None else "top_percent")
    core, summary = _core.hotspot_polygons(
        surface._core,
        _incidents(incidents, "hotspot_polygons")._core,
        selection,
        float(top_percent),
        float(distance_band),
        int(k),
        bool(fdr),
        int(min_gi_bin),
        float(threshold or 0.0),
        int(min_cells),
        int(threads),
    )
    table = HotspotTable(core)
    if summary.get("gi") is not None:
        summary["gi"] = GiStarResult(summary["gi"])
    table.summary = summary
    return table


class HotspotTable(FeatureTable):
    """Hotspot polygons (a :class:`FeatureTable`) with the ``summary`` of the selection."""

    __slots__ = ("summary",)


def write_hotspots_gpkg(
    path: PathLike, table: FeatureTable, *, layer: str = "hotspots", style_field: str = "pai", classes: int = 5
) -> None:
    """Write hotspot polygons to a GeoPackage layer with a graduated QGIS style on ``style_field``
    (stored as the layer's default style in ``layer_styles``)."""
    _core.write_hotspots_gpkg(os.fspath(path), layer, table._core, style_field, int(classes))
