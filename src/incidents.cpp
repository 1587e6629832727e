#include "streetsafe/incidents.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <unordered_map>

#include <ogrsf_frmts.h>

#include "gdal_util.hpp"
#include "streetsafe/error.hpp"

namespace streetsafe {

double Incidents::total_weight() const { return std::accumulate(weight.begin(), weight.end(), 0.0); }

std::int32_t Incidents::category_code(const std::string& name) const {
    const auto it = std::find(categories.begin(), categories.end(), name);
    return it == categories.end() ? -1 : static_cast<std::int32_t>(it - categories.begin());
}

void Incidents::validate() const {
    const std::size_t n = x.size();
    auto check = [n](std::size_t len, const char* field) {
        if (len != n)
            throw InvalidInput(std::string("Incidents: ") + field + " has " + std::to_string(len) +
                               " entries, expected " + std::to_string(n) + " (the length of x)");
    };
    check(y.size(), "y");
    check(time.size(), "time");
    check(time_end.size(), "time_end");
    check(precision.size(), "precision");
    check(category.size(), "category");
    check(weight.size(), "weight");
    check(source_row.size(), "source_row");
    if (!ids.empty()) check(ids.size(), "ids");
    const auto ncat = static_cast<std::int32_t>(categories.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (category[i] < -1 || category[i] >= ncat)
            throw InvalidInput("Incidents: category code " + std::to_string(category[i]) + " at index " +
                               std::to_string(i) + " is outside the dictionary of " + std::to_string(ncat));
    }
}

std::string_view to_string(SkipReason r) {
    switch (r) {
    case SkipReason::missing_coordinate: return "missing coordinate";
    case SkipReason::unparsable_coordinate: return "unparsable coordinate";
    case SkipReason::null_island: return "coordinate at 0,0 (not geocoded)";
    case SkipReason::outside_crs_area: return "outside the working CRS's area of use";
    case SkipReason::transform_failed: return "coordinate transformation failed";
    case SkipReason::missing_time: return "no time, but a time filter was requested";
    case SkipReason::unparsable_time: return "unparsable time";
    case SkipReason::non_finite_weight: return "missing, negative or non-finite weight";
    case SkipReason::outside_category_filter: return "category not selected";
    case SkipReason::outside_time_filter: return "time outside the requested range";
    case SkipReason::missing_geometry: return "no point geometry";
    }
    return "unknown";
}

std::int64_t LoadReport::count(SkipReason r) const {
    return std::count_if(skipped.begin(), skipped.end(), [r](const SkippedRow& s) { return s.reason == r; });
}

std::string LoadReport::summary(std::size_t examples_per_reason) const {
    std::string out = source + (layer.empty() ? "" : " (layer " + layer + ")") + ": " + std::to_string(rows_read) +
                      " rows read, " + std::to_string(rows_kept) + " kept, " + std::to_string(skipped.size()) +
                      " skipped";
    if (!schema.empty()) out += "; schema " + schema;
    if (!working_crs.empty())
        out += "; working CRS " + working_crs + (working_crs_automatic ? " (automatic)" : "");
    out += "\n";
    std::vector<SkipReason> order;
    for (const auto& s : skipped)
        if (std::find(order.begin(), order.end(), s.reason) == order.end()) order.push_back(s.reason);
    for (SkipReason r : order) {
        out += "  " + std::string(to_string(r)) + ": " + std::to_string(count(r)) + " rows";
        std::size_t shown = 0;
        for (const auto& s : skipped) {
            if (s.reason != r) continue;
            if (shown == examples_per_reason) {
                out += ", ...";
                break;
            }
            out += (shown == 0 ? " (" : ", ") + row_meaning + " " + std::to_string(s.row);
            if (!s.detail.empty()) out += ": " + s.detail;
            ++shown;
        }
        out += shown > 0 ? ")\n" : "\n";
    }
    return out;
}

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

/// Rows read before projection: coordinates in the source CRS, everything else final.
struct Staging {
    std::vector<double> x, y;
    std::vector<LocalSeconds> time, time_end;
    std::vector<TimePrecision> precision;
    std::vector<std::int32_t> category;
    std::vector<double> weight;
    std::vector<std::int64_t> row;
    std::vector<std::string> ids;
};

/// Collects skipped rows, or throws at the first one under strict loading.
class Skipper {
public:
    Skipper(LoadReport& report, bool strict) : m_report(report), m_strict(strict) {}
    void skip(std::int64_t row, SkipReason reason, std::string detail) {
        if (m_strict)
            throw InvalidInput(m_report.source + " " + m_report.row_meaning + " " + std::to_string(row) + ": " +
                               std::string(to_string(reason)) + (detail.empty() ? "" : " (" + detail + ")"));
        m_report.skipped.push_back({row, reason, std::move(detail)});
    }

private:
    LoadReport& m_report;
    bool m_strict;
};

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

/// Parses a whole field as a finite double; std::nullopt otherwise.
std::optional<double> parse_double(const std::string& text) {
    const std::string t = trim(text);
    if (t.empty()) return std::nullopt;
    const char* first = t.data();
    const char* last = t.data() + t.size();
    if (*first == '+') ++first;
    double v = 0;
    const auto [ptr, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || ptr != last || !std::isfinite(v)) return std::nullopt;
    return v;
}

struct Schema {
    std::string name;
    ColumnMapping columns;
    std::string time_zone;
};

/// The first of `candidates` (case-insensitive) among `fields`, or "".
std::string pick(const std::vector<std::string>& fields, std::initializer_list<const char*> candidates) {
    for (const char* c : candidates)
        for (const auto& f : fields)
            if (lower(f) == c) return f;
    return {};
}

bool has_all(const std::vector<std::string>& fields, std::initializer_list<const char*> names) {
    return std::all_of(names.begin(), names.end(),
                       [&](const char* n) { return std::find(fields.begin(), fields.end(), n) != fields.end(); });
}

Schema recognise(const std::vector<std::string>& fields) {
    if (has_all(fields, {"Crime ID", "Month", "Longitude", "Latitude", "Crime type"})) {
        ColumnMapping m{.lon = "Longitude", .lat = "Latitude", .time = "Month", .category = "Crime type"};
        m.id = has_all(fields, {"api_id"}) ? "api_id" : "Crime ID";
        return {"police.uk", m, "Europe/London"};
    }
    if (has_all(fields, {"complaint", "occurred", "crime_code", "ucr_category", "lon", "lat"})) {
        ColumnMapping m{.lon = "lon", .lat = "lat", .time = "occurred", .category = "ucr_category", .id = "complaint"};
        return {"slmpd", m, "America/Chicago"};
    }
    ColumnMapping m;
    m.lon = pick(fields, {"lon", "longitude", "lng", "long"});
    m.lat = pick(fields, {"lat", "latitude"});
    if (m.lon.empty() || m.lat.empty()) {
        m.lon.clear();
        m.lat.clear();
        m.x = pick(fields, {"x", "easting", "x_coord", "xcoord"});
        m.y = pick(fields, {"y", "northing", "y_coord", "ycoord"});
        if (m.x.empty() || m.y.empty()) m.x.clear(), m.y.clear();
    }
    m.time = pick(fields, {"time", "datetime", "date_time", "timestamp", "occurred", "date", "month"});
    m.time_end = pick(fields, {"time_end", "end_time", "time_to", "date_to"});
    m.category = pick(fields, {"category", "crime_type", "type", "offence", "offense"});
    m.weight = pick(fields, {"weight"});
    m.id = pick(fields, {"id", "incident_id", "crime_id"});
    return {"recognised column names", m, ""};
}

/// A field's text; typed date/time fields are rendered as ISO 8601 with their offset, if any,
/// so that they go through the same parser as text.
std::string field_text(OGRFeature& f, int i) {
    if (!f.IsFieldSetAndNotNull(i)) return {};
    const OGRFieldType type = f.GetFieldDefnRef(i)->GetType();
    if (type != OFTDateTime && type != OFTDate) return trim(f.GetFieldAsString(i));
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, tz = 0;
    float sec = 0;
    if (!f.GetFieldAsDateTime(i, &y, &mo, &d, &h, &mi, &sec, &tz)) return trim(f.GetFieldAsString(i));
    char buf[64];
    if (type == OFTDate) {
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, mo, d);
        return buf;
    }
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, static_cast<int>(sec));
    std::string out = buf;
    if (tz >= 100) { // OGR: 100 is UTC, each step 15 minutes
        const int offset = (tz - 100) * 15;
        std::snprintf(buf, sizeof buf, "%c%02d:%02d", offset < 0 ? '-' : '+', std::abs(offset) / 60,
                      std::abs(offset) % 60);
        out += buf;
    }
    return out;
}

