"""Incidents: reading them from files, arrays and data frames, and looking at them as numpy
arrays (shared with C++, no copies) or data frames."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

from . import _core
from ._frames import dataframe_inputs, incidents_to_geopandas, incidents_to_pandas
from ._time import TimeLike, to_local_seconds

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

PathLike = Union[str, "os.PathLike[str]"]

#: Why a row can be skipped: the names ``LoadReport.count`` accepts.
SKIP_REASONS = _core.SKIP_REASONS

LoadReport = _core.LoadReport
LoadReport.__module__ = "streetsafe"


class Incidents:
    """Geocoded incidents as a struct of arrays in a projected working CRS (metres).

    The array properties are read-only numpy views of the C++ vectors: no copies, and the views
    keep the data alive. Times are local civil times of :attr:`time_zone` as ``datetime64[s]``
    (NaT where none was recorded). Build one with :func:`read_incidents`,
    :func:`incidents_from_arrays` or :func:`from_dataframe`.
    """

    __slots__ = ("_core", "_report")

    def __init__(self, core: Any, report: Optional[LoadReport] = None) -> None:
        self._core = core
        self._report = report

    def __len__(self) -> int:
        return len(self._core)

    def __repr__(self) -> str:
        return (
            f"<streetsafe.Incidents: {len(self):,} in {self.crs_name or 'unknown CRS'}, "
            f"{len(self.categories)} categories, times in {self.time_zone}>"
        )

    @property
    def report(self) -> Optional[LoadReport]:
        """The :class:`LoadReport` of the read that made these incidents (rows read, kept and
        skipped with reasons); None for a selection."""
        return self._report

    @property
    def x(self) -> np.ndarray:
        """Easting in the working CRS, metres (float64)."""
        return self._core.x

    @property
    def y(self) -> np.ndarray:
        """Northing in the working CRS, metres (float64)."""
        return self._core.y

    @property
    def time(self) -> np.ndarray:
        """Start (or only) time, local civil time, ``datetime64[s]``; NaT when none."""
        return self._core.time

    @property
    def time_end(self) -> np.ndarray:
        """End of the time range (equal to :attr:`time` for an instant), ``datetime64[s]``."""
        return self._core.time_end

    @property
    def precision(self) -> np.ndarray:
        """How precisely each time is known: uint8 codes of :class:`TimePrecision`."""
        return self._core.precision

    @property
    def category(self) -> np.ndarray:
        """Category codes (int32) indexing :attr:`categories`; -1 where none was recorded."""
        return self._core.category

    @property
    def categories(self) -> List[str]:
        """The category dictionary."""
        return self._core.categories

    @property
    def weight(self) -> np.ndarray:
        """Weight of each incident (float64), 1 unless a weight column was given."""
        return self._core.weight

    @property
    def source_row(self) -> np.ndarray:
        """Row or feature number in the source (int64), as in the load report; for
        :func:`from_dataframe`, the row position in the data frame."""
        return self._core.source_row

    @property
    def ids(self) -> List[str]:
        """Source identifiers; empty when no id column was mapped."""
        return self._core.ids

    @property
    def crs(self) -> str:
        """The working CRS of x and y as WKT."""
        return self._core.crs_wkt

    @property
    def crs_name(self) -> str:
        """The working CRS's name, e.g. ``"OSGB36 / British National Grid"``."""
        return self._core.crs_name

    @property
    def crs_authority(self) -> str:
        """The working CRS's identifier, e.g. ``"EPSG:27700"``; empty when it has none."""
        return self._core.crs_authority

    @property
    def time_zone(self) -> str:
        """IANA zone of the local times."""
        return self._core.time_zone

    def total_weight(self) -> float:
        """Sum of the weights."""
        return self._core.total_weight()

    def select(self, mask: Any) -> "Incidents":
        """The incidents where the boolean ``mask`` is true, e.g.
        ``inc.select(inc.category == inc.categories.index("Robbery"))``."""
        mask = np.asarray(mask, dtype=bool)
        return Incidents(_core.select(self._core, mask))

    def to_pandas(self) -> "pd.DataFrame":
        """A pandas DataFrame with one row per incident: ``id`` (when mapped), ``x``, ``y``,
        ``time``, ``time_end``, ``precision`` and ``category`` (Categoricals), ``weight``,
        ``source_row``. ``df.attrs`` holds ``crs`` and ``time_zone``."""
        return incidents_to_pandas(self)

    def to_geopandas(self) -> Any:
        """A geopandas GeoDataFrame of points in the working CRS (needs geopandas)."""
        return incidents_to_geopandas(self)


