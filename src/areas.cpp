// Area layers (wards, LSOAs, neighbourhoods): reading and repairing polygons, joining
// population, and incident counts and rates per area.

#include "streetsafe/areas.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <unordered_map>

#define GEOS_USE_ONLY_R_API
#include <geos_c.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include "gdal_util.hpp"
#include "streetsafe/error.hpp"

namespace streetsafe {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// ---------------------------------------------------------------------------------------------
// GEOS, reentrant API, one context per call (so per thread), every handle owned by RAII.

class GeosContext {
  public:
    GeosContext() : m_handle(GEOS_init_r()) {
        if (m_handle == nullptr) throw std::bad_alloc();
        GEOSContext_setErrorMessageHandler_r(m_handle, &GeosContext::on_error, this);
        GEOSContext_setNoticeMessageHandler_r(m_handle, &GeosContext::on_notice, nullptr);
    }
    ~GeosContext() { GEOS_finish_r(m_handle); }
    GeosContext(const GeosContext&) = delete;
    GeosContext& operator=(const GeosContext&) = delete;

    [[nodiscard]] GEOSContextHandle_t get() const { return m_handle; }
    /// GEOS' last error message, or a generic one.
    [[nodiscard]] std::string error() const {
        return m_error.empty() ? std::string("unknown GEOS error") : m_error;
    }

