#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "streetsafe/crs.hpp"
#include "streetsafe/time.hpp"

namespace streetsafe {

/// Geocoded incidents as a struct of arrays, every array of the same length, coordinates in a
/// projected working CRS in metres.
struct Incidents {
    std::vector<double> x;                  ///< metres, working CRS
    std::vector<double> y;                  ///< metres, working CRS
    std::vector<LocalSeconds> time;         ///< start (or only) time, local civil seconds; no_time if none
    std::vector<LocalSeconds> time_end;     ///< end of the time range (== time for an instant)
    std::vector<TimePrecision> precision;   ///< how precisely the time is known
    std::vector<std::int32_t> category;     ///< index into categories; -1 when none recorded
    std::vector<double> weight;             ///< 1 unless a weight column was given
    std::vector<std::int64_t> source_row;   ///< row / feature number in the source (see LoadReport)
    std::vector<std::string> categories;    ///< the category dictionary
    std::vector<std::string> ids;           ///< source identifiers; empty when none were mapped
    Crs crs;                                ///< the working CRS of x and y
    std::string time_zone = "UTC";          ///< IANA zone of the local times

    [[nodiscard]] std::size_t size() const { return x.size(); }
    [[nodiscard]] bool empty() const { return x.empty(); }
    [[nodiscard]] double total_weight() const;
    /// The dictionary index of `name`, or -1.
    [[nodiscard]] std::int32_t category_code(const std::string& name) const;
    /// Throws InvalidInput when the arrays disagree in length or a code is out of range.
    void validate() const;
};

/// Why a row was not loaded.
enum class SkipReason : std::uint8_t {
    missing_coordinate,
    unparsable_coordinate,
    null_island,         ///< (0, 0) in lon/lat: a placeholder for "not geocoded", never a place
    outside_crs_area,    ///< outside the working CRS's area of use
    transform_failed,
    missing_time,        ///< a time filter was requested, but the row has no time
    unparsable_time,
    non_finite_weight,
    outside_category_filter,
    outside_time_filter,
    missing_geometry,    ///< a vector layer feature without a point geometry
};

std::string_view to_string(SkipReason r);

struct SkippedRow {
    std::int64_t row;     ///< as in Incidents::source_row
    SkipReason reason;
    std::string detail;   ///< the offending value, or what was expected
};

/// What a loader did: every skipped row with its reason, nothing dropped silently.
struct LoadReport {
    std::string source;            ///< path or connection string as given
    std::string layer;             ///< layer read
    std::string schema;            ///< "police.uk", "slmpd", "mapped" or "vector layer"
    std::string row_meaning;       ///< what the row numbers count, for messages
    std::int64_t rows_read = 0;
    std::int64_t rows_kept = 0;
    std::vector<SkippedRow> skipped;
    std::string source_crs;        ///< CRS of the coordinates as read
    std::string working_crs;       ///< CRS of Incidents::x/y
    bool working_crs_automatic = false;

    /// Number of skipped rows for a reason.
    [[nodiscard]] std::int64_t count(SkipReason r) const;
    /// A few lines: counts per reason and the first rows of each.
    [[nodiscard]] std::string summary(std::size_t examples_per_reason = 3) const;
};

/// Which source columns hold what. Empty means "not present" (or "recognise from headers" when the
/// whole mapping is empty).
struct ColumnMapping {
    std::string x, y;        ///< projected coordinates, in `source_crs`
    std::string lon, lat;    ///< degrees (EPSG:4326 unless source_crs says otherwise)
    std::string time;        ///< single time, or start of a range
    std::string time_end;    ///< end of a from/to range
    std::string category;
    std::string weight;
    std::string id;

    [[nodiscard]] bool empty() const {
        return x.empty() && y.empty() && lon.empty() && lat.empty() && time.empty() &&
               time_end.empty() && category.empty() && weight.empty() && id.empty();
    }
};

struct ReadOptions {
    /// Empty: recognise police.uk and SLMPD (St. Louis) CSV headers, then common column names
    /// (lon/longitude, lat/latitude, x/easting, y/northing, time/date/datetime, category/type).
    ColumnMapping columns;
    /// Layer of a multi-layer source; empty for the first.
    std::string layer;
    /// CRS of x/y (or lon/lat) columns; empty: the layer's CRS, else EPSG:4326 for lon/lat columns.
    std::string source_crs;
    /// Working CRS; empty: automatic (EPSG:27700 in Great Britain, else the UTM zone of the centre).
    std::string working_crs;
    /// IANA zone of the times; empty: Europe/London for police.uk, America/Chicago for SLMPD, UTC else.
    std::string time_zone;
    /// Keep only these category values (exact match); empty keeps all.
    std::vector<std::string> categories;
    /// Keep only rows whose whole time range lies in [time_from, time_to) (local civil seconds).
    std::optional<LocalSeconds> time_from, time_to;
    /// Any skipped row becomes an InvalidInput error naming the row and reason.
    bool strict = false;
};

/// Reads incidents through GDAL/OGR from any vector source: CSV (gzip read directly), GeoPackage,
/// GeoJSON, Shapefile or an OGR connection string such as `PG:dbname=...`. One code path for all.
/// Throws IoError when the source cannot be opened, InvalidInput when required columns are missing
/// (naming the columns found) or, under `strict`, at the first skipped row.
Incidents read_incidents(const std::string& path, const ReadOptions& options = {},
                         LoadReport* report = nullptr);

/// Incidents from coordinate arrays in `crs` (projected to a working CRS as read_incidents does).
/// Optional arrays may be empty; otherwise they match x in length.
struct ArrayInput {
    std::span<const double> x, y;
    std::string crs;                               ///< CRS of x/y, required
    std::span<const LocalSeconds> time;            ///< local civil seconds, optional
    std::span<const LocalSeconds> time_end;        ///< optional
    std::span<const double> weight;                ///< optional
    std::span<const std::int32_t> category;        ///< optional, indexes categories
    std::vector<std::string> categories;
    std::string time_zone = "UTC";
    std::string working_crs;                       ///< empty: automatic
};
Incidents incidents_from_arrays(const ArrayInput& input, LoadReport* report = nullptr);

/// Rows where `keep[i]` is true, in order. The dictionary and CRS are kept.
Incidents select(const Incidents& incidents, const std::vector<bool>& keep);

} // namespace streetsafe
