"""Grid: a north-up raster whose values numpy sees without a copy, with GeoTIFF I/O and a quick
matplotlib plot."""

from __future__ import annotations

import math
import os
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import numpy as np

from . import _core

PathLike = Union[str, "os.PathLike[str]"]


class Grid:
    """A north-up float64 raster: values, geotransform, CRS, nodata, units and metadata.

    ``np.asarray(grid)`` (and :attr:`values`) is a writable ``(rows, cols)`` view of the C++
    buffer, row 0 the northernmost: edits show in later writes. Cell ``(r, c)`` has its centre at
    ``(origin_x + (c + 0.5) * cell, origin_y - (r + 0.5) * cell)``.
    """

    __slots__ = ("_core", "_crs_name")

    def __init__(self, core: Any) -> None:
        self._core = core
        self._crs_name: Optional[str] = None

    @classmethod
    def from_array(
        cls,
        values: Any,
        *,
        like: Optional["Grid"] = None,
        origin_x: Optional[float] = None,
        origin_y: Optional[float] = None,
        cell: Optional[float] = None,
        crs: Optional[str] = None,
        nodata: Optional[float] = None,
        units: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> "Grid":
        """A grid holding a copy of the 2-D ``values``, georeferenced like ``like`` or by the
        keyword arguments (``crs`` as any definition PROJ accepts, e.g. ``"EPSG:27700"``).

        Example: ``Grid.from_array(np.asarray(a) - np.asarray(b), like=a).to_geotiff("diff.tif")``.
        """
        def pick(value: Any, attribute: str, default: Any) -> Any:
            if value is not None:
                return value
            return getattr(like, attribute) if like is not None else default

        origin_x = pick(origin_x, "origin_x", None)
        origin_y = pick(origin_y, "origin_y", None)
        cell = pick(cell, "cell", None)
        if origin_x is None or origin_y is None or cell is None:
            raise _core.InvalidInput("Grid.from_array needs like= or origin_x=, origin_y= and cell=")
        crs_wkt = like.crs if (crs is None and like is not None) else (_core.crs_info(crs)["wkt"] if crs else "")
        return cls(
            _core.grid_from_array(
                np.asarray(values, dtype=np.float64),
                float(origin_x),
                float(origin_y),
                float(cell),
                crs_wkt,
                float(pick(nodata, "nodata", math.nan)),
                pick(units, "units", ""),
                list(pick(metadata, "metadata", {}).items()),
            )
        )

    def __array__(self, dtype: Any = None, copy: Optional[bool] = None) -> np.ndarray:
        view = np.asarray(self._core)  # buffer protocol: no copy
        if copy:
            return np.array(view, dtype=dtype, copy=True)
        return view if dtype is None else view.astype(dtype, copy=False)

    def __repr__(self) -> str:
        rows, cols = self.shape
        return (
            f"<streetsafe.Grid: {rows} x {cols} cells of {self.cell:g} m, "
            f"{self.crs_name or 'no CRS'}, {self.units or 'no units'}>"
        )

    @property
    def values(self) -> np.ndarray:
        """The ``(rows, cols)`` float64 values, a writable view (no copy)."""
        return self._core.values

    @property
    def shape(self) -> Tuple[int, int]:
        """(rows, cols)."""
        return (self._core.rows, self._core.cols)

    @property
    def origin_x(self) -> float:
        """West edge, in CRS units (metres)."""
        return self._core.origin_x

    @property
    def origin_y(self) -> float:
        """North edge, in CRS units (metres)."""
        return self._core.origin_y

    @property
    def cell(self) -> float:
        """Edge of the square cells, metres."""
        return self._core.cell_m

    @property
    def crs(self) -> str:
        """The CRS as WKT (empty when none)."""
        return self._core.crs_wkt

    @property
    def crs_name(self) -> str:
        """The CRS's name, e.g. ``"OSGB36 / British National Grid"`` (empty when none)."""
        if self._crs_name is None:
            self._crs_name = _core.crs_info(self.crs)["name"] if self.crs else ""
        return self._crs_name

    @property
    def nodata(self) -> float:
        """Value of cells outside the study area (NaN by default)."""
        return self._core.nodata

    @property
    def units(self) -> str:
        """What the values measure, e.g. ``"incidents per km2"``."""
        return self._core.units

    @property
    def metadata(self) -> Dict[str, str]:
        """Key/value metadata (kernel, bandwidth, ...), written to GeoTIFF tags."""
        return dict(self._core.metadata)

    @property
    def bounds(self) -> Tuple[float, float, float, float]:
        """(min_x, min_y, max_x, max_y) of the grid's outer edges."""
        return tuple(self._core.bounds())  # type: ignore[return-value]

    @property
    def geotransform(self) -> Tuple[float, ...]:
        """GDAL geotransform ``(origin_x, cell, 0, origin_y, 0, -cell)``."""
        return tuple(self._core.geotransform())

    @property
    def extent(self) -> Tuple[float, float, float, float]:
        """(left, right, bottom, top), as matplotlib's ``imshow(extent=...)`` wants."""
        min_x, min_y, max_x, max_y = self.bounds
        return (min_x, max_x, min_y, max_y)

    def cell_centres(self) -> Tuple[np.ndarray, np.ndarray]:
        """1-D arrays of the column centres' x and the row centres' y (north to south)."""
        rows, cols = self.shape
        x = self.origin_x + (np.arange(cols) + 0.5) * self.cell
        y = self.origin_y - (np.arange(rows) + 0.5) * self.cell
        return x, y

    def summary(self) -> Dict[str, float]:
        """Statistics of the valid cells: cells, valid_cells, nonzero_cells, min, max, mean, sum
        and max_x / max_y, the centre of the (first) maximum cell."""
        return self._core.summary()

    def integral(self, per_km2: bool = True) -> float:
        """Sum of values × cell area, in km² when ``per_km2`` (a density's integral is the total
        weight), else m²; nodata cells ignored."""
        return self._core.integral(per_km2)

    def to_geotiff(
        self,
        path: PathLike,
        *,
        overviews: bool = True,
        float32: bool = False,
        block_size: int = 256,
        deflate_level: int = 6,
        style: bool = False,
        classes: int = 5,
    ) -> Optional[str]:
        """Write a tiled, DEFLATE-compressed GeoTIFF with CRS, nodata, metadata and (by default)
        internal overviews for fast display in QGIS. ``float32`` halves the size.

        With ``style``, also write the QGIS ``.qml`` sidecar beside it (``hotspots.tif`` →
        ``hotspots.qml``): ``classes`` quantile classes of the cells above 0, pale yellow to dark
        red, blended between the breaks; returns the sidecar's path (else None)."""
        self._core.write_geotiff(os.fspath(path), overviews, float32, block_size, deflate_level)
        if not style:
            return None
        values = self.values[np.isfinite(self.values) & (self.values > 0)]
        if values.size == 0:  # nothing to classify: style all finite cells
            values = self.values[np.isfinite(self.values)]
        layer_style = _core.graduated_style("band 1", values, int(classes), self.units)
        layer_style.interpolate = True
        return _core.write_raster_qml(os.fspath(path), layer_style)

    def plot(self, ax: Any = None, *, cmap: str = "magma", colorbar: bool = True, **imshow_kwargs: Any) -> Any:
        """Show the grid with matplotlib (imported only now) in CRS coordinates; returns the
        image. Zero cells are left transparent so a basemap shows through."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        values = np.ma.masked_where(~np.isfinite(self.values) | (self.values == 0), self.values)
        image = ax.imshow(values, extent=self.extent, origin="upper", cmap=cmap, **imshow_kwargs)
        ax.set_aspect("equal")
        if colorbar:
            ax.figure.colorbar(image, ax=ax, label=self.units or None)
        return image


def read_raster(path: PathLike) -> Grid:
    """Band 1 of any GDAL raster (north-up, square cells) as a :class:`Grid`."""
    return Grid(_core.read_raster(os.fspath(path)))


def layer_bounds(path: PathLike, crs: str, *, layer: Optional[str] = None) -> Tuple[float, float, float, float]:
    """Extent (min_x, min_y, max_x, max_y) of a vector layer transformed into ``crs``; use it as
    ``kde(..., bounds=...)`` to map a whole study area."""
    return tuple(_core.layer_bounds(os.fspath(path), layer or "", crs))  # type: ignore[return-value]