  private:
    static void on_error(const char* message, void* self) {
        static_cast<GeosContext*>(self)->m_error = message;
    }
    static void on_notice(const char*, void*) {}
    GEOSContextHandle_t m_handle;
    std::string m_error;
};

struct GeomDeleter {
    GEOSContextHandle_t h = nullptr;
    void operator()(GEOSGeometry* g) const { GEOSGeom_destroy_r(h, g); }
};
using GeomPtr = std::unique_ptr<GEOSGeometry, GeomDeleter>;

struct PreparedDeleter {
    GEOSContextHandle_t h = nullptr;
    void operator()(const GEOSPreparedGeometry* g) const { GEOSPreparedGeom_destroy_r(h, g); }
};
using PreparedPtr = std::unique_ptr<const GEOSPreparedGeometry, PreparedDeleter>;

struct TreeDeleter {
    GEOSContextHandle_t h = nullptr;
    void operator()(GEOSSTRtree* t) const { GEOSSTRtree_destroy_r(h, t); }
};
using TreePtr = std::unique_ptr<GEOSSTRtree, TreeDeleter>;

struct ReaderDeleter {
    GEOSContextHandle_t h = nullptr;
    void operator()(GEOSWKBReader* r) const { GEOSWKBReader_destroy_r(h, r); }
};
struct WriterDeleter {
    GEOSContextHandle_t h = nullptr;
    void operator()(GEOSWKBWriter* w) const { GEOSWKBWriter_destroy_r(h, w); }
};

/// A buffer GEOS allocated (WKB, messages).
struct GeosFree {
    GEOSContextHandle_t h = nullptr;
    void operator()(void* p) const { GEOSFree_r(h, p); }
};

GeomPtr own(const GeosContext& ctx, GEOSGeometry* g) {
    return GeomPtr(g, GeomDeleter{ctx.get()});
}

GeomPtr read_wkb(const GeosContext& ctx, const std::vector<unsigned char>& wkb) {
    std::unique_ptr<GEOSWKBReader, ReaderDeleter> reader(GEOSWKBReader_create_r(ctx.get()),
                                                         ReaderDeleter{ctx.get()});
    GeomPtr g = own(ctx, GEOSWKBReader_read_r(ctx.get(), reader.get(), wkb.data(), wkb.size()));
    if (!g) throw InvalidInput("cannot read a polygon's WKB: " + ctx.error());
    return g;
}

std::vector<unsigned char> write_wkb(const GeosContext& ctx, const GEOSGeometry& g) {
    std::unique_ptr<GEOSWKBWriter, WriterDeleter> writer(GEOSWKBWriter_create_r(ctx.get()),
                                                         WriterDeleter{ctx.get()});
    GEOSWKBWriter_setOutputDimension_r(ctx.get(), writer.get(), 2);
    GEOSWKBWriter_setByteOrder_r(ctx.get(), writer.get(), GEOS_WKB_NDR);
    GEOSWKBWriter_setFlavor_r(ctx.get(), writer.get(), GEOS_WKB_ISO);
    std::size_t size = 0;
    std::unique_ptr<unsigned char, GeosFree> buf(GEOSWKBWriter_write_r(ctx.get(), writer.get(), &g, &size),
                                                 GeosFree{ctx.get()});
    if (!buf) throw Error("cannot write a polygon as WKB: " + ctx.error());
    return {buf.get(), buf.get() + size};
}

/// The polygonal part of a MakeValid result: a Polygon or MultiPolygon (empty when nothing
/// polygonal is left).
GeomPtr polygonal_part(const GeosContext& ctx, GeomPtr g) {
    const auto h = ctx.get();
    const int type = GEOSGeomTypeId_r(h, g.get());
    if (type == GEOS_POLYGON || type == GEOS_MULTIPOLYGON) return g;
    std::vector<GEOSGeometry*> parts;
    auto collect = [&](const GEOSGeometry* part, auto&& self) -> void {
        const int t = GEOSGeomTypeId_r(h, part);
        if (t == GEOS_POLYGON) {
            if (!GEOSisEmpty_r(h, part)) parts.push_back(GEOSGeom_clone_r(h, part));
        } else if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
            const int n = GEOSGetNumGeometries_r(h, part);
            for (int i = 0; i < n; ++i)
                self(GEOSGetGeometryN_r(h, part, i), self);
        }
    };
    collect(g.get(), collect);
    if (parts.size() == 1) return own(ctx, parts.front());
    if (parts.empty()) return own(ctx, GEOSGeom_createEmptyCollection_r(h, GEOS_MULTIPOLYGON));
    GeomPtr out = own(ctx, GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts.data(),
                                                       static_cast<unsigned>(parts.size())));
    if (!out) {
        for (auto* p : parts)
            GEOSGeom_destroy_r(h, p);
        throw Error("cannot assemble a repaired polygon: " + ctx.error());
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// OGR helpers

struct OgrGeometryDeleter {
    void operator()(OGRGeometry* g) const { OGRGeometryFactory::destroyGeometry(g); }
};
using OgrGeometryPtr = std::unique_ptr<OGRGeometry, OgrGeometryDeleter>;

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

std::string lower_case(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool ends_with_ci(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && lower_case(s.substr(s.size() - suffix.size())) == suffix;
}

/// A whole field as a finite double: digits with an optional sign, decimals, exponent and
/// thousands separators ("1,234"); std::nullopt otherwise.
std::optional<double> parse_number(const std::string& text) {
    std::string t = trim(text);
    std::erase(t, ',');
    if (t.empty()) return std::nullopt;
    const char* first = t.data();
    const char* last = t.data() + t.size();
    if (*first == '+') ++first;
    double v = 0;
    const auto [ptr, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || ptr != last || !std::isfinite(v)) return std::nullopt;
    return v;
}

std::string field_list(OGRFeatureDefn& defn) {
    std::string out;
    for (int i = 0; i < defn.GetFieldCount(); ++i)
        out += (i ? ", " : "") + std::string(defn.GetFieldDefn(i)->GetNameRef());
    return out;
}

int require_field(OGRFeatureDefn& defn, const std::string& name, const std::string& role,
                  const std::string& source) {
    const int i = defn.GetFieldIndex(name.c_str());
    if (i < 0)
        throw InvalidInput("'" + source + "' has no field '" + name + "' for the " + role +
                           "; its fields are: " + field_list(defn));
    return i;
}

bool is_numeric(OGRFieldType t) {
    return t == OFTInteger || t == OFTInteger64 || t == OFTReal;
}

/// A numeric field's value, NaN when NULL; std::nullopt when the text is not a number.
std::optional<double> number_field(OGRFeature& f, int i) {
    if (!f.IsFieldSetAndNotNull(i)) return nan;
    if (is_numeric(f.GetFieldDefnRef(i)->GetType())) return f.GetFieldAsDouble(i);
    const std::string text = trim(f.GetFieldAsString(i));
    if (text.empty()) return nan;
    return parse_number(text);
}

std::string crs_wkt(const OGRSpatialReference& srs) {
    char* wkt = nullptr;
    const char* options[] = {"FORMAT=WKT2_2019", nullptr};
    srs.exportToWkt(&wkt, options);
    std::string text = wkt != nullptr ? wkt : "";
    CPLFree(wkt);
    return text;
}

bool same_crs(const Crs& a, const Crs& b) {
    if (!a.authority.empty() && !b.authority.empty()) return a.authority == b.authority;
    return a.wkt == b.wkt;
}

template <class F> void for_each_ring(OGRGeometry& g, F&& f) {
    switch (wkbFlatten(g.getGeometryType())) {
    case wkbPolygon:
        for (OGRLinearRing* ring : *g.toPolygon())
            f(*ring);
        break;
    case wkbMultiPolygon:
        for (OGRPolygon* poly : *g.toMultiPolygon())
            for (OGRLinearRing* ring : *poly)
                f(*ring);
        break;
    default:
        break;
    }
}

/// A feature as read, before projection and repair.
struct RawArea {
    std::int64_t feature;
    std::string id, name;
    double population;
    OgrGeometryPtr geometry;
};

} // namespace

AreaLayer read_areas(const std::string& path, const AreaReadOptions& options, LoadReport* report_out) {
    LoadReport local_report;
    LoadReport& report = report_out != nullptr ? *report_out : local_report;
    report = LoadReport{};
    report.source = path;
    report.schema = "area layer";
    report.row_meaning = "feature";
    if (options.id_field.empty())
        throw InvalidInput("read_areas: id_field is required (a unique key of the areas)");

    detail::DatasetPtr ds = detail::open_vector(path);
    OGRLayer* layer = detail::find_layer(*ds, path, options.layer);
    report.layer = layer->GetName();
    const std::string where_source = "'" + path + "' (layer " + report.layer + ")";
    OGRFeatureDefn& defn = *layer->GetLayerDefn();
    const int id_index = require_field(defn, options.id_field, "area id", path);
    const int name_index =
        options.name_field.empty() ? -1 : require_field(defn, options.name_field, "area name", path);
    const int pop_index = options.population_field.empty()
                              ? -1
                              : require_field(defn, options.population_field, "population", path);
    if (!options.where.empty()) {
        CPLErrorReset();
        if (layer->SetAttributeFilter(options.where.c_str()) != OGRERR_NONE)
            throw InvalidInput(where_source + ": the filter \"" + options.where +
                               "\" is not valid: " + detail::gdal_last_error());
    }

    // 1. Read features, checking ids and geometry types.
    std::vector<RawArea> raw;
    std::unordered_map<std::string, std::int64_t> first_feature_of;
    layer->ResetReading();
    std::int64_t sequence = 0;
    for (auto& feature : *layer) {
        ++sequence;
        ++report.rows_read;
        const GIntBig fid = feature->GetFID();
        const std::int64_t row = fid != OGRNullFID ? static_cast<std::int64_t>(fid) : sequence;
        const std::string id = feature->IsFieldSetAndNotNull(id_index)
                                   ? trim(feature->GetFieldAsString(id_index))
                                   : std::string();
        if (id.empty())
            throw InvalidInput(where_source + " feature " + std::to_string(row) + ": empty id (field " +
                               options.id_field + ")");
        const auto [it, inserted] = first_feature_of.try_emplace(id, row);
        if (!inserted)
            throw InvalidInput(where_source + ": features " + std::to_string(it->second) + " and " +
                               std::to_string(row) + " both have id '" + id + "' (field " + options.id_field +
                               "); area ids must be unique");
        OGRGeometry* g = feature->GetGeometryRef();
        if (g == nullptr || g->IsEmpty()) {
            report.skipped.push_back(
                {row, SkipReason::missing_geometry, "area '" + id + "' has no geometry"});
            continue;
        }
        OgrGeometryPtr geometry(feature->StealGeometry());
        const OGRwkbGeometryType type = wkbFlatten(geometry->getGeometryType());
        if (type == wkbCurvePolygon || type == wkbMultiSurface) {
            geometry.reset(OGRGeometryFactory::forceTo(geometry.release(), wkbMultiPolygon));
        } else if (type != wkbPolygon && type != wkbMultiPolygon) {
            throw InvalidInput(where_source + " feature " + std::to_string(row) + " (id '" + id +
                               "'): geometry is " + geometry->getGeometryName() +
                               ", expected Polygon or MultiPolygon");
        }
        geometry->flattenTo2D();
        double pop = nan;
        if (pop_index >= 0) {
            const auto v = number_field(*feature, pop_index);
            if (!v || *v < 0)
                throw InvalidInput(where_source + " feature " + std::to_string(row) + " (id '" + id +
                                   "'): population '" + feature->GetFieldAsString(pop_index) +
                                   "' is not a number of residents");
            pop = *v;
        }
        std::string name = name_index >= 0 && feature->IsFieldSetAndNotNull(name_index)
                               ? std::string(feature->GetFieldAsString(name_index))
                               : std::string();
        raw.push_back({row, id, std::move(name), pop, std::move(geometry)});
    }
    if (raw.empty())
        throw InvalidInput(
            where_source + ": no area with a geometry" +
            (options.where.empty() ? std::string() : " matches the filter \"" + options.where + "\""));

    // 2. CRS: the layer's (or the given one) to the working CRS.
    Crs source;
    if (!options.source_crs.empty()) {
        source = resolve_crs(options.source_crs);
    } else {
        const OGRSpatialReference* srs = layer->GetSpatialRef();
        if (srs == nullptr)
            throw CrsError(where_source +
                           ": the layer's CRS is unknown; give it (source CRS, e.g. EPSG:27700)");
        source = resolve_crs(crs_wkt(*srs));
    }
    report.source_crs = source.authority.empty() ? source.name : source.authority;

    std::vector<double> xs, ys;
    for (auto& a : raw)
        for_each_ring(*a.geometry, [&](OGRLinearRing& ring) {
            for (int i = 0; i < ring.getNumPoints(); ++i)
                xs.push_back(ring.getX(i)), ys.push_back(ring.getY(i));
        });
    Crs working;
    if (!options.working_crs.empty()) {
        working = resolve_crs(options.working_crs);
    } else {
        const auto [min_x, max_x] = std::minmax_element(xs.begin(), xs.end());
        const auto [min_y, max_y] = std::minmax_element(ys.begin(), ys.end());
        std::vector<double> lon{(*min_x + *max_x) / 2}, lat{(*min_y + *max_y) / 2};
        if (!(source.geographic && source.authority == "EPSG:4326"))
            Transformer(source, resolve_crs("EPSG:4326")).transform(lon, lat);
        if (!std::isfinite(lon[0]) || !std::isfinite(lat[0]))
            throw CrsError(where_source +
                           ": the centre of the areas cannot be located in longitude/latitude");
        working = automatic_working_crs(lon[0], lat[0]);
        report.working_crs_automatic = true;
    }
    if (!working.projected)
        throw InvalidInput(where_source + ": the working CRS " + working.name +
                           " is not projected; areas and densities need metres");
    report.working_crs = working.authority.empty() ? working.name : working.authority;

    if (!same_crs(source, working)) {
        Transformer(source, working).transform(xs, ys);
        std::size_t k = 0;
        for (auto& a : raw) {
            for_each_ring(*a.geometry, [&](OGRLinearRing& ring) {
                for (int i = 0; i < ring.getNumPoints(); ++i, ++k) {
                    if (!std::isfinite(xs[k]) || !std::isfinite(ys[k]))
                        throw CrsError(where_source + " feature " + std::to_string(a.feature) + " (id '" +
                                       a.id + "'): a vertex cannot be transformed into " + working.name);
                    ring.setPoint(i, xs[k], ys[k]);
                }
            });
        }
    }

    // 3. Validity, repair, area and centroid with GEOS.
    GeosContext ctx;
    const auto h = ctx.get();
    AreaLayer out;
    out.crs = working;
    const bool with_names = name_index >= 0;
    for (auto& a : raw) {
        std::vector<unsigned char> wkb(a.geometry->WkbSize());
        a.geometry->exportToWkb(wkbNDR, wkb.data(), wkbVariantIso);
        GeomPtr g = read_wkb(ctx, wkb);
        const char valid = GEOSisValid_r(h, g.get());
        if (valid == 2) throw Error(where_source + ": GEOS cannot check area '" + a.id + "': " + ctx.error());
        if (valid == 0) {
            std::unique_ptr<char, GeosFree> reason(GEOSisValidReason_r(h, g.get()), GeosFree{h});
            GeomPtr fixed = own(ctx, GEOSMakeValid_r(h, g.get()));
            if (!fixed)
                throw Error(where_source + ": GEOS cannot repair area '" + a.id + "': " + ctx.error());
            g = polygonal_part(ctx, std::move(fixed));
            out.repaired.push_back(
                {out.ids.size(), a.feature, a.id, reason ? std::string(reason.get()) : "invalid"});
            wkb = write_wkb(ctx, *g);
        }
        double area = 0;
        if (GEOSArea_r(h, g.get(), &area) == 0)
            throw Error("GEOS cannot measure area '" + a.id + "': " + ctx.error());
        double cx = nan, cy = nan;
        if (!GEOSisEmpty_r(h, g.get())) {
            GeomPtr c = own(ctx, GEOSGetCentroid_r(h, g.get()));
            if (!c || GEOSGeomGetX_r(h, c.get(), &cx) == 0 || GEOSGeomGetY_r(h, c.get(), &cy) == 0)
                throw Error("GEOS cannot find the centroid of area '" + a.id + "': " + ctx.error());
        }
        out.ids.push_back(a.id);
        if (with_names) out.names.push_back(std::move(a.name));
        out.population.push_back(a.population);
        out.wkb.push_back(std::move(wkb));
        out.area_m2.push_back(area);
        out.centroid_x.push_back(cx);
        out.centroid_y.push_back(cy);
    }
    report.rows_kept = static_cast<std::int64_t>(out.size());
    return out;
}

// ---------------------------------------------------------------------------------------------
// Population

namespace {

/// Opens a table; CSVs with their column types detected from the content when `typed`.
detail::DatasetPtr open_table(const std::string& path, bool typed) {
    const bool csv = ends_with_ci(path, ".csv") || ends_with_ci(path, ".csv.gz");
    if (!csv || !typed) return detail::open_vector(path);
    detail::ensure_gdal();
    CPLErrorReset();
    const std::string name = ends_with_ci(path, ".gz") ? "/vsigzip/" + path : path;
    const char* drivers[] = {"CSV", nullptr};
    const char* open_options[] = {"AUTODETECT_TYPE=YES", "AUTODETECT_SIZE_LIMIT=0",
                                  "EMPTY_STRING_AS_NULL=YES", nullptr};
    detail::DatasetPtr ds(
        GDALDataset::Open(name.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, open_options));
    if (!ds) throw IoError("cannot open '" + path + "' as a CSV table: " + detail::gdal_last_error());
    return ds;
}

/// A key without leading zeros when it is an integer ("007" -> "7"), else itself.
std::string numeric_key(const std::string& key) {
    std::string_view s = key;
    std::string sign;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        if (s[0] == '-') sign = "-";
        s.remove_prefix(1);
    }
    // "12.0" (a real field printed) is the integer 12.
    if (const auto dot = s.find('.');
        dot != std::string_view::npos && s.substr(dot + 1).find_first_not_of('0') == std::string_view::npos)
        s = s.substr(0, dot);
    if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) return key;
    const auto nz = s.find_first_not_of('0');
    return nz == std::string_view::npos ? "0" : sign + std::string(s.substr(nz));
}

} // namespace

