#pragma once

#include <string>
#include <vector>

#include "streetsafe/incidents.hpp"
#include "streetsafe/io.hpp"

namespace streetsafe {

/// Polygons of an area layer (wards, LSOAs, neighbourhoods) in a projected working CRS.
struct AreaLayer {
    std::vector<std::string> ids;
    std::vector<std::string> names;
    std::vector<double> population;   ///< NaN where unknown
    std::vector<std::vector<unsigned char>> wkb; ///< valid (Multi)Polygons, working CRS
    std::vector<double> area_m2;
    std::vector<double> centroid_x, centroid_y;
    Crs crs;
    [[nodiscard]] std::size_t size() const { return ids.size(); }
};

struct AreaReadOptions {
    std::string layer;             ///< empty: the first layer
    std::string id_field;          ///< required: a unique key
    std::string name_field;        ///< optional
    std::string population_field;  ///< optional
    std::string where;             ///< optional OGR attribute filter, e.g. "LAD11NM = 'Havering'"
    std::string working_crs;       ///< empty: EPSG:27700 in Great Britain, else UTM (as read_incidents)
};

/// Reads an area layer through GDAL; invalid polygons are repaired with GEOS (MakeValid) and
/// reported; a geometry that is not a polygon is an InvalidInput naming the feature.
AreaLayer read_areas(const std::string& path, const AreaReadOptions& options, LoadReport* report = nullptr);

/// Sets `areas.population` from a table (CSV or any OGR source) keyed by `key_field`, using
/// `value_field`; `where` selects rows (e.g. "mid_year = 2019"). Areas without a row get NaN and
/// are listed in the returned vector of ids.
std::vector<std::string> join_population(AreaLayer& areas, const std::string& path, const std::string& key_field,
                                         const std::string& value_field, const std::string& where = {});

} // namespace streetsafe
