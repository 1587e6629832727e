#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "streetsafe/grid.hpp"

namespace streetsafe {

/// A column of a feature table: one value per feature.
struct Column {
    std::string name;
    std::variant<std::vector<double>, std::vector<std::int64_t>, std::vector<std::string>> values;
    [[nodiscard]] std::size_t size() const;
};

/// Features to write as a vector layer: geometries as ISO WKB (polygons, lines or points, in
/// `crs_wkt`) plus attribute columns of the same length.
struct FeatureTable {
    std::string crs_wkt;
    std::vector<std::vector<unsigned char>> wkb;
    std::vector<Column> columns;
    /// Throws InvalidInput when a column's length differs from the number of geometries.
    void validate() const;
};

/// How QGIS draws a layer when it opens it.
struct LayerStyle {
    enum class Kind { graduated, categorized, single };
    Kind kind = Kind::graduated;
    std::string field;                 ///< attribute (or, for rasters, band 1) the colours follow
    std::vector<double> breaks;        ///< graduated: upper bounds of the classes, ascending
    std::vector<std::string> labels;   ///< one per class (graduated) or per category value
    std::vector<std::string> values;   ///< categorized: the attribute values
    std::vector<std::string> colours;  ///< "#rrggbb", one per class / category
    double opacity = 1.0;
    std::string title;                 ///< name of the style in QGIS
};

/// A graduated style with `classes` quantile breaks over `values` (NaNs ignored), coloured from
/// pale yellow to dark red (ColorBrewer YlOrRd), labels with `unit`.
LayerStyle graduated_style(const std::string& field, std::vector<double> values, int classes,
                           const std::string& unit);

/// Writes (or replaces) a layer in a GeoPackage, creating the file when absent, and stores
/// `style` as the layer's default in the GeoPackage's `layer_styles` table so that QGIS opens it
/// styled. Throws IoError naming the file.
void write_gpkg_layer(const std::string& path, const std::string& layer, const FeatureTable& table,
                      const LayerStyle& style);

/// Writes a QGIS `.qml` style sidecar for a raster (`<raster without extension>.qml`), which QGIS
/// applies when it opens the raster. Returns the sidecar's path.
std::string write_raster_qml(const std::string& raster_path, const LayerStyle& style);

} // namespace streetsafe