std::vector<std::string> join_population(AreaLayer& areas, const std::string& path,
                                         const std::string& key_field, const std::string& value_field,
                                         const std::string& where) {
    if (key_field.empty() || value_field.empty())
        throw InvalidInput("join_population: key_field and value_field are required");
    detail::DatasetPtr ds = open_table(path, true);
    OGRLayer* layer = detail::find_layer(*ds, path, "");
    if (!where.empty()) {
        CPLErrorReset();
        if (layer->SetAttributeFilter(where.c_str()) != OGRERR_NONE) {
            // The filter may compare a column as text that detection typed as a number: retry untyped.
            const std::string typed_error = detail::gdal_last_error();
            ds = open_table(path, false);
            layer = detail::find_layer(*ds, path, "");
            CPLErrorReset();
            if (layer->SetAttributeFilter(where.c_str()) != OGRERR_NONE)
                throw InvalidInput("'" + path + "': the filter \"" + where +
                                   "\" is not valid: " + typed_error);
        }
    }
    OGRFeatureDefn& defn = *layer->GetLayerDefn();
    const int key_index = require_field(defn, key_field, "area key", path);
    const int value_index = require_field(defn, value_field, "population", path);

    std::unordered_map<std::string, std::size_t> by_id, by_number;
    for (std::size_t i = 0; i < areas.size(); ++i) {
        by_id.emplace(areas.ids[i], i);
        by_number.emplace(numeric_key(areas.ids[i]), i);
    }
    std::vector<double> population(areas.size(), nan);
    std::vector<std::int64_t> row_of(areas.size(), -1);
    layer->ResetReading();
    std::int64_t sequence = 0;
    for (auto& feature : *layer) {
        ++sequence;
        const GIntBig fid = feature->GetFID();
        const std::int64_t row = fid != OGRNullFID ? static_cast<std::int64_t>(fid) : sequence;
        if (!feature->IsFieldSetAndNotNull(key_index)) continue;
        const std::string key = trim(feature->GetFieldAsString(key_index));
        std::size_t area = 0;
        if (const auto exact = by_id.find(key); exact != by_id.end())
            area = exact->second;
        else if (const auto number = by_number.find(numeric_key(key)); number != by_number.end())
            area = number->second;
        else
            continue;
        if (row_of[area] >= 0)
            throw InvalidInput("'" + path + "': rows " + std::to_string(row_of[area]) + " and " +
                               std::to_string(row) + " both give the population of area '" + areas.ids[area] +
                               "' (" + key_field + " = '" + key +
                               "'); select one row per area with a filter (e.g. a year)");
        row_of[area] = row;
        const auto v = number_field(*feature, value_index);
        if (!v || *v < 0)
            throw InvalidInput("'" + path + "' row " + std::to_string(row) + ": " + value_field + " '" +
                               feature->GetFieldAsString(value_index) + "' is not a number of residents");
        population[area] = *v;
    }
    std::vector<std::string> missing;
    for (std::size_t i = 0; i < areas.size(); ++i)
        if (std::isnan(population[i])) missing.push_back(areas.ids[i]);
    areas.population = std::move(population);
    return missing;
}

