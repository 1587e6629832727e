#include "streetsafe/crs.hpp"

#include <cmath>
#include <limits>
#include <string>

#include <proj.h>

#include "streetsafe/error.hpp"

namespace streetsafe {

namespace {

struct ContextDeleter {
    void operator()(PJ_CONTEXT* c) const { proj_context_destroy(c); }
};
struct PjDeleter {
    void operator()(PJ* p) const { proj_destroy(p); }
};
using ContextPtr = std::unique_ptr<PJ_CONTEXT, ContextDeleter>;
using PjPtr = std::unique_ptr<PJ, PjDeleter>;

ContextPtr new_context() {
    ContextPtr ctx(proj_context_create());
    if (!ctx) throw CrsError("cannot create a PROJ context");
    proj_log_level(ctx.get(), PJ_LOG_NONE);
    return ctx;
}

/// One PROJ context per thread for resolving CRS definitions.
PJ_CONTEXT* thread_context() {
    thread_local ContextPtr ctx = new_context();
    return ctx.get();
}

std::string last_proj_error(PJ_CONTEXT* ctx) {
    const int code = proj_context_errno(ctx);
    return code != 0 ? proj_context_errno_string(ctx, code) : "not a CRS PROJ recognises";
}

PjPtr create_crs(PJ_CONTEXT* ctx, std::string_view definition) {
    const std::string def(definition);
    PjPtr pj(proj_create(ctx, def.c_str()));
    if (!pj) throw CrsError("cannot resolve CRS '" + def + "': " + last_proj_error(ctx));
    if (proj_get_type(pj.get()) == PJ_TYPE_BOUND_CRS) pj.reset(proj_get_source_crs(ctx, pj.get()));
    if (!pj || !proj_is_crs(pj.get()))
        throw CrsError("'" + def + "' is not a coordinate reference system (expected e.g. EPSG:27700 or WKT)");
    return pj;
}

/// The horizontal part of a compound CRS, else the CRS itself.
PjPtr horizontal(PJ_CONTEXT* ctx, PjPtr pj) {
    if (proj_get_type(pj.get()) == PJ_TYPE_COMPOUND_CRS) return PjPtr(proj_crs_get_sub_crs(ctx, pj.get(), 0));
    return pj;
}

Crs describe(PJ_CONTEXT* ctx, const PJ* pj, std::string definition) {
    Crs crs;
    crs.definition = std::move(definition);
    const char* wkt_options[] = {"MULTILINE=NO", nullptr};
    if (const char* wkt = proj_as_wkt(ctx, pj, PJ_WKT2_2019, wkt_options)) crs.wkt = wkt;
    if (const char* name = proj_get_name(pj)) crs.name = name;
    if (const char* auth = proj_get_id_auth_name(pj, 0)) {
        const char* code = proj_get_id_code(pj, 0);
        crs.authority = std::string(auth) + ":" + (code != nullptr ? code : "");
    }
    PjPtr flat = horizontal(ctx, PjPtr(proj_clone(ctx, pj)));
    const PJ_TYPE type = proj_get_type(flat.get());
    crs.projected = type == PJ_TYPE_PROJECTED_CRS;
    crs.geographic = type == PJ_TYPE_GEOGRAPHIC_2D_CRS || type == PJ_TYPE_GEOGRAPHIC_3D_CRS;
    if (crs.projected) {
        PjPtr cs(proj_crs_get_coordinate_system(ctx, flat.get()));
        double factor = 1.0;
        if (cs && proj_cs_get_axis_info(ctx, cs.get(), 0, nullptr, nullptr, nullptr, &factor, nullptr, nullptr,
                                        nullptr))
            crs.metres_per_unit = factor;
    }
    double west = 0, south = 0, east = 0, north = 0;
    if (proj_get_area_of_use(ctx, pj, &west, &south, &east, &north, nullptr) && west > -1000) {
        crs.area_of_use = {west, south, east, north};
    }
    return crs;
}

bool in_great_britain(double lon, double lat) {
    // EPSG:27700's area of use, without the island of Ireland (Irish Grid / ITM there).
    const bool gb_box = lon >= -9.01 && lon <= 2.01 && lat >= 49.75 && lat <= 61.01;
    const bool ireland = lon >= -10.7 && lon <= -5.43 && lat >= 51.3 && lat <= 55.45;
    return gb_box && !ireland;
}

} // namespace

Crs resolve_crs(std::string_view definition) {
    if (definition.empty()) throw CrsError("empty CRS definition: expected e.g. EPSG:27700, WKT or a PROJ string");
    PJ_CONTEXT* ctx = thread_context();
    PjPtr pj = create_crs(ctx, definition);
    return describe(ctx, pj.get(), std::string(definition));
}

Crs automatic_working_crs(double lon, double lat) {
    if (!std::isfinite(lon) || !std::isfinite(lat) || std::abs(lat) > 90)
        throw CrsError("cannot choose a working CRS for a data centre at (" + std::to_string(lon) + ", " +
                       std::to_string(lat) + "): not a longitude/latitude");
    if (in_great_britain(lon, lat)) return resolve_crs("EPSG:27700");
    const double wrapped = std::fmod(std::fmod(lon + 180.0, 360.0) + 360.0, 360.0);
    int zone = static_cast<int>(std::floor(wrapped / 6.0)) + 1;
    if (zone > 60) zone = 60;
    // The two exceptions of the UTM grid: south-west Norway and Svalbard.
    if (lat >= 56 && lat < 64 && lon >= 3 && lon < 12) zone = 32;
    if (lat >= 72 && lat < 84 && lon >= 0 && lon < 42) zone = lon < 9 ? 31 : lon < 21 ? 33 : lon < 33 ? 35 : 37;
    return resolve_crs("EPSG:" + std::to_string((lat >= 0 ? 32600 : 32700) + zone));
}

struct Transformer::Impl {
    ContextPtr ctx;
    PjPtr op;
};

Transformer::Transformer(const Crs& from, const Crs& to) : m_impl(std::make_unique<Impl>()) {
    m_impl->ctx = new_context();
    PJ_CONTEXT* ctx = m_impl->ctx.get();
    PjPtr src = create_crs(ctx, from.wkt.empty() ? from.definition : from.wkt);
    PjPtr dst = create_crs(ctx, to.wkt.empty() ? to.definition : to.wkt);
    PjPtr op(proj_create_crs_to_crs_from_pj(ctx, src.get(), dst.get(), nullptr, nullptr));
    if (!op)
        throw CrsError("no transformation from '" + from.name + "' to '" + to.name + "': " + last_proj_error(ctx));
    PjPtr normalised(proj_normalize_for_visualization(ctx, op.get()));
    if (!normalised)
        throw CrsError("cannot normalise the axis order of '" + from.name + "' -> '" + to.name + "'");
    m_impl->op = std::move(normalised);
}

Transformer::~Transformer() = default;
Transformer::Transformer(Transformer&&) noexcept = default;
Transformer& Transformer::operator=(Transformer&&) noexcept = default;

void Transformer::transform(std::span<double> x, std::span<double> y) const {
    if (x.size() != y.size()) throw InvalidInput("Transformer::transform: x and y differ in length");
    proj_trans_generic(m_impl->op.get(), PJ_FWD, x.data(), sizeof(double), x.size(), y.data(), sizeof(double),
                       y.size(), nullptr, 0, 0, nullptr, 0, 0);
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (!std::isfinite(x[i]) || !std::isfinite(y[i]) || x[i] == HUGE_VAL) {
            x[i] = std::numeric_limits<double>::quiet_NaN();
            y[i] = std::numeric_limits<double>::quiet_NaN();
        }
    }
}

} // namespace streetsafe
