#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace streetsafe {

/// Bounding box in degrees of longitude and latitude (west, south, east, north).
struct LonLatBox {
    double west = 0, south = 0, east = 0, north = 0;
    [[nodiscard]] bool contains(double lon, double lat) const {
        return lon >= west && lon <= east && lat >= south && lat <= north;
    }
};

/// A coordinate reference system resolved through PROJ: any user input PROJ understands
/// (`EPSG:27700`, WKT, PROJJSON, a PROJ string).
struct Crs {
    std::string definition; ///< as given by the user
    std::string wkt;        ///< WKT2:2019, for files and for comparison
    std::string name;       ///< e.g. "OSGB36 / British National Grid"
    std::string authority;  ///< e.g. "EPSG:27700", empty when the CRS has no identifier
    bool projected = false;
    bool geographic = false;
    double metres_per_unit = 1.0; ///< of the horizontal axes (projected CRS only)
    LonLatBox area_of_use{-180, -90, 180, 90};
};

/// Resolves `definition` through PROJ; throws CrsError naming it when PROJ cannot.
Crs resolve_crs(std::string_view definition);

/// A projected CRS in metres for data centred at (lon, lat): EPSG:27700 (British National Grid)
/// inside Great Britain's area of use, otherwise the WGS 84 UTM zone of the point.
Crs automatic_working_crs(double lon, double lat);

/// Transforms coordinates between two CRSs with PROJ, in each CRS's traditional GIS axis order
/// (longitude/easting first), whatever the authority's axis order (EPSG:4326 is lat/lon there).
class Transformer {
public:
    Transformer(const Crs& from, const Crs& to);
    ~Transformer();
    Transformer(Transformer&&) noexcept;
    Transformer& operator=(Transformer&&) noexcept;
    Transformer(const Transformer&) = delete;
    Transformer& operator=(const Transformer&) = delete;

    /// In place. Points that cannot be transformed become NaN.
    void transform(std::span<double> x, std::span<double> y) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace streetsafe
