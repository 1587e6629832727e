"""streetsafe: hotspots of violent incidents, from geocoded records to density rasters.

Read incidents from a file (:func:`read_incidents`), arrays (:func:`incidents_from_arrays`) or
a pandas / geopandas data frame (:func:`from_dataframe`), compute a kernel density
(:func:`kde`) and write it as a GeoTIFF for QGIS (:meth:`Grid.to_geotiff`)::

    import numpy as np
    import streetsafe as ss

    incidents = ss.read_incidents("data/demo_incidents.csv")
    print(incidents.report)                  # rows skipped, and why
    grid = ss.kde(incidents, bandwidth=250, cell=25)
    density = np.asarray(grid)               # (rows, cols) view, no copy
    grid.to_geotiff("hotspots.tif")

Arrays are shared with the C++ library without copies; computations release the GIL. pandas,
geopandas and matplotlib are imported only by the functions that need them.
"""

from __future__ import annotations

from typing import Dict

from . import _core
from ._core import Cancelled, CrsError, Error, InvalidInput, IoError
from ._areas import AreaLayer, AreaRates, area_rates, join_population, read_areas, write_area_rates_gpkg
from ._evaluate import (
    BANDWIDTH_METHODS,
    evaluate_hotspots,
    pai,
    pai_curve,
    select_bandwidth,
    split_by_time,
)
from ._grid import Grid, layer_bounds, read_raster
from ._hotspots import (
    FeatureTable,
    GiStarResult,
    HotspotTable,
    count_grid,
    fdr_adjust,
    gi_star,
    hotspot_polygons,
    write_hotspots_gpkg,
)
from ._incidents import (
    SKIP_REASONS,
    Incidents,
    LoadReport,
    from_dataframe,
    incidents_from_arrays,
    read_incidents,
)
from ._kde import KERNELS, kde
from ._presets import (
    SeverityWeights,
    apply_severity_weights,
    preset,
    preset_categories,
    preset_names,
    read_severity_weights,
    select_preset,
)
from ._time import TimePrecision, TimeRange, parse_time

__version__: str = _core.__version__

__all__ = [
    "AreaLayer",
    "AreaRates",
    "BANDWIDTH_METHODS",
    "Cancelled",
    "CrsError",
    "Error",
    "FeatureTable",
    "GiStarResult",
    "Grid",
    "HotspotTable",
    "Incidents",
    "InvalidInput",
    "IoError",
    "KERNELS",
    "LoadReport",
    "SKIP_REASONS",
    "SeverityWeights",
    "TimePrecision",
    "TimeRange",
    "__version__",
    "apply_severity_weights",
    "area_rates",
    "count_grid",
    "crs_info",
    "evaluate_hotspots",
    "fdr_adjust",
    "from_dataframe",
    "gi_star",
    "hotspot_polygons",
    "incidents_from_arrays",
    "join_population",
    "kde",
    "layer_bounds",
    "pai",
    "pai_curve",
    "parse_time",
    "preset",
    "preset_categories",
    "preset_names",
    "read_areas",
    "read_incidents",
    "read_raster",
    "read_severity_weights",
    "select_bandwidth",
    "select_preset",
    "split_by_time",
    "versions",
    "write_area_rates_gpkg",
    "write_hotspots_gpkg",
]


def versions() -> Dict[str, str]:
    """Versions of streetsafe and of the libraries it runs with: streetsafe, GDAL, GEOS, PROJ,
    Boost (as h3-py and osmium report them)."""
    return dict(_core.versions())


def crs_info(definition: str) -> Dict[str, object]:
    """A CRS resolved through PROJ (``"EPSG:27700"``, WKT, PROJJSON, a PROJ string): a dict of
    ``name``, ``authority``, ``wkt``, ``projected``, ``geographic``, ``metres_per_unit`` and
    ``area_of_use`` (west, south, east, north)."""
    return _core.crs_info(definition)