// ---------------------------------------------------------------------------------------------
// Rates

void AreaRateOptions::validate() const {
    if (!std::isfinite(min_population) || min_population < 0)
        throw InvalidInput("AreaRateOptions: min_population must be a finite number >= 0, got " +
                           std::to_string(min_population));
}

namespace {

void check_layer(const AreaLayer& a) {
    const std::size_t n = a.size();
    auto check = [n](std::size_t len, const char* field) {
        if (len != n)
            throw InvalidInput(std::string("AreaLayer: ") + field + " has " + std::to_string(len) +
                               " entries, expected " + std::to_string(n) + " (one per id)");
    };
    check(a.population.size(), "population");
    check(a.wkb.size(), "wkb");
    check(a.area_m2.size(), "area_m2");
    check(a.centroid_x.size(), "centroid_x");
    check(a.centroid_y.size(), "centroid_y");
    if (!a.names.empty()) check(a.names.size(), "names");
}

/// Competition ranks of `v` (1 = highest; ties share the best rank); NaN gets 0.
std::vector<std::int64_t> competition_ranks(const std::vector<double>& v) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < v.size(); ++i)
        if (!std::isnan(v[i])) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] > v[b]; });
    std::vector<std::int64_t> rank(v.size(), 0);
    for (std::size_t k = 0; k < order.size(); ++k)
        rank[order[k]] =
            (k > 0 && v[order[k]] == v[order[k - 1]]) ? rank[order[k - 1]] : static_cast<std::int64_t>(k + 1);
    return rank;
}

} // namespace

