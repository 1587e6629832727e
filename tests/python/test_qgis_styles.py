"""QGIS itself opens the layers streetsafe writes, styled, without any user action.

The C++ program ``streetsafe_style_samples`` (tests/tools/write_style_samples.cpp) writes a
GeoPackage with a graduated polygon layer, a categorized point layer and a single-symbol line layer
(their styles in the GeoPackage's ``layer_styles`` table) and a GeoTIFF with a ``.qml`` sidecar.
This test opens them with QGIS' own Python API, headless, and checks what a GIS officer would see:
valid layers in EPSG:27700, the renderers and classes streetsafe wrote, and the colours QGIS
actually paints.

ctest runs it as ``qgis_styles`` with ``STREETSAFE_STYLE_SAMPLES=<path to the program>`` and
``STREETSAFE_REQUIRE_QGIS=1``. By hand::

    STREETSAFE_STYLE_SAMPLES=build/tests/streetsafe_style_samples \\
        /usr/bin/python3 -m pytest tests/python/test_qgis_styles.py

Needs Debian's ``python3-qgis`` (QGIS 3.22 on bookworm). Without it, or without the program, the
tests are skipped, unless ``STREETSAFE_REQUIRE_QGIS=1``, which turns the skip into a failure.

What QGIS desktop does: opening a GeoPackage layer, it loads the layer's default style from
``layer_styles`` (the row with ``useAsDefault`` set); opening a raster, it applies
``<raster name without extension>.qml`` from the same folder. ``QgsVectorLayer`` and
``QgsRasterLayer`` do the same through the Python API (their ``loadDefaultStyle`` option is on by
default), which is what these tests rely on: no ``loadNamedStyle`` call is made.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REQUIRE = os.environ.get("STREETSAFE_REQUIRE_QGIS") == "1"


def _skip_or_fail(reason: str):
    if REQUIRE:
        pytest.fail(reason + " (STREETSAFE_REQUIRE_QGIS=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def qgis_app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp/runtime-" + str(os.getuid()))
    try:
        from qgis.core import QgsApplication
    except ImportError:
        _skip_or_fail("QGIS' Python bindings are not installed (Debian: python3-qgis)")
    app = QgsApplication([], False)
    app.initQgis()
    yield app
    app.exitQgis()


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict:
    program = os.environ.get("STREETSAFE_STYLE_SAMPLES")
    if not program or not Path(program).is_file():
        _skip_or_fail(f"no streetsafe_style_samples program (STREETSAFE_STYLE_SAMPLES={program!r})")
    out = tmp_path_factory.mktemp("qgis_styles")
    done = subprocess.run([program, str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _vector(samples: dict, layer: str):
    from qgis.core import QgsVectorLayer

    vl = QgsVectorLayer(f"{samples['gpkg']}|layername={layer}", layer, "ogr")
    assert vl.isValid(), f"QGIS cannot open layer {layer}"
    return vl


def _render(layer, width: int, height: int):
    """The layer drawn by QGIS on white, one pixel per `extent / size`."""
    from qgis.core import QgsMapRendererSequentialJob, QgsMapSettings
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setExtent(layer.extent())
    settings.setOutputSize(QSize(width, height))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage(), settings.mapToPixel()


def _close(qcolor, rgb: tuple[float, float, float], tolerance: float = 3.0) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip((qcolor.red(), qcolor.green(), qcolor.blue()), rgb))


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def test_graduated_polygons_open_styled(samples, qgis_app):
    from qgis.core import QgsRenderContext

    vl = _vector(samples, "rates")
    assert vl.crs().authid() == "EPSG:27700"
    renderer = vl.renderer()
    assert renderer.type() == "graduatedSymbol"
    assert renderer.classAttribute() == "rate_per_1000"
    ranges = renderer.ranges()
    assert len(ranges) == samples["rates_classes"] == 5
    bounds = samples["rates_lower"] + samples["rates_breaks"]
    for i, r in enumerate(ranges):
        assert r.lowerValue() == pytest.approx(bounds[i], abs=1e-9)
        assert r.upperValue() == pytest.approx(bounds[i + 1], abs=1e-9)
        assert r.label().endswith("per 1,000 residents")
        assert r.renderState()
    assert [r.symbol().color().name() for r in ranges] == ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]

    # Every feature gets the colour of its class; the one without a rate (NULL) gets none.
    context = QgsRenderContext()
    renderer.startRender(context, vl.fields())
    try:
        for feature in vl.getFeatures():
            value = feature["rate_per_1000"]
            symbol = renderer.symbolForFeature(feature, context)
            if value is None or (hasattr(value, "isNull") and value.isNull()):
                assert symbol is None, feature["area_id"]
                continue
            expected = next(i for i in range(5) if value <= bounds[i + 1] + 1e-12)
            assert symbol is not None and symbol.color().name() == ranges[expected].symbol().color().name()
    finally:
        renderer.stopRender(context)

    # And that is what QGIS paints: the centre of each 100 m square in its class colour.
    image, to_pixel = _render(vl, 500, 400)
    for feature in vl.getFeatures():
        value = feature["rate_per_1000"]
        if value is None or (hasattr(value, "isNull") and value.isNull()):
            continue
        centre = feature.geometry().centroid().asPoint()
        px = to_pixel.transform(centre)
        expected = next(i for i in range(5) if value <= bounds[i + 1] + 1e-12)
        colour = image.pixelColor(int(px.x()), int(px.y()))
        assert _close(colour, _hex_rgb(ranges[expected].symbol().color().name())), (feature["area_id"], colour.name())


def test_geopackage_passes_gdals_validator(samples):
    """GDAL's GeoPackage conformance checker accepts the file, layer_styles included."""
    try:
        from osgeo_utils.samples.validate_gpkg import check
    except ImportError:
        pytest.skip("GDAL's validate_gpkg is not installed (Debian: python3-gdal)")
    check(samples["gpkg"])  # raises on the first violation