struct FieldIndex {
    int x = -1, y = -1, time = -1, time_end = -1, category = -1, weight = -1, id = -1;
};

int field_index(OGRFeatureDefn& defn, const std::string& name, const std::string& role, const std::string& source,
                const std::vector<std::string>& fields) {
    if (name.empty()) return -1;
    const int i = defn.GetFieldIndex(name.c_str());
    if (i < 0) {
        std::string list;
        for (const auto& f : fields) list += (list.empty() ? "" : ", ") + f;
        throw InvalidInput("'" + source + "' has no column '" + name + "' for the " + role + "; its columns are: " +
                           list);
    }
    return i;
}

/// Coordinates in the source CRS -> working CRS, area-of-use checks, assembly of Incidents.
Incidents finish(Staging&& s, const Crs& source_crs, const std::string& working_definition, LoadReport& report,
                 Skipper& skipper, std::vector<std::string> categories, std::string time_zone) {
    const std::size_t n = s.x.size();
    std::vector<double> lon = s.x, lat = s.y;
    if (!source_crs.geographic || source_crs.authority != "EPSG:4326") {
        Transformer(source_crs, resolve_crs("EPSG:4326")).transform(lon, lat);
    }
    std::vector<bool> ok(n, true);
    std::size_t good = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (std::isnan(lon[i])) {
            ok[i] = false;
            skipper.skip(s.row[i], SkipReason::transform_failed, "(" + std::to_string(s.x[i]) + ", " +
                                                                       std::to_string(s.y[i]) + ") in " + source_crs.name);
        } else {
            ++good;
        }
    }
    Crs working;
    if (!working_definition.empty()) {
        working = resolve_crs(working_definition);
    } else {
        if (good == 0) {
            std::string reasons;
            std::vector<SkipReason> seen;
            for (const auto& k : report.skipped) {
                if (std::find(seen.begin(), seen.end(), k.reason) != seen.end()) continue;
                seen.push_back(k.reason);
                reasons += (reasons.empty() ? "" : ", ") + std::to_string(report.count(k.reason)) + " " +
                           std::string(to_string(k.reason));
            }
            throw InvalidInput(report.source + ": no incident left to load from " + std::to_string(report.rows_read) +
                               " rows" + (reasons.empty() ? "" : " (" + reasons + ")"));
        }
        // The median is robust to the stray far-away geocodes real data carry.
        std::vector<double> glon, glat;
        for (std::size_t i = 0; i < n; ++i)
            if (ok[i]) glon.push_back(lon[i]), glat.push_back(lat[i]);
        std::nth_element(glon.begin(), glon.begin() + glon.size() / 2, glon.end());
        std::nth_element(glat.begin(), glat.begin() + glat.size() / 2, glat.end());
        working = automatic_working_crs(glon[glon.size() / 2], glat[glat.size() / 2]);
        report.working_crs_automatic = true;
    }
    if (!working.projected || std::abs(working.metres_per_unit - 1.0) > 1e-12)
        throw CrsError("working CRS '" + working.name +
                       "' is not projected in metres: distances and densities need metres, e.g. EPSG:27700");
    report.working_crs = working.authority.empty() ? working.name : working.authority + " (" + working.name + ")";
    // Area of use with a one-degree margin: the check catches gross geocoding errors, not edge cases.
    const LonLatBox area{working.area_of_use.west - 1, working.area_of_use.south - 1, working.area_of_use.east + 1,
                         working.area_of_use.north + 1};
    for (std::size_t i = 0; i < n; ++i) {
        if (ok[i] && !area.contains(lon[i], lat[i])) {
            ok[i] = false;
            skipper.skip(s.row[i], SkipReason::outside_crs_area,
                         "lon/lat (" + std::to_string(lon[i]) + ", " + std::to_string(lat[i]) + ") outside " +
                             working.name);
        }
    }
    // Straight from the source CRS to the working CRS, not through longitude/latitude.
    std::vector<double> wx = s.x, wy = s.y;
    const bool same_crs = source_crs.wkt == working.wkt ||
                          (!source_crs.authority.empty() && source_crs.authority == working.authority);
    if (!same_crs) Transformer(source_crs, working).transform(wx, wy);
    Incidents out;
    out.crs = working;
    out.time_zone = std::move(time_zone);
    out.categories = std::move(categories);
    const bool with_ids = !s.ids.empty();
    for (std::size_t i = 0; i < n; ++i) {
        if (!ok[i]) continue;
        if (std::isnan(wx[i])) {
            skipper.skip(s.row[i], SkipReason::transform_failed, "into " + working.name);
            continue;
        }
        out.x.push_back(wx[i]);
        out.y.push_back(wy[i]);
        out.time.push_back(s.time[i]);
        out.time_end.push_back(s.time_end[i]);
        out.precision.push_back(s.precision[i]);
        out.category.push_back(s.category[i]);
        out.weight.push_back(s.weight[i]);
        out.source_row.push_back(s.row[i]);
        if (with_ids) out.ids.push_back(std::move(s.ids[i]));
    }
    report.rows_kept = static_cast<std::int64_t>(out.size());
    std::stable_sort(report.skipped.begin(), report.skipped.end(),
                     [](const SkippedRow& a, const SkippedRow& b) { return a.row < b.row; });
    return out;
}

} // namespace

