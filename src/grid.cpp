#include "streetsafe/grid.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include "gdal_util.hpp"
#include "streetsafe/crs.hpp"
#include "streetsafe/error.hpp"

namespace streetsafe {

namespace {

std::string number(double v) {
    std::ostringstream out;
    out.precision(17);
    out << v;
    return out.str();
}

std::string describe(const Bounds& b) {
    return "(min_x " + number(b.min_x) + ", min_y " + number(b.min_y) + ", max_x " + number(b.max_x) +
           ", max_y " + number(b.max_y) + ")";
}

bool finite(const Bounds& b) {
    return std::isfinite(b.min_x) && std::isfinite(b.min_y) && std::isfinite(b.max_x) && std::isfinite(b.max_y);
}

/// Whole-cell index range [lo, hi) of the lattice of `cell_m` covering [min, max], with
/// lo * cell_m <= min and hi * cell_m >= max despite rounding.
struct CellSpan {
    double lo, hi;
};
CellSpan cell_span(double min, double max, double cell_m) {
    double lo = std::floor(min / cell_m);
    double hi = std::ceil(max / cell_m);
    // Division and multiplication round: make sure the snapped edges enclose the bounds.
    while (lo * cell_m > min) lo -= 1;
    while (hi * cell_m < max) hi += 1;
    if (hi <= lo) hi = lo + 1;
    return {lo, hi};
}

/// An OGRSpatialReference from WKT (or any user input GDAL understands), in traditional GIS
/// axis order.
std::unique_ptr<OGRSpatialReference> srs_from(const std::string& definition, const std::string& what) {
    auto srs = std::make_unique<OGRSpatialReference>();
    if (srs->SetFromUserInput(definition.c_str(), OGRSpatialReference::SET_FROM_USER_INPUT_LIMITATIONS) !=
        OGRERR_NONE)
        throw CrsError("cannot interpret the CRS of " + what + ": " + detail::gdal_last_error());
    srs->SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    return srs;
}

std::string to_wkt2(const OGRSpatialReference& srs) {
    char* wkt = nullptr;
    const char* const options[] = {"FORMAT=WKT2_2019", nullptr};
    std::string result;
    if (srs.exportToWkt(&wkt, options) == OGRERR_NONE && wkt != nullptr) result = wkt;
    CPLFree(wkt);
    return result;
}

bool is_nodata(double v, double nodata) { return std::isnan(v) || (!std::isnan(nodata) && v == nodata); }

/// Overview factors 2, 4, 8, ... until the smallest overview fits in one tile.
std::vector<int> overview_factors(std::size_t rows, std::size_t cols, int block_size) {
    std::vector<int> factors;
    std::size_t extent = std::max(rows, cols); // of the previous level
    for (int factor = 2; extent > std::size_t(block_size) && factor < (1 << 30); factor *= 2) {
        factors.push_back(factor);
        extent = (std::max(rows, cols) + std::size_t(factor) - 1) / std::size_t(factor);
    }
    return factors;
}

} // namespace

Grid Grid::covering(const Bounds& bounds, double cell_m, std::string crs_wkt, std::size_t max_cells) {
    if (!(cell_m > 0) || !std::isfinite(cell_m))
        throw InvalidInput("grid cell size must be a positive, finite number of metres; got " + number(cell_m));
    if (!finite(bounds) || !bounds.valid())
        throw InvalidInput("grid bounds must be finite with max_x > min_x and max_y > min_y; got " +
                           describe(bounds));
    const CellSpan xs = cell_span(bounds.min_x, bounds.max_x, cell_m);
    const CellSpan ys = cell_span(bounds.min_y, bounds.max_y, cell_m);
    const double cols_d = xs.hi - xs.lo;
    const double rows_d = ys.hi - ys.lo;
    // Decide in floating point, before any integer conversion or allocation can overflow.
    if (!(rows_d * cols_d <= double(max_cells)))
        throw InvalidInput("a grid of " + number(rows_d) + " rows × " + number(cols_d) + " columns (" +
                           number(rows_d * cols_d) + " cells) of " + number(cell_m) + " m over " +
                           describe(bounds) + " exceeds the limit of " + std::to_string(max_cells) +
                           " cells; use larger cells or smaller bounds");
    Grid grid;
    grid.origin_x = xs.lo * cell_m;
    grid.origin_y = ys.hi * cell_m;
    grid.cell_m = cell_m;
    grid.rows = std::size_t(rows_d);
    grid.cols = std::size_t(cols_d);
    grid.crs_wkt = std::move(crs_wkt);
    grid.values.assign(grid.rows * grid.cols, 0.0);
    return grid;
}

Bounds Grid::bounds() const {
    return {origin_x, origin_y - double(rows) * cell_m, origin_x + double(cols) * cell_m, origin_y};
}

std::vector<double> Grid::geotransform() const { return {origin_x, cell_m, 0.0, origin_y, 0.0, -cell_m}; }

double Grid::integral(bool per_km2) const {
    double sum = 0;
    for (const double v : values)
        if (!is_nodata(v, nodata)) sum += v;
    const double area = per_km2 ? cell_area_m2() * 1e-6 : cell_area_m2();
    return sum * area;
}

void write_geotiff(const Grid& grid, const std::string& path, const GeoTiffOptions& options) {
    if (grid.rows == 0 || grid.cols == 0 || grid.values.size() != grid.rows * grid.cols)
        throw InvalidInput("cannot write '" + path + "': the grid has " + std::to_string(grid.rows) + " rows × " +
                           std::to_string(grid.cols) + " columns but " + std::to_string(grid.values.size()) +
                           " values");
    if (grid.rows > std::size_t(INT_MAX) || grid.cols > std::size_t(INT_MAX))
        throw InvalidInput("cannot write '" + path + "': a GeoTIFF holds at most " + std::to_string(INT_MAX) +
                           " rows and columns");
    if (options.block_size < 16 || options.block_size > 4096 || options.block_size % 16 != 0)
        throw InvalidInput("GeoTiffOptions::block_size must be a multiple of 16 between 16 and 4096; got " +
                           std::to_string(options.block_size));
    if (options.deflate_level < 1 || options.deflate_level > 9)
        throw InvalidInput("GeoTiffOptions::deflate_level must be between 1 and 9; got " +
                           std::to_string(options.deflate_level));

    std::unique_ptr<OGRSpatialReference> srs;
    if (!grid.crs_wkt.empty()) srs = srs_from(grid.crs_wkt, "the grid written to '" + path + "'");

    detail::ensure_gdal();
    CPLErrorReset();
    GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("GTiff");
    if (driver == nullptr) throw IoError("cannot write '" + path + "': GDAL has no GTiff driver");

    const std::string block = std::to_string(options.block_size);
    const std::string zlevel = std::to_string(options.deflate_level);
    CPLStringList create_options;
    create_options.SetNameValue("TILED", "YES");
    create_options.SetNameValue("BLOCKXSIZE", block.c_str());
    create_options.SetNameValue("BLOCKYSIZE", block.c_str());
    create_options.SetNameValue("COMPRESS", "DEFLATE");
    create_options.SetNameValue("ZLEVEL", zlevel.c_str());
    create_options.SetNameValue("PREDICTOR", "3"); // floating-point predictor
    create_options.SetNameValue("BIGTIFF", "IF_SAFER");

    const GDALDataType type = options.float32 ? GDT_Float32 : GDT_Float64;
    auto check = [&path](bool ok, const std::string& what) {
        if (!ok)
            throw IoError("cannot write GeoTIFF '" + path + "' (" + what + "): " + detail::gdal_last_error());
    };
    try {
        {
            detail::DatasetPtr ds(driver->Create(path.c_str(), int(grid.cols), int(grid.rows), 1, type,
                                                 create_options.List()));
            if (!ds) throw IoError("cannot create GeoTIFF '" + path + "': " + detail::gdal_last_error());
            std::vector<double> gt = grid.geotransform();
            check(ds->SetGeoTransform(gt.data()) == CE_None, "geotransform");
            if (srs) check(ds->SetSpatialRef(srs.get()) == CE_None, "CRS");
            for (const auto& [key, value] : grid.metadata)
                check(ds->SetMetadataItem(key.c_str(), value.c_str()) == CE_None, "metadata item " + key);

            GDALRasterBand* band = ds->GetRasterBand(1);
            check(band->SetNoDataValue(grid.nodata) == CE_None, "nodata value");
            if (!grid.units.empty()) {
                band->SetDescription(grid.units.c_str());
                check(band->SetUnitType(grid.units.c_str()) == CE_None, "units");
            }
            check(band->RasterIO(GF_Write, 0, 0, int(grid.cols), int(grid.rows),
                                 const_cast<double*>(grid.values.data()), int(grid.cols), int(grid.rows),
                                 GDT_Float64, 0, 0, nullptr) == CE_None,
                  "values");
            if (options.overviews) {
                const std::vector<int> factors = overview_factors(grid.rows, grid.cols, options.block_size);
                if (!factors.empty())
                    check(ds->BuildOverviews("AVERAGE", int(factors.size()), factors.data(), 0, nullptr, nullptr,
                                             nullptr, nullptr) == CE_None,
                          "overviews");
            }
            ds->FlushCache(true);
            check(CPLGetLastErrorType() < CE_Failure, "flushing");
        } // closes the file
        check(CPLGetLastErrorType() < CE_Failure, "closing");
    } catch (const Error&) {
        VSIUnlink(path.c_str()); // no half-written file left behind
        throw;
    }
}

Grid read_raster(const std::string& path) {
    detail::DatasetPtr ds = detail::open_raster(path);
    if (ds->GetRasterCount() < 1) throw InvalidInput("raster '" + path + "' has no band");
    double gt[6];
    if (ds->GetGeoTransform(gt) != CE_None)
        throw InvalidInput("raster '" + path + "' has no geotransform; a north-up georeferenced raster is required");
    if (gt[2] != 0.0 || gt[4] != 0.0 || !(gt[1] > 0) || !(gt[5] < 0))
        throw InvalidInput("raster '" + path + "' is not north-up (geotransform " + number(gt[1]) + ", " +
                           number(gt[2]) + ", " + number(gt[4]) + ", " + number(gt[5]) +
                           "); rotated or flipped rasters are not supported");
    if (std::abs(gt[1] + gt[5]) > 1e-9 * gt[1])
        throw InvalidInput("raster '" + path + "' has non-square cells (" + number(gt[1]) + " × " +
                           number(-gt[5]) + "); square cells are required");
    const std::size_t cols = std::size_t(ds->GetRasterXSize());
    const std::size_t rows = std::size_t(ds->GetRasterYSize());
    if (rows * cols > Grid::default_max_cells)
        throw InvalidInput("raster '" + path + "' has " + std::to_string(rows) + " rows × " + std::to_string(cols) +
                           " columns, more than the " + std::to_string(Grid::default_max_cells) +
                           " cells a grid may hold");

    Grid grid;
    grid.origin_x = gt[0];
    grid.origin_y = gt[3];
    grid.cell_m = gt[1];
    grid.rows = rows;
    grid.cols = cols;
    if (const OGRSpatialReference* srs = ds->GetSpatialRef()) grid.crs_wkt = to_wkt2(*srs);
    GDALRasterBand* band = ds->GetRasterBand(1);
    int has_nodata = 0;
    const double nodata = band->GetNoDataValue(&has_nodata);
    if (has_nodata) grid.nodata = nodata;
    if (const char* units = band->GetUnitType(); units != nullptr) grid.units = units;
    if (CSLConstList items = ds->GetMetadata(); items != nullptr) {
        for (; *items != nullptr; ++items) {
            char* key = nullptr;
            const char* value = CPLParseNameValue(*items, &key);
            if (key != nullptr && value != nullptr && std::string(key) != "AREA_OR_POINT")
                grid.metadata.emplace_back(key, value);
            CPLFree(key);
        }
    }
    grid.values.resize(rows * cols);
    CPLErrorReset();
    if (band->RasterIO(GF_Read, 0, 0, int(cols), int(rows), grid.values.data(), int(cols), int(rows), GDT_Float64,
                       0, 0, nullptr) != CE_None)
        throw IoError("cannot read the values of '" + path + "': " + detail::gdal_last_error());
    return grid;
}

Bounds layer_bounds(const std::string& path, const std::string& layer_name, const std::string& crs) {
    const Crs target_crs = resolve_crs(crs);
    detail::DatasetPtr ds = detail::open_vector(path);
    OGRLayer* layer = detail::find_layer(*ds, path, layer_name);
    const std::string where = "layer '" + std::string(layer->GetName()) + "' of '" + path + "'";
    OGREnvelope env;
    if (layer->GetExtent(&env, TRUE) != OGRERR_NONE || !std::isfinite(env.MinX) || !std::isfinite(env.MaxY))
        throw InvalidInput(where + " has no extent: it holds no geometry");
    const OGRSpatialReference* layer_srs = layer->GetSpatialRef();
    if (layer_srs == nullptr) throw CrsError(where + " has no CRS; cannot transform its extent to " + crs);

    std::unique_ptr<OGRSpatialReference> source(layer_srs->Clone());
    source->SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    std::unique_ptr<OGRSpatialReference> target = srs_from(target_crs.wkt, "'" + crs + "'");
    if (source->IsSame(target.get())) return {env.MinX, env.MinY, env.MaxX, env.MaxY};

    CPLErrorReset();
    std::unique_ptr<OGRCoordinateTransformation> transform(
        OGRCreateCoordinateTransformation(source.get(), target.get()));
    if (!transform)
        throw CrsError("cannot transform the extent of " + where + " to " + crs + ": " + detail::gdal_last_error());
    Bounds out;
    constexpr int densify_points = 21;
    if (!transform->TransformBounds(env.MinX, env.MinY, env.MaxX, env.MaxY, &out.min_x, &out.min_y, &out.max_x,
                                    &out.max_y, densify_points) ||
        !finite(out))
        throw CrsError("cannot transform the extent of " + where + " to " + crs + ": " + detail::gdal_last_error());
    return out;
}

GridSummary summarize(const Grid& grid) {
    GridSummary s;
    s.cells = grid.size();
    s.min = std::numeric_limits<double>::infinity();
    s.max = -std::numeric_limits<double>::infinity();
    std::size_t max_index = 0;
    for (std::size_t i = 0; i < grid.values.size(); ++i) {
        const double v = grid.values[i];
        if (is_nodata(v, grid.nodata) || !std::isfinite(v)) continue;
        ++s.valid_cells;
        if (v != 0) ++s.nonzero_cells;
        s.sum += v;
        s.min = std::min(s.min, v);
        if (v > s.max) {
            s.max = v;
            max_index = i;
        }
    }
    if (s.valid_cells == 0) {
        const double nan = std::numeric_limits<double>::quiet_NaN();
        s.min = s.max = s.mean = s.max_x = s.max_y = nan;
        return s;
    }
    s.mean = s.sum / double(s.valid_cells);
    s.max_x = grid.centre_x(max_index % grid.cols);
    s.max_y = grid.centre_y(max_index / grid.cols);
    return s;
}

} // namespace streetsafe
