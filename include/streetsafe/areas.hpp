#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "streetsafe/incidents.hpp"
#include "streetsafe/io.hpp"

namespace streetsafe {

/// A polygon that read_areas found invalid and repaired with GEOS MakeValid. It is kept (never
/// dropped); its entry here is the report of what was done.
struct RepairedArea {
    std::size_t index = 0;    ///< into AreaLayer
    std::int64_t feature = 0; ///< FID (or 1-based sequence number) in the source
    std::string id;           ///< AreaLayer::ids[index]
    std::string reason;       ///< GEOS' validity message, e.g. "Self-intersection[5 5]"
};

/// Polygons of an area layer (wards, LSOAs, neighbourhoods) in a projected working CRS.
///
/// `centroid_x/y` is the centre of mass (GEOS Centroid), the right point for distances between
/// areas; it can fall outside a concave or multi-part area, so labels should use a point on the
/// surface (GEOS PointOnSurface) instead. `area_m2` is the planar area in the working CRS.
struct AreaLayer {
    std::vector<std::string> ids;
    std::vector<std::string> names;              ///< one per area, or empty when no name field was read
    std::vector<double> population;              ///< NaN where unknown
    std::vector<std::vector<unsigned char>> wkb; ///< valid (Multi)Polygons, working CRS, ISO WKB
    std::vector<double> area_m2;
    std::vector<double> centroid_x, centroid_y;
    Crs crs;
    /// Polygons repaired on reading, in layer order.
    std::vector<RepairedArea> repaired;
    [[nodiscard]] std::size_t size() const { return ids.size(); }
};

struct AreaReadOptions {
    std::string layer;            ///< empty: the first layer
    std::string id_field;         ///< required: a unique key
    std::string name_field;       ///< optional
    std::string population_field; ///< optional
    std::string where;            ///< optional OGR attribute filter, e.g. "LAD11NM = 'Havering'"
    std::string working_crs;      ///< empty: EPSG:27700 in Great Britain, else UTM (as read_incidents)
    std::string source_crs;       ///< empty: the layer's own CRS (required when the layer has none)
};

/// Reads an area layer through GDAL (any OGR source: GeoPackage, Shapefile, GeoJSON, PostGIS...)
/// and projects it to the working CRS: `options.working_crs`, or automatically (EPSG:27700 in
/// Great Britain, else the UTM zone) from the centre of the areas read, as read_incidents does.
///
/// Polygon and MultiPolygon features are read (curved ones linearised, Z dropped); any other
/// geometry type is an InvalidInput naming the feature and its type. Invalid polygons are repaired
/// with GEOS MakeValid, keeping their polygonal part, and listed in AreaLayer::repaired. Features
/// without a geometry are skipped and reported in `report` (SkipReason::missing_geometry). Ids are
/// text (numbers as OGR prints them); an empty or repeated id is an InvalidInput naming the features.
/// A population value that is NULL is NaN; a negative or non-numeric one is an InvalidInput.
/// Throws IoError when the source cannot be opened, InvalidInput for a bad filter, a missing field
/// (listing the fields) or a filter that selects nothing, CrsError for an unknown CRS.
AreaLayer read_areas(const std::string& path, const AreaReadOptions& options, LoadReport* report = nullptr);

/// Sets `areas.population` from a table (CSV or any OGR source) keyed by `key_field`, using
/// `value_field`; `where` selects rows (e.g. "mid_year = 2019"). Areas without a row, or whose
/// value is empty, get NaN and are listed in the returned vector of ids.
///
/// CSV columns are typed by their content, so `where` can compare numbers ("mid_year = 2019") as
/// well as text. Keys match as text; numeric keys also match without leading zeros ("007" = "7").
/// A key that occurs twice among the selected rows (a forgotten year filter, say) or a value
/// that is negative or not a number is an InvalidInput naming the row. Rows whose key is no
/// area's id are ignored.
std::vector<std::string> join_population(AreaLayer& areas, const std::string& path,
                                         const std::string& key_field, const std::string& value_field,
                                         const std::string& where = {});

struct AreaRateOptions {
    /// Counts, rates, densities, ranks and shares follow the incidents' weights (Incidents::weight)
    /// instead of one per incident. AreaRates::count is the plain count either way.
    bool weighted = false;
    /// Areas with fewer residents get no rate (NaN): small denominators make wild rates (parks,
    /// cemeteries, industrial estates). Areas with no residents or unknown population never have one.
    double min_population = 0;

    /// Throws InvalidInput naming the field when min_population is negative or not finite.
    void validate() const;
};

/// Incidents per area of an AreaLayer, index-aligned with it.
///
/// Ranks are competition ranks: 1 is the highest, tied areas share the best (lowest) rank of
/// their group and the next rank skips ("1, 2, 2, 4"). Areas without a rate have rank 0.
struct AreaRates {
    std::vector<std::int64_t> count;         ///< incidents in the area
    std::vector<double> weighted_count;      ///< sum of their weights
    std::vector<double> rate_per_1000;       ///< measure per 1,000 residents; NaN without population
    std::vector<double> density_per_km2;     ///< measure per km² of area_m2
    std::vector<std::int64_t> rank_by_rate;  ///< 1 = highest rate; 0 = no rate
    std::vector<std::int64_t> rank_by_count; ///< 1 = highest measure
    std::vector<double> share;               ///< measure / the measure of all incidents given (incl. outside)
    /// Per incident: index of the area it was assigned to, or -1 outside every area.
    std::vector<std::int64_t> area_of_incident;
    std::int64_t outside_count = 0;         ///< incidents outside every area (never dropped silently)
    double outside_weight = 0;              ///< their summed weight
    std::vector<std::int64_t> outside_rows; ///< their Incidents::source_row, for follow-up
    double total = 0;                       ///< measure of all incidents given
    bool weighted = false;                  ///< what "measure" is: weights (true) or counts (false)

    [[nodiscard]] std::size_t size() const { return count.size(); }
    /// The measure the rates follow: weighted_count when weighted, else count.
    [[nodiscard]] double measure(std::size_t area) const {
        return weighted ? weighted_count[area] : static_cast<double>(count[area]);
    }
};

/// Counts incidents per area with point-in-polygon tests: an STRtree of the areas' envelopes
/// finds candidates, GEOS prepared geometries test them. An incident lies in an area when the
/// area covers it (interior or boundary); one on a shared boundary is assigned to exactly one area,
/// the one of lowest index among those that cover it. Incidents are transformed to the areas' CRS
/// when theirs differs. Incidents outside every area are counted in outside_count, not dropped.
/// Rates are per 1,000 residents (`areas.population`), densities per km² (`areas.area_m2`).
/// Throws InvalidInput when the layer's arrays disagree in length or the options are invalid.
AreaRates area_rates(const AreaLayer& areas, const Incidents& incidents, const AreaRateOptions& options = {});

/// The areas with their rates, for write_gpkg_layer: columns area_id, name (when the layer has
/// names), population, area_km2, incidents, weighted_incidents, rate_per_1000, density_per_km2,
/// rank_rate, rank_count, share_pct. Throws InvalidInput when `rates` does not match `areas`.
FeatureTable area_rates_table(const AreaLayer& areas, const AreaRates& rates);

/// Writes area_rates_table to a GeoPackage layer styled as a `classes`-class quantile choropleth
/// of rate_per_1000 ("per 1,000 residents"); when no area has a rate (no population joined), of
/// density_per_km2 instead. See write_gpkg_layer.
void write_area_rates_gpkg(const std::string& path, const std::string& layer, const AreaLayer& areas,
                           const AreaRates& rates, int classes = 5);

} // namespace streetsafe