Incidents read_incidents(const std::string& path, const ReadOptions& options, LoadReport* report_out) {
    LoadReport local_report;
    LoadReport& report = report_out != nullptr ? *report_out : local_report;
    report = LoadReport{};
    report.source = path;
    Skipper skipper(report, options.strict);

    detail::DatasetPtr ds = detail::open_vector(path);
    OGRLayer* layer = detail::find_layer(*ds, path, options.layer);
    report.layer = layer->GetName();
    OGRFeatureDefn& defn = *layer->GetLayerDefn();
    std::vector<std::string> fields;
    for (int i = 0; i < defn.GetFieldCount(); ++i) fields.emplace_back(defn.GetFieldDefn(i)->GetNameRef());

    const bool is_csv = std::string(ds->GetDriverName()) == "CSV";
    report.row_meaning = is_csv ? "row" : "feature";

    Schema schema;
    if (options.columns.empty()) {
        schema = recognise(fields);
        if (defn.GetGeomFieldCount() > 0) { // a layer's own geometry beats coordinate-like columns
            schema.columns.lon.clear(), schema.columns.lat.clear();
            schema.columns.x.clear(), schema.columns.y.clear();
        }
    } else {
        schema = {"mapped", options.columns, ""};
    }
    const ColumnMapping& m = schema.columns;
    const bool use_lonlat = !m.lon.empty() || !m.lat.empty();
    const bool use_xy = !m.x.empty() || !m.y.empty();
    if (use_lonlat && (m.lon.empty() || m.lat.empty()))
        throw InvalidInput("'" + path + "': lon and lat columns must be given together");
    if (use_xy && (m.x.empty() || m.y.empty()))
        throw InvalidInput("'" + path + "': x and y columns must be given together");
    if (use_lonlat && use_xy) throw InvalidInput("'" + path + "': give either x/y or lon/lat columns, not both");
    const bool use_geometry = !use_lonlat && !use_xy;
    if (use_geometry && defn.GetGeomFieldCount() == 0) {
        std::string list;
        for (const auto& f : fields) list += (list.empty() ? "" : ", ") + f;
        throw InvalidInput("'" + path + "' has no geometry and no recognised coordinate columns (expected lon/lat, "
                           "longitude/latitude or x/y, or an explicit column mapping); its columns are: " + list);
    }
    if (!options.columns.empty() || schema.name != "recognised column names") report.schema = schema.name;
    else report.schema = use_geometry ? "vector layer" : schema.name;

    FieldIndex fi;
    fi.x = field_index(defn, use_lonlat ? m.lon : m.x, use_lonlat ? "longitude" : "x coordinate", path, fields);
    fi.y = field_index(defn, use_lonlat ? m.lat : m.y, use_lonlat ? "latitude" : "y coordinate", path, fields);
    fi.time = field_index(defn, m.time, "time", path, fields);
    fi.time_end = field_index(defn, m.time_end, "end of the time range", path, fields);
    fi.category = field_index(defn, m.category, "category", path, fields);
    fi.weight = field_index(defn, m.weight, "weight", path, fields);
    fi.id = field_index(defn, m.id, "id", path, fields);

    Crs source_crs;
    if (!options.source_crs.empty()) {
        source_crs = resolve_crs(options.source_crs);
    } else if (use_geometry || use_xy) {
        const OGRSpatialReference* srs = use_geometry ? layer->GetSpatialRef() : nullptr;
        if (srs == nullptr)
            throw CrsError("'" + path + "': the coordinates' CRS is unknown; give it (source CRS, e.g. EPSG:27700)");
        char* wkt = nullptr;
        const char* wkt_options[] = {"FORMAT=WKT2_2019", nullptr};
        srs->exportToWkt(&wkt, wkt_options);
        const std::string text = wkt != nullptr ? wkt : "";
        CPLFree(wkt);
        source_crs = resolve_crs(text);
    } else {
        source_crs = resolve_crs("EPSG:4326");
    }
    report.source_crs = source_crs.authority.empty() ? source_crs.name : source_crs.authority;

    std::string zone = options.time_zone;
    if (zone.empty()) zone = schema.time_zone.empty() ? "UTC" : schema.time_zone;
    validate_time_zone(zone);
    const bool time_filter = options.time_from.has_value() || options.time_to.has_value();
    if (time_filter && fi.time < 0)
        throw InvalidInput("'" + path + "': a time filter was requested but no time column is mapped");
    if (!options.categories.empty() && fi.category < 0)
        throw InvalidInput("'" + path + "': a category filter was requested but no category column is mapped");

    std::unordered_map<std::string, std::int32_t> codes;
    std::vector<std::string> dictionary;
    Staging s;
    const bool geographic_source = source_crs.geographic;

    layer->ResetReading();
    std::int64_t sequence = 0;
    for (auto& feature : *layer) {
        ++sequence;
        ++report.rows_read;
        const GIntBig fid = feature->GetFID();
        const std::int64_t row = fid != OGRNullFID ? static_cast<std::int64_t>(fid) : sequence;

        double px = nan, py = nan;
        if (use_geometry) {
            const OGRGeometry* g = feature->GetGeometryRef();
            if (g == nullptr || g->IsEmpty()) {
                skipper.skip(row, SkipReason::missing_geometry, "empty geometry");
                continue;
            }
            if (wkbFlatten(g->getGeometryType()) != wkbPoint) {
                skipper.skip(row, SkipReason::missing_geometry,
                             std::string("geometry is ") + g->getGeometryName() + ", expected Point");
                continue;
            }
            const auto* p = g->toPoint();
            px = p->getX();
            py = p->getY();
            if (!std::isfinite(px) || !std::isfinite(py)) {
                skipper.skip(row, SkipReason::unparsable_coordinate, "non-finite point");
                continue;
            }
        } else {
            const std::string tx = field_text(*feature, fi.x);
            const std::string ty = field_text(*feature, fi.y);
            if (tx.empty() || ty.empty()) {
                skipper.skip(row, SkipReason::missing_coordinate,
                             std::string("empty ") + defn.GetFieldDefn(tx.empty() ? fi.x : fi.y)->GetNameRef());
                continue;
            }
            const auto vx = parse_double(tx);
            const auto vy = parse_double(ty);
            if (!vx || !vy) {
                skipper.skip(row, SkipReason::unparsable_coordinate, "'" + (vx ? ty : tx) + "'");
                continue;
            }
            px = *vx;
            py = *vy;
        }
        if (geographic_source && px == 0.0 && py == 0.0) {
            skipper.skip(row, SkipReason::null_island, "");
            continue;
        }
        if (geographic_source && (std::abs(px) > 180.0 || std::abs(py) > 90.0)) {
            skipper.skip(row, SkipReason::unparsable_coordinate,
                         "(" + std::to_string(px) + ", " + std::to_string(py) + ") is not a longitude/latitude");
            continue;
        }

        TimeRange t;
        if (fi.time >= 0) {
            const std::string text = field_text(*feature, fi.time);
            if (!text.empty()) {
                const auto parsed = parse_time(text, zone);
                if (!parsed) {
                    skipper.skip(row, SkipReason::unparsable_time, "'" + text + "'");
                    continue;
                }
                t = *parsed;
            }
        }
        if (fi.time_end >= 0 && t.precision != TimePrecision::none) {
            const std::string text = field_text(*feature, fi.time_end);
            if (!text.empty()) {
                const auto parsed = parse_time(text, zone);
                if (!parsed) {
                    skipper.skip(row, SkipReason::unparsable_time, "end '" + text + "'");
                    continue;
                }
                if (parsed->end < t.start) {
                    skipper.skip(row, SkipReason::unparsable_time, "end '" + text + "' before the start");
                    continue;
                }
                t.end = parsed->end;
                t.precision = std::min(t.precision, parsed->precision);
            }
        }

        double w = 1.0;
        if (fi.weight >= 0) {
            const std::string text = field_text(*feature, fi.weight);
            const auto v = parse_double(text);
            if (!v || *v < 0) {
                skipper.skip(row, SkipReason::non_finite_weight, "'" + text + "'");
                continue;
            }
            w = *v;
        }

        std::int32_t code = -1;
        if (fi.category >= 0) {
            const std::string cat = field_text(*feature, fi.category);
            if (!options.categories.empty() &&
                std::find(options.categories.begin(), options.categories.end(), cat) == options.categories.end()) {
                skipper.skip(row, SkipReason::outside_category_filter, "'" + cat + "'");
                continue;
            }
            if (!cat.empty()) {
                auto [it, inserted] = codes.try_emplace(cat, static_cast<std::int32_t>(dictionary.size()));
                if (inserted) dictionary.push_back(cat);
                code = it->second;
            }
        }

        if (time_filter) {
            if (t.precision == TimePrecision::none) {
                skipper.skip(row, SkipReason::missing_time, "");
                continue;
            }
            if ((options.time_from && t.start < *options.time_from) || (options.time_to && t.end >= *options.time_to)) {
                skipper.skip(row, SkipReason::outside_time_filter,
                             format_time(t.start, t.precision) +
                                 (t.end != t.start ? " to " + format_time(t.end, t.precision) : ""));
                continue;
            }
        }

        s.x.push_back(px);
        s.y.push_back(py);
        s.time.push_back(t.start);
        s.time_end.push_back(t.end);
        s.precision.push_back(t.precision);
        s.category.push_back(code);
        s.weight.push_back(w);
        s.row.push_back(row);
        if (fi.id >= 0) s.ids.push_back(field_text(*feature, fi.id));
    }

    Incidents out = finish(std::move(s), source_crs, options.working_crs, report, skipper, std::move(dictionary), zone);
    return out;
}