def test_categorized_points_and_single_lines_open_styled(samples, qgis_app):
    points = _vector(samples, "hotspots")
    assert points.crs().authid() == "EPSG:27700"
    renderer = points.renderer()
    assert renderer.type() == "categorizedSymbol"
    assert renderer.classAttribute() == "gi_bin"
    categories = renderer.categories()
    assert len(categories) == samples["hotspots_categories"] == 7
    assert [c.value() for c in categories] == ["-3", "-2", "-1", "0", "1", "2", "3"]
    assert categories[6].label() == "Hot 99 %"
    assert categories[6].symbol().color().name() == "#d62f27"
    assert categories[0].symbol().type() == 0  # QgsSymbol.Marker

    lines = _vector(samples, "routes")
    assert lines.renderer().type() == "singleSymbol"
    assert lines.renderer().symbol().color().name() == "#2b8cbe"
    assert lines.renderer().symbol().type() == 1  # QgsSymbol.Line


def test_raster_sidecar_is_applied(samples, qgis_app):
    from qgis.core import QgsColorRampShader, QgsRasterLayer

    assert Path(samples["raster_qml"]).is_file()
    assert Path(samples["raster_qml"]).with_suffix(".tif") == Path(samples["raster"])
    rl = QgsRasterLayer(samples["raster"], "density")
    assert rl.isValid()
    assert rl.crs().authid() == "EPSG:27700"
    renderer = rl.renderer()
    # QgsRasterLayer loads <name>.qml by itself, as QGIS desktop does; no loadNamedStyle needed.
    assert renderer.type() == "singlebandpseudocolor"
    assert renderer.opacity() == pytest.approx(samples["raster_opacity"])
    function = renderer.shader().rasterShaderFunction()
    assert function.colorRampType() == QgsColorRampShader.Discrete
    items = function.colorRampItemList()
    assert len(items) == samples["raster_classes"]
    for item, upper in zip(items[:-1], samples["raster_breaks"][:-1]):
        assert item.value == pytest.approx(upper)
    assert items[-1].value == float("inf")
    assert items[0].color.name() == "#ffffb2"

    # Painted: the densest cell (centre) in the last class, blended at 75 % over white; the nodata
    # corner cell left white (transparent).
    image, to_pixel = _render(rl, 400, 320)
    extent = rl.extent()
    from qgis.core import QgsPointXY

    centre = to_pixel.transform(QgsPointXY(extent.center().x() + 1, extent.center().y() + 1))
    last = _hex_rgb(items[-1].color.name())
    blended = tuple(0.75 * c + 0.25 * 255 for c in last)
    assert _close(image.pixelColor(int(centre.x()), int(centre.y())), blended, 4)
    corner = to_pixel.transform(QgsPointXY(extent.xMinimum() + 5, extent.yMaximum() - 5))
    assert _close(image.pixelColor(int(corner.x()), int(corner.y())), (255, 255, 255), 1)


def test_loading_the_sidecar_explicitly_also_works(samples, qgis_app):
    """What a plugin or script would do for a raster opened without its default style."""
    from qgis.core import QgsRasterLayer

    options = QgsRasterLayer.LayerOptions()
    options.loadDefaultStyle = False
    rl = QgsRasterLayer(samples["raster"], "density", "gdal", options)
    assert rl.isValid()
    assert rl.renderer().type() != "singlebandpseudocolor"
    message, ok = rl.loadNamedStyle(samples["raster_qml"])
    assert ok, message
    assert rl.renderer().type() == "singlebandpseudocolor"
