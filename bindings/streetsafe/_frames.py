"""pandas and geopandas adapters, imported lazily: streetsafe itself needs only numpy."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Tuple

import numpy as np

from . import _core
from ._time import TimePrecision

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ._incidents import Incidents

#: Column names recognised when no mapping is given (compared lower-case, spaces as underscores);
#: the same common names read_incidents recognises in files.
RECOGNISED_COLUMNS: Dict[str, Tuple[str, ...]] = {
    "lon": ("lon", "longitude", "lng", "long"),
    "lat": ("lat", "latitude"),
    "x": ("x", "easting"),
    "y": ("y", "northing"),
    "time": ("time", "datetime", "date", "timestamp", "month"),
    "time_end": ("time_end", "end_time", "time_to"),
    "category": ("category", "type", "crime_type", "offense", "offence"),
    "weight": ("weight",),
}

ROLES = ("x", "y", "lon", "lat", "time", "time_end", "category", "weight", "id")


def _import(name: str, purpose: str) -> Any:
    try:
        return __import__(name)
    except ImportError as e:  # pragma: no cover - depends on the installation
        raise ImportError(f"{purpose} needs {name}, which is not installed (Debian: python3-{name})") from e


def is_geodataframe(obj: Any) -> bool:
    """True for a geopandas GeoDataFrame, without importing geopandas (a GeoDataFrame cannot
    exist unless geopandas was imported)."""
    gpd = sys.modules.get("geopandas")
    return gpd is not None and isinstance(obj, gpd.GeoDataFrame)


def is_dataframe(obj: Any) -> bool:
    """True for a pandas DataFrame (GeoDataFrames included), without importing pandas."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(obj, pd.DataFrame)


def _normalise(name: Any) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def resolve_columns(frame_columns: Any, mapping: Mapping[str, str]) -> Dict[str, str]:
    """The role → column mapping: `mapping` as given (checked against the frame), or, when empty,
    the columns recognised by name."""
    present = list(frame_columns)
    unknown_roles = set(mapping) - set(ROLES)
    if unknown_roles:
        raise _core.InvalidInput(
            f"unknown column role(s) {sorted(unknown_roles)}; expected some of {', '.join(ROLES)}"
        )
    if mapping:
        missing = [c for c in mapping.values() if c not in present]
        if missing:
            raise _core.InvalidInput(f"the data frame has no column(s) {missing}; its columns are {present}")
        return dict(mapping)
    by_name = {_normalise(c): c for c in present}
    found: Dict[str, str] = {}
    for role, names in RECOGNISED_COLUMNS.items():
        for name in names:
            if name in by_name:
                found[role] = by_name[name]
                break
    return found