AreaRates area_rates(const AreaLayer& areas, const Incidents& incidents, const AreaRateOptions& options) {
    options.validate();
    check_layer(areas);
    if (incidents.y.size() != incidents.size() || incidents.weight.size() != incidents.size())
        throw InvalidInput("area_rates: the incidents' x, y and weight arrays differ in length");
    const std::size_t n_areas = areas.size();
    const std::size_t n = incidents.size();

    std::vector<double> xs = incidents.x, ys = incidents.y;
    if (!incidents.crs.wkt.empty() && !areas.crs.wkt.empty() && !same_crs(incidents.crs, areas.crs))
        Transformer(incidents.crs, areas.crs).transform(xs, ys);

    GeosContext ctx;
    const auto h = ctx.get();
    std::vector<GeomPtr> geoms;
    std::vector<PreparedPtr> prepared;
    geoms.reserve(n_areas);
    prepared.reserve(n_areas);
    std::vector<std::size_t> items(n_areas);
    std::iota(items.begin(), items.end(), std::size_t{0});
    TreePtr tree(GEOSSTRtree_create_r(h, 10), TreeDeleter{h});
    if (!tree) throw Error("cannot create a GEOS STRtree: " + ctx.error());
    for (std::size_t i = 0; i < n_areas; ++i) {
        geoms.push_back(read_wkb(ctx, areas.wkb[i]));
        prepared.emplace_back(GEOSPrepare_r(h, geoms.back().get()), PreparedDeleter{h});
        if (!prepared.back()) throw Error("cannot prepare area '" + areas.ids[i] + "': " + ctx.error());
        if (!GEOSisEmpty_r(h, geoms.back().get()))
            GEOSSTRtree_insert_r(h, tree.get(), geoms.back().get(), &items[i]);
    }

    AreaRates r;
    r.weighted = options.weighted;
    r.count.assign(n_areas, 0);
    r.weighted_count.assign(n_areas, 0.0);
    r.area_of_incident.assign(n, -1);

    std::vector<std::size_t> candidates;
    const auto collect = [](void* item, void* userdata) {
        static_cast<std::vector<std::size_t>*>(userdata)->push_back(*static_cast<std::size_t*>(item));
    };
    for (std::size_t i = 0; i < n; ++i) {
        std::int64_t assigned = -1;
        if (std::isfinite(xs[i]) && std::isfinite(ys[i]) && n_areas > 0) {
            GEOSCoordSequence* seq = GEOSCoordSeq_create_r(h, 1, 2);
            if (seq == nullptr || GEOSCoordSeq_setXY_r(h, seq, 0, xs[i], ys[i]) == 0) {
                if (seq != nullptr) GEOSCoordSeq_destroy_r(h, seq);
                throw Error("cannot create a GEOS point: " + ctx.error());
            }
            GeomPtr point = own(ctx, GEOSGeom_createPoint_r(h, seq));
            if (!point) throw Error("cannot create a GEOS point: " + ctx.error());
            candidates.clear();
            GEOSSTRtree_query_r(h, tree.get(), point.get(), collect, &candidates);
            std::sort(candidates.begin(), candidates.end());
            for (std::size_t a : candidates) {
                const char covers = GEOSPreparedCovers_r(h, prepared[a].get(), point.get());
                if (covers == 2) throw Error("GEOS point-in-polygon failed: " + ctx.error());
                if (covers == 1) {
                    assigned = static_cast<std::int64_t>(a);
                    break;
                }
            }
        }
        r.area_of_incident[i] = assigned;
        if (assigned >= 0) {
            ++r.count[static_cast<std::size_t>(assigned)];
            r.weighted_count[static_cast<std::size_t>(assigned)] += incidents.weight[i];
        } else {
            ++r.outside_count;
            r.outside_weight += incidents.weight[i];
            r.outside_rows.push_back(i < incidents.source_row.size() ? incidents.source_row[i]
                                                                     : static_cast<std::int64_t>(i));
        }
    }

    r.total = options.weighted ? std::accumulate(incidents.weight.begin(), incidents.weight.end(), 0.0)
                               : static_cast<double>(n);
    r.rate_per_1000.assign(n_areas, nan);
    r.density_per_km2.assign(n_areas, nan);
    r.share.assign(n_areas, nan);
    std::vector<double> measures(n_areas);
    for (std::size_t a = 0; a < n_areas; ++a) {
        const double m = r.measure(a);
        measures[a] = m;
        const double pop = areas.population[a];
        if (std::isfinite(pop) && pop > 0 && pop >= options.min_population)
            r.rate_per_1000[a] = m / pop * 1000.0;
        if (areas.area_m2[a] > 0) r.density_per_km2[a] = m / (areas.area_m2[a] / 1e6);
        if (r.total > 0) r.share[a] = m / r.total;
    }
    r.rank_by_rate = competition_ranks(r.rate_per_1000);
    r.rank_by_count = competition_ranks(measures);
    return r;
}