def _columns(columns: Optional[Mapping[str, str]], extra: Mapping[str, str]) -> Dict[str, str]:
    merged = dict(columns or {})
    merged.update({k: v for k, v in extra.items() if v is not None})
    return merged


def read_incidents(
    path: PathLike,
    *,
    columns: Optional[Mapping[str, str]] = None,
    layer: Optional[str] = None,
    source_crs: Optional[str] = None,
    crs: Optional[str] = None,
    time_zone: Optional[str] = None,
    categories: Optional[Sequence[str]] = None,
    time_from: Optional[TimeLike] = None,
    time_to: Optional[TimeLike] = None,
    strict: bool = False,
    **column_kwargs: str,
) -> Incidents:
    """Read incidents from any GDAL/OGR vector source.

    CSV (also ``.csv.gz``), GeoPackage, GeoJSON, Shapefile or a connection string such as
    ``PG:dbname=...``. police.uk and SLMPD headers and common column names (``lon``/``lat``,
    ``x``/``y``, ``time``, ``category``, ...) are recognised; otherwise map them.

    Args:
        path: file or connection string.
        columns: which column holds what, e.g. ``{"lon": "Longitude", "lat": "Latitude"}``;
            roles are ``x, y, lon, lat, time, time_end, category, weight, id``. The same mapping
            can be given as keyword arguments (``lon="Longitude"``).
        layer: layer of a multi-layer source (default: the first).
        source_crs: CRS of the coordinates (default: the layer's, else EPSG:4326 for lon/lat).
        crs: working CRS (default: EPSG:27700 in Great Britain, else the UTM zone of the data).
        time_zone: IANA zone of the times (default: Europe/London for police.uk, UTC else).
        categories: keep only these category values.
        time_from: keep rows whose time range starts at or after this (inclusive).
        time_to: ... and ends before this (exclusive; ``"2023-07"`` means before 1 July 2023).
            Strings are parsed like the data (the start of a month or date); naive datetimes are
            local times of the data.
        strict: raise :class:`InvalidInput` at the first row that would be skipped.

    Returns:
        The :class:`Incidents`, with the :class:`LoadReport` as ``incidents.report``.

    Raises:
        IoError: the source cannot be opened. InvalidInput: required columns are missing, an
        option is bad, or (strict) a row is unusable. CrsError: a CRS cannot be resolved.
    """
    core, report = _core.read_incidents(
        os.fspath(path),
        _columns(columns, column_kwargs),
        layer or "",
        source_crs or "",
        crs or "",
        time_zone or "",
        list(categories or []),
        to_local_seconds(time_from, time_zone, "time_from"),
        to_local_seconds(time_to, time_zone, "time_to"),
        strict,
    )
    return Incidents(core, report)


def _seconds_array(values: Any, what: str) -> Optional[np.ndarray]:
    """datetime64 (any unit) or int64 seconds as an int64 array of local civil seconds."""
    if values is None:
        return None
    a = np.asarray(values)
    if np.issubdtype(a.dtype, np.datetime64):
        return a.astype("datetime64[s]").view(np.int64)
    if np.issubdtype(a.dtype, np.integer):
        return a.astype(np.int64, copy=False)
    raise _core.InvalidInput(f"{what} must be datetime64 values (local times), not {a.dtype}")


