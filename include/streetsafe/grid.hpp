#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace streetsafe {

/// Axis-aligned bounds in a projected CRS, metres.
struct Bounds {
    double min_x = 0, min_y = 0, max_x = 0, max_y = 0;
    [[nodiscard]] double width() const { return max_x - min_x; }
    [[nodiscard]] double height() const { return max_y - min_y; }
    [[nodiscard]] bool valid() const { return max_x > min_x && max_y > min_y; }
};

/// A north-up raster: row 0 is the northernmost, values are contiguous float64 in row-major
/// order (rows × cols), cell (r, c) has its centre at
/// (origin_x + (c + 0.5) * cell_m, origin_y - (r + 0.5) * cell_m).
struct Grid {
    double origin_x = 0;   ///< west edge, metres
    double origin_y = 0;   ///< north edge, metres
    double cell_m = 1;     ///< square cells
    std::size_t rows = 0, cols = 0;
    std::string crs_wkt;
    std::vector<double> values;
    double nodata = std::numeric_limits<double>::quiet_NaN(); ///< cells outside the study area
    std::string units;     ///< e.g. "incidents per km2"
    /// Free-form key/value metadata written to GeoTIFF tags (kernel, bandwidth, ...).
    std::vector<std::pair<std::string, std::string>> metadata;

    /// A zero-filled grid covering `bounds` (expanded outward to whole cells); throws InvalidInput
    /// when the bounds are empty or the grid would exceed `max_cells`.
    static Grid covering(const Bounds& bounds, double cell_m, std::string crs_wkt,
                         std::size_t max_cells = default_max_cells);
    static constexpr std::size_t default_max_cells = 400'000'000; ///< 3.2 GB of float64

    [[nodiscard]] std::size_t size() const { return rows * cols; }
    [[nodiscard]] double& at(std::size_t r, std::size_t c) { return values[r * cols + c]; }
    [[nodiscard]] double at(std::size_t r, std::size_t c) const { return values[r * cols + c]; }
    [[nodiscard]] double centre_x(std::size_t c) const { return origin_x + (double(c) + 0.5) * cell_m; }
    [[nodiscard]] double centre_y(std::size_t r) const { return origin_y - (double(r) + 0.5) * cell_m; }
    [[nodiscard]] double cell_area_m2() const { return cell_m * cell_m; }
    [[nodiscard]] Bounds bounds() const;
    /// GDAL geotransform: {origin_x, cell_m, 0, origin_y, 0, -cell_m}.
    [[nodiscard]] std::vector<double> geotransform() const;
    /// Sum of values × cell area (km² when `per_km2`), ignoring nodata cells.
    [[nodiscard]] double integral(bool per_km2) const;
};

struct GeoTiffOptions {
    bool overviews = true;       ///< internal overviews (average), for fast display in QGIS
    int block_size = 256;        ///< tile edge in pixels
    int deflate_level = 6;
    bool float32 = false;        ///< store as Float32 to halve the size
};

/// Writes a tiled, DEFLATE-compressed GeoTIFF with CRS, nodata, metadata and overviews.
/// Throws IoError naming the path on failure.
void write_geotiff(const Grid& grid, const std::string& path, const GeoTiffOptions& options = {});

/// Reads band 1 of any GDAL raster into a Grid (north-up, square cells required).
Grid read_raster(const std::string& path);

/// Extent of a vector layer (first layer when `layer` is empty), transformed into `crs`
/// (any definition resolve_crs accepts).
Bounds layer_bounds(const std::string& path, const std::string& layer, const std::string& crs);

/// Summary statistics of a grid's valid cells.
struct GridSummary {
    std::size_t cells = 0, valid_cells = 0, nonzero_cells = 0;
    double min = 0, max = 0, mean = 0, sum = 0;
    double max_x = 0, max_y = 0; ///< centre of the (first) maximum cell
};
GridSummary summarize(const Grid& grid);

} // namespace streetsafe