FeatureTable area_rates_table(const AreaLayer& areas, const AreaRates& rates) {
    check_layer(areas);
    const std::size_t n = areas.size();
    if (rates.size() != n || rates.weighted_count.size() != n || rates.rate_per_1000.size() != n ||
        rates.density_per_km2.size() != n || rates.rank_by_rate.size() != n ||
        rates.rank_by_count.size() != n || rates.share.size() != n)
        throw InvalidInput("area_rates_table: the rates have " + std::to_string(rates.size()) +
                           " areas, the layer " + std::to_string(n));
    FeatureTable t;
    t.crs_wkt = areas.crs.wkt;
    t.wkb = areas.wkb;
    t.columns.push_back({"area_id", areas.ids});
    if (!areas.names.empty()) t.columns.push_back({"name", areas.names});
    t.columns.push_back({"population", areas.population});
    std::vector<double> km2(n), pct(n);
    for (std::size_t i = 0; i < n; ++i) {
        km2[i] = areas.area_m2[i] / 1e6;
        pct[i] = rates.share[i] * 100.0;
    }
    t.columns.push_back({"area_km2", std::move(km2)});
    t.columns.push_back({"incidents", rates.count});
    t.columns.push_back({"weighted_incidents", rates.weighted_count});
    t.columns.push_back({"rate_per_1000", rates.rate_per_1000});
    t.columns.push_back({"density_per_km2", rates.density_per_km2});
    t.columns.push_back({"rank_rate", rates.rank_by_rate});
    t.columns.push_back({"rank_count", rates.rank_by_count});
    t.columns.push_back({"share_pct", std::move(pct)});
    return t;
}

void write_area_rates_gpkg(const std::string& path, const std::string& layer, const AreaLayer& areas,
                           const AreaRates& rates, int classes) {
    const FeatureTable table = area_rates_table(areas, rates);
    const bool any_rate = std::any_of(rates.rate_per_1000.begin(), rates.rate_per_1000.end(),
                                      [](double v) { return std::isfinite(v); });
    const std::string what = rates.weighted ? "Weighted incidents" : "Incidents";
    LayerStyle style =
        any_rate ? graduated_style("rate_per_1000", rates.rate_per_1000, classes, "per 1,000 residents")
                 : graduated_style("density_per_km2", rates.density_per_km2, classes, "per km²");
    style.title = what + (any_rate ? " per 1,000 residents" : " per km²");
    write_gpkg_layer(path, layer, table, style);
}

} // namespace streetsafe