def incidents_from_arrays(
    x: Any,
    y: Any,
    crs: str,
    *,
    time: Any = None,
    time_end: Any = None,
    weight: Any = None,
    category: Any = None,
    categories: Optional[Sequence[str]] = None,
    time_zone: str = "UTC",
    working_crs: Optional[str] = None,
) -> Incidents:
    """Incidents from coordinate arrays, projected to a working CRS as :func:`read_incidents` does.

    Args:
        x, y: coordinates in ``crs`` (longitude/easting first, whatever the CRS's axis order).
        crs: CRS of x and y, e.g. ``"EPSG:4326"`` or ``"EPSG:27700"``.
        time, time_end: ``datetime64`` local times of ``time_zone`` (NaT for none).
        weight: float weights (default 1).
        category: integer codes indexing ``categories`` (-1 for none); or, with ``categories``
            omitted, any values, which are factorised (sorted) into codes and a dictionary.
        time_zone: IANA zone of the times.
        working_crs: default: automatic (EPSG:27700 in Great Britain, else UTM).

    Rows with unusable coordinates are skipped and listed in ``incidents.report``.
    """
    codes = None
    names: List[str] = list(categories or [])
    if category is not None:
        category = np.asarray(category)
        if categories is None and not np.issubdtype(category.dtype, np.integer):
            names_array, codes = np.unique(category.astype(str), return_inverse=True)
            names = [str(n) for n in names_array]
        codes = np.asarray(codes if codes is not None else category, dtype=np.int32)
    core, report = _core.incidents_from_arrays(
        np.asarray(x, dtype=np.float64),
        np.asarray(y, dtype=np.float64),
        crs,
        _seconds_array(time, "time"),
        _seconds_array(time_end, "time_end"),
        None if weight is None else np.asarray(weight, dtype=np.float64),
        codes,
        names,
        time_zone,
        working_crs or "",
    )
    return Incidents(core, report)


def from_dataframe(
    frame: Any,
    *,
    columns: Optional[Mapping[str, str]] = None,
    source_crs: Optional[str] = None,
    crs: Optional[str] = None,
    time_zone: Optional[str] = None,
    **column_kwargs: str,
) -> Incidents:
    """Incidents from a pandas DataFrame or a geopandas GeoDataFrame.

    A GeoDataFrame gives its point geometries and CRS. A DataFrame gives coordinate columns,
    mapped as in :func:`read_incidents` (``columns={"lon": "Longitude", ...}`` or
    ``lon="Longitude"``) or recognised by name (``lon``/``longitude``, ``lat``/``latitude``,
    ``x``/``easting``, ``y``/``northing``, ``time``, ``time_end``, ``category``, ``weight``).

    Times may be datetime columns (tz-aware ones are converted to ``time_zone``) or strings in
    any form :func:`parse_time` accepts; categories any values or a Categorical.
    ``incidents.source_row`` is the row position in the frame.

    Args:
        frame: the data frame.
        columns: role → column mapping (see :func:`read_incidents`); ``id`` is not carried.
        source_crs: CRS of the coordinate columns (default EPSG:4326 for lon/lat; required for
            x/y; a GeoDataFrame's own CRS otherwise).
        crs: working CRS (default automatic).
        time_zone: IANA zone of the times (default: a tz-aware column's zone, else UTC).
    """
    inputs = dataframe_inputs(frame, _columns(columns, column_kwargs), source_crs, time_zone)
    return incidents_from_arrays(
        inputs["x"],
        inputs["y"],
        inputs["crs"],
        time=None if inputs["time"] is None else inputs["time"].view("datetime64[s]"),
        time_end=None if inputs["time_end"] is None else inputs["time_end"].view("datetime64[s]"),
        weight=inputs["weight"],
        category=inputs["category"],
        categories=inputs["categories"],
        time_zone=inputs["time_zone"],
        working_crs=crs,
    )
