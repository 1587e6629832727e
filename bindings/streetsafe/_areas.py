"""Area layers (wards, LSOAs, neighbourhoods): reading, population joins, incidents per area with
rates per 1,000 residents, and a GeoPackage choropleth styled for QGIS."""

from __future__ import annotations

import os
from typing import Any, List, Optional, Union

import numpy as np

from . import _core
from ._hotspots import FeatureTable, _incidents
from ._incidents import Incidents, LoadReport

PathLike = Union[str, "os.PathLike[str]"]


class AreaLayer:
    """Polygons of an area layer in a projected working CRS: ``ids``, ``names``, ``population``
    (NaN where unknown), ``area_m2``, centroids and ISO WKB geometries; ``repaired`` lists the
    polygons repaired on reading and ``report`` the features skipped."""

    __slots__ = ("_core", "report")

    def __init__(self, core: Any, report: Optional[LoadReport] = None) -> None:
        self._core = core
        self.report = report

    def __len__(self) -> int:
        return len(self._core)

    def __repr__(self) -> str:
        return f"<streetsafe.AreaLayer: {len(self)} areas, {self.crs_name or 'no CRS'}>"

    ids = property(lambda self: list(self._core.ids), doc="Area ids, as text.")
    names = property(lambda self: list(self._core.names), doc="Names, or empty when none were read.")
    population = property(lambda self: self._core.population, doc="Residents (NaN where unknown).")
    area_m2 = property(lambda self: self._core.area_m2, doc="Planar area in the working CRS, m².")
    centroid_x = property(lambda self: self._core.centroid_x, doc="Centroid x, metres.")
    centroid_y = property(lambda self: self._core.centroid_y, doc="Centroid y, metres.")
    wkb = property(lambda self: self._core.wkb, doc="(Multi)Polygons as ISO WKB.")
    crs = property(lambda self: self._core.crs_wkt, doc="Working CRS as WKT.")
    crs_name = property(lambda self: self._core.crs_name, doc="Working CRS's name.")
    repaired = property(lambda self: self._core.repaired, doc="Polygons repaired with MakeValid.")


def read_areas(
    path: PathLike,
    *,
    id_field: str,
    name_field: Optional[str] = None,
    population_field: Optional[str] = None,
    where: Optional[str] = None,
    layer: Optional[str] = None,
    crs: Optional[str] = None,
    source_crs: Optional[str] = None,
) -> AreaLayer:
    """Read a polygon layer (GeoPackage, Shapefile, GeoJSON, PostGIS, ...) projected to the
    working CRS (``crs``; default EPSG:27700 in Great Britain, else UTM).

    ``where`` is an OGR attribute filter (``"LAD11NM = 'Havering'"``). Raises InvalidInput for a
    layer that is not polygons, a missing or repeated id, a filter selecting nothing."""
    core, report = _core.read_areas(
        os.fspath(path),
        layer or "",
        id_field,
        name_field or "",
        population_field or "",
        where or "",
        crs or "",
        source_crs or "",
    )
    return AreaLayer(core, report)


def join_population(
    areas: AreaLayer, path: PathLike, *, key: str, value: str, where: Optional[str] = None
) -> List[str]:
    """Set ``areas.population`` (in place) from a table keyed by area id, e.g. ONS mid-year
    estimates with ``where="mid_year = 2019"``; returns the ids left without a population."""
    return list(_core.join_population(areas._core, os.fspath(path), key, value, where or ""))


class AreaRates(FeatureTable):
    """Incidents per area as a :class:`FeatureTable` (columns area_id, name, population,
    area_km2, incidents, weighted_incidents, rate_per_1000, density_per_km2, rank_rate,
    rank_count, share_pct), plus per-incident ``area_of_incident`` and the ``outside_*`` counts."""

    __slots__ = ("_rates", "_areas")

    def __init__(self, areas: AreaLayer, rates: Any) -> None:
        super().__init__(_core.area_rates_table(areas._core, rates))
        self._rates = rates
        self._areas = areas

    area_of_incident = property(
        lambda self: self._rates.area_of_incident, doc="Per incident: area index, -1 outside every area."
    )
    outside_count = property(lambda self: self._rates.outside_count, doc="Incidents outside every area.")
    outside_weight = property(lambda self: self._rates.outside_weight, doc="Their summed weight.")
    outside_rows = property(lambda self: self._rates.outside_rows, doc="Their source rows.")
    total = property(lambda self: self._rates.total, doc="Measure of all incidents given.")

    def to_pandas(self) -> Any:
        """A pandas DataFrame indexed by area id."""
        return super().to_pandas().set_index("area_id")

    def write_gpkg(self, path: PathLike, *, layer: str = "area_rates", classes: int = 5) -> None:
        """The same as :func:`write_area_rates_gpkg`."""
        _core.write_area_rates_gpkg(os.fspath(path), layer, self._areas._core, self._rates, int(classes))


def area_rates(
    areas: AreaLayer,
    incidents: Union[Incidents, Any],
    *,
    weighted: bool = False,
    min_population: float = 0.0,
) -> AreaRates:
    """Incidents per area by point-in-polygon (one on a shared boundary counts once), rates per
    1,000 residents and densities per km²; ``weighted`` follows the incidents' weights."""
    core = _core.area_rates(
        areas._core, _incidents(incidents, "area_rates")._core, bool(weighted), float(min_population)
    )
    return AreaRates(areas, core)


def write_area_rates_gpkg(
    path: PathLike, rates: AreaRates, *, layer: str = "area_rates", classes: int = 5
) -> None:
    """Write area rates to a GeoPackage layer styled as a quantile choropleth of rate_per_1000
    (density_per_km2 when no area has a population)."""
    rates.write_gpkg(path, layer=layer, classes=classes)


def area_values(rates: AreaRates, column: str = "incidents") -> np.ndarray:
    """A column of ``rates`` as float64, e.g. for :func:`gi_star` of areas."""
    return np.asarray(rates[column], dtype=np.float64)


