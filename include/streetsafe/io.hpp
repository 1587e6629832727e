#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "streetsafe/grid.hpp"

namespace streetsafe {

/// A column of a feature table: one value per feature. Written to a GeoPackage as Real,
/// Integer64 or String; a NaN double is written as NULL.
struct Column {
    std::string name;
    std::variant<std::vector<double>, std::vector<std::int64_t>, std::vector<std::string>> values;
    /// Number of values, whatever their type.
    [[nodiscard]] std::size_t size() const;
};

/// Features to write as a vector layer: geometries as ISO WKB (polygons, lines or points, in
/// `crs_wkt`) plus attribute columns of the same length.
struct FeatureTable {
    std::string crs_wkt;
    std::vector<std::vector<unsigned char>> wkb;
    std::vector<Column> columns;
    /// Throws InvalidInput when a column's length differs from the number of geometries, or a
    /// column name is empty, repeated (case-insensitively, as SQLite compares them) or one of the
    /// names the writer uses itself ("fid", "geom").
    void validate() const;
};

/// How QGIS draws a layer when it opens it.
///
/// graduated: class i holds values in (breaks[i-1], breaks[i]], the first class [lower, breaks[0]].
/// Vector layers get a QGIS "graduatedSymbol" renderer, rasters a "singlebandpseudocolor" one.
/// categorized: one colour per attribute value ("categorizedSymbol"; rasters "paletted").
/// single: every feature in colours[0] (or a default orange when empty); vector layers only.
struct LayerStyle {
    enum class Kind { graduated, categorized, single };
    Kind kind = Kind::graduated;
    std::string field;                ///< attribute (or, for rasters, band 1) the colours follow
    std::vector<double> breaks;       ///< graduated: upper bounds of the classes, ascending
    std::vector<std::string> labels;  ///< one per class (graduated) or per category value
    std::vector<std::string> values;  ///< categorized: the attribute values
    std::vector<std::string> colours; ///< "#rrggbb", one per class / category
    double opacity = 1.0;
    std::string title; ///< name of the style in QGIS
    /// graduated: lower bound of the first class (graduated_style sets the minimum). NaN: the
    /// first class is open below.
    double lower = std::numeric_limits<double>::quiet_NaN();
    /// Rasters, graduated: blend colours between the breaks (QGIS "Linear", INTERPOLATED) instead
    /// of flat classes (QGIS "Discrete", DISCRETE, the default).
    bool interpolate = false;

    /// Throws InvalidInput naming the bad field: lengths that do not match the kind, breaks not
    /// strictly ascending or not finite, a colour that is not "#rrggbb", opacity outside [0, 1].
    void validate() const;
};

/// A graduated style with `classes` quantile breaks over `values` (NaNs and infinities ignored),
/// coloured from pale yellow to dark red (ColorBrewer YlOrRd), labels with `unit`
/// ("12.5 – 20.0 per 1,000 residents").
///
/// Quantiles are computed as QGIS' "Equal Count (Quantile)" mode does (linear interpolation
/// between order statistics, numpy's default): break i of k is the i/k quantile, the last break
/// the maximum. Breaks that repeat (ties, many zeros) are merged, so the style may have fewer
/// than `classes` classes; colours are then taken from the YlOrRd scheme of that many classes.
/// Throws InvalidInput when `classes` < 1 or no value is finite.
LayerStyle graduated_style(const std::string& field, std::vector<double> values, int classes,
                           const std::string& unit);

/// Writes (or replaces) a layer in a GeoPackage, creating the file when absent, and stores
/// `style` as the layer's default in the GeoPackage's `layer_styles` table so that QGIS opens it
/// styled. Throws IoError naming the file.
///
/// The layer gets the geometry type of the WKB (Polygon and MultiPolygon mixed are written as
/// MultiPolygon, likewise for lines and points), the CRS of `crs_wkt`, an `fid` key and a `geom`
/// column with a spatial index. The layer and its style are written in one transaction: on error
/// the GeoPackage is left as it was. The `layer_styles` table has the schema QGIS itself creates
/// and is registered in gpkg_contents as an attributes table; the layer's earlier styles are
/// removed with its earlier content, so it has exactly one style, the default. Throws
/// InvalidInput for a table or style that does not validate, a WKB that does not parse, or a path
/// that does not end in ".gpkg".
void write_gpkg_layer(const std::string& path, const std::string& layer, const FeatureTable& table,
                      const LayerStyle& style);

/// Writes a QGIS `.qml` style sidecar for a raster (`<raster without extension>.qml`), which QGIS
/// applies when it opens the raster. Returns the sidecar's path.
///
/// graduated: a "singlebandpseudocolor" renderer of band 1 whose colour-ramp items are the breaks
/// and colours (DISCRETE, or INTERPOLATED when `style.interpolate`); categorized: a "paletted"
/// renderer. Nodata cells stay transparent; `style.opacity` is the layer opacity. A single-symbol
/// style is an InvalidInput for a raster. Throws IoError naming the sidecar when it cannot be
/// written.
std::string write_raster_qml(const std::string& raster_path, const LayerStyle& style);

/// The QGIS style document (QML) write_gpkg_layer stores for a layer of `geometry_type`
/// ("polygon", "line" or "point"). Exposed for tests and for writing `.qml` sidecars of other
/// vector formats.
std::string vector_style_qml(const LayerStyle& style, const std::string& geometry_type);

} // namespace streetsafe