Incidents incidents_from_arrays(const ArrayInput& input, LoadReport* report_out) {
    LoadReport local_report;
    LoadReport& report = report_out != nullptr ? *report_out : local_report;
    report = LoadReport{};
    report.source = "arrays";
    report.schema = "arrays";
    report.row_meaning = "index";
    const std::size_t n = input.x.size();
    auto check = [n](std::size_t len, const char* name) {
        if (len != 0 && len != n)
            throw InvalidInput(std::string(name) + " has " + std::to_string(len) + " entries, expected " +
                               std::to_string(n) + " (the length of x)");
    };
    if (input.y.size() != n)
        throw InvalidInput("y has " + std::to_string(input.y.size()) + " entries, expected " + std::to_string(n) +
                           " (the length of x)");
    check(input.time.size(), "time");
    check(input.time_end.size(), "time_end");
    check(input.weight.size(), "weight");
    check(input.category.size(), "category");
    validate_time_zone(input.time_zone);
    const Crs source = resolve_crs(input.crs);
    report.source_crs = source.authority.empty() ? source.name : source.authority;
    Skipper skipper(report, false);
    const auto ncat = static_cast<std::int32_t>(input.categories.size());
    Staging s;
    for (std::size_t i = 0; i < n; ++i) {
        ++report.rows_read;
        const auto row = static_cast<std::int64_t>(i);
        if (!std::isfinite(input.x[i]) || !std::isfinite(input.y[i])) {
            skipper.skip(row, SkipReason::missing_coordinate, "non-finite x or y");
            continue;
        }
        if (source.geographic && input.x[i] == 0.0 && input.y[i] == 0.0) {
            skipper.skip(row, SkipReason::null_island, "");
            continue;
        }
        const double w = input.weight.empty() ? 1.0 : input.weight[i];
        if (!std::isfinite(w) || w < 0) {
            skipper.skip(row, SkipReason::non_finite_weight, std::to_string(w));
            continue;
        }
        const std::int32_t code = input.category.empty() ? -1 : input.category[i];
        if (code < -1 || code >= ncat)
            throw InvalidInput("category code " + std::to_string(code) + " at index " + std::to_string(i) +
                               " is outside the dictionary of " + std::to_string(ncat) + " categories");
        const LocalSeconds t = input.time.empty() ? no_time : input.time[i];
        LocalSeconds te = input.time_end.empty() ? t : input.time_end[i];
        if (te == no_time) te = t;
        if (t != no_time && te < t)
            throw InvalidInput("time_end at index " + std::to_string(i) + " is before its time");
        s.x.push_back(input.x[i]);
        s.y.push_back(input.y[i]);
        s.time.push_back(t);
        s.time_end.push_back(te);
        s.precision.push_back(t == no_time ? TimePrecision::none : TimePrecision::second);
        s.category.push_back(code);
        s.weight.push_back(w);
        s.row.push_back(row);
    }
    return finish(std::move(s), source, input.working_crs, report, skipper, input.categories, input.time_zone);
}

Incidents select(const Incidents& in, const std::vector<bool>& keep) {
    if (keep.size() != in.size())
        throw InvalidInput("select: mask has " + std::to_string(keep.size()) + " entries, expected " +
                           std::to_string(in.size()));
    Incidents out;
    out.crs = in.crs;
    out.time_zone = in.time_zone;
    out.categories = in.categories;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (!keep[i]) continue;
        out.x.push_back(in.x[i]);
        out.y.push_back(in.y[i]);
        out.time.push_back(in.time[i]);
        out.time_end.push_back(in.time_end[i]);
        out.precision.push_back(in.precision[i]);
        out.category.push_back(in.category[i]);
        out.weight.push_back(in.weight[i]);
        out.source_row.push_back(in.source_row[i]);
        if (!in.ids.empty()) out.ids.push_back(in.ids[i]);
    }
    return out;
}

} // namespace streetsafe