def _time_seconds(series: "pd.Series", zone: str, what: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """(start, end or None) as int64 local civil seconds; strings are parsed like file fields."""
    pd = _import("pandas", "reading a data frame")
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert(zone).dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.to_numpy(dtype="datetime64[ns]").astype("datetime64[s]").view(np.int64), None
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        texts = [None if pd.isna(v) else str(v) for v in series]
        start, end, _precision, bad = _core.parse_times(texts, zone)
        if len(bad):
            examples = ", ".join(f"row {int(i)}: {texts[int(i)]!r}" for i in bad[:3])
            raise _core.InvalidInput(
                f"column {what!r}: {len(bad)} value(s) cannot be parsed as times ({examples}); "
                "fix or drop those rows, or convert the column with pandas.to_datetime"
            )
        return start, end
    raise _core.InvalidInput(
        f"column {what!r} has dtype {series.dtype}; expected datetimes or time strings"
    )


def dataframe_inputs(
    frame: Any,
    mapping: Mapping[str, str],
    source_crs: Optional[str],
    time_zone: Optional[str],
) -> Dict[str, Any]:
    """Keyword arguments for _core.incidents_from_arrays from a DataFrame or GeoDataFrame."""
    pd = _import("pandas", "reading a data frame")
    if "id" in mapping:
        raise _core.InvalidInput(
            "from_dataframe does not carry identifiers: join on Incidents.source_row, which is the "
            "row position in the data frame"
        )
    columns = resolve_columns(frame.columns, mapping)
    # Frames made by Incidents.to_pandas say what they hold.
    zone = time_zone or frame.attrs.get("time_zone")
    if zone is None and "time" in columns:
        tz = getattr(frame[columns["time"]].dtype, "tz", None)
        zone = str(tz) if tz is not None else None
    zone = zone or "UTC"

    if is_geodataframe(frame) and not {"x", "y", "lon", "lat"} & set(mapping):
        geometry = frame.geometry
        if len(geometry) and not geometry.geom_type.dropna().eq("Point").all():
            kinds = sorted(set(geometry.geom_type.dropna()))
            raise _core.InvalidInput(f"the GeoDataFrame must hold points, not {kinds}")
        empty = geometry.isna() | geometry.is_empty
        x = np.where(empty, np.nan, geometry.x.to_numpy(dtype=float, na_value=np.nan))
        y = np.where(empty, np.nan, geometry.y.to_numpy(dtype=float, na_value=np.nan))
        if source_crs is None:
            if frame.crs is None:
                raise _core.InvalidInput("the GeoDataFrame has no CRS; set it (gdf.set_crs) or give source_crs=")
            authority = frame.crs.to_authority()
            source_crs = ":".join(authority) if authority else frame.crs.to_wkt()
    elif "x" in columns and "y" in columns:
        source_crs = source_crs or frame.attrs.get("crs")
        if source_crs is None:
            raise _core.InvalidInput(
                f"projected coordinates ({columns['x']!r}, {columns['y']!r}) need source_crs=, e.g. 'EPSG:27700'"
            )
        x, y = frame[columns["x"]], frame[columns["y"]]
    elif "lon" in columns and "lat" in columns:
        source_crs = source_crs or "EPSG:4326"
        x, y = frame[columns["lon"]], frame[columns["lat"]]
    else:
        raise _core.InvalidInput(
            "no coordinate columns: map x=/y= or lon=/lat= (columns are "
            f"{list(frame.columns)})"
        )

    inputs: Dict[str, Any] = {
        "x": pd.to_numeric(pd.Series(x), errors="coerce").to_numpy(dtype=float, na_value=np.nan),
        "y": pd.to_numeric(pd.Series(y), errors="coerce").to_numpy(dtype=float, na_value=np.nan),
        "crs": source_crs,
        "time": None,
        "time_end": None,
        "weight": None,
        "category": None,
        "categories": [],
        "time_zone": zone,
    }
    if "time" in columns:
        start, end = _time_seconds(frame[columns["time"]], zone, columns["time"])
        inputs["time"] = start
        inputs["time_end"] = end
    if "time_end" in columns:
        end, _ = _time_seconds(frame[columns["time_end"]], zone, columns["time_end"])
        inputs["time_end"] = end
    if inputs["time_end"] is not None and inputs["time"] is not None:
        # A missing end means an instant: the end is the start.
        inputs["time_end"] = np.where(inputs["time_end"] == _core.NO_TIME, inputs["time"], inputs["time_end"])
    if "weight" in columns:
        inputs["weight"] = pd.to_numeric(frame[columns["weight"]], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
    if "category" in columns:
        values = frame[columns["category"]]
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes, categories = values.cat.codes.to_numpy(), values.cat.categories
        else:
            codes, categories = pd.factorize(values, sort=True)
        inputs["category"] = np.asarray(codes, dtype=np.int32)
        inputs["categories"] = [str(c) for c in categories]
    return inputs


def incidents_to_pandas(incidents: "Incidents") -> "pd.DataFrame":
    """A DataFrame with one row per incident (see Incidents.to_pandas)."""
    pd = _import("pandas", "Incidents.to_pandas")
    columns: Dict[str, Any] = {}
    if incidents.ids:
        columns["id"] = incidents.ids
    columns["x"] = incidents.x
    columns["y"] = incidents.y
    columns["time"] = incidents.time
    columns["time_end"] = incidents.time_end
    columns["precision"] = pd.Categorical.from_codes(
        incidents.precision.astype(np.int8), [p.name.lower() for p in TimePrecision]
    )
    columns["category"] = pd.Categorical.from_codes(incidents.category, incidents.categories)
    columns["weight"] = incidents.weight
    columns["source_row"] = incidents.source_row
    frame = pd.DataFrame(columns)
    frame.attrs["crs"] = incidents.crs_authority or incidents.crs
    frame.attrs["time_zone"] = incidents.time_zone
    return frame


def incidents_to_geopandas(incidents: "Incidents") -> Any:
    """A GeoDataFrame of points in the incidents' working CRS (see Incidents.to_geopandas)."""
    gpd = _import("geopandas", "Incidents.to_geopandas")
    frame = incidents_to_pandas(incidents)
    geometry = gpd.points_from_xy(frame["x"], frame["y"])
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=incidents.crs_authority or incidents.crs)
