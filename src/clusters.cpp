// Space-time clustering: the Knox near-repeat test and ST-DBSCAN.
//
// Knox: the pairs closer than the last distance edge are found once with a uniform grid (cell =
// last edge) and stored grouped by distance band. A Monte Carlo replicate permutes the times
// among the locations and only recounts the time bands of those pairs, so R replicates cost
// O(R × close pairs) rather than O(R × n²). Replicate r draws its permutation from its own
// SplitMix64 stream (seeded from seed + r), so any number of threads gives the same counts; the
// per-replicate counts are stored and reduced in replicate order.
//
// ST-DBSCAN: neighbours through a grid of cell eps_m, filtered by the time distance; core points
// by count, clusters as connected components of cores (union-find), border points to the lowest
// cluster number among their core neighbours. Hulls through the GEOS reentrant C API.

#include "streetsafe/clusters.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <memory>
#include <limits>
#include <numeric>
#include <sstream>
#include <variant>

#include <geos_c.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "streetsafe/error.hpp"

namespace streetsafe {

namespace {

constexpr double seconds_per_day = 86400.0;

// ---------------------------------------------------------------------------------------------
// Random numbers

std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/// Uniform in [0, bound) by rejection (no modulo bias), bound >= 1.
std::uint64_t bounded(std::uint64_t& state, std::uint64_t bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        const std::uint64_t r = splitmix64(state);
        if (r >= threshold) return r % bound;
    }
}

void fill_permutation(std::uint32_t* perm, std::size_t n, std::uint64_t seed, std::uint64_t replicate) {
    std::iota(perm, perm + n, std::uint32_t{0});
    std::uint64_t seeder = seed + replicate;
    std::uint64_t state = splitmix64(seeder);
    for (std::size_t i = n; i > 1; --i) {
        const auto j = std::size_t(bounded(state, i));
        std::swap(perm[i - 1], perm[j]);
    }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

tbb::task_arena make_arena(const Context& context) {
    return tbb::task_arena(context.threads > 0 ? context.threads : tbb::task_arena::automatic);
}

/// Runs body(begin, end) over [0, n) in parallel in chunks, between which the calling thread
/// checks for cancellation and reports progress from `from` to `to`.
template <class Body>
void run_chunked(tbb::task_arena& arena, const Context& context, std::size_t n, std::string_view stage,
                 double from, double to, const Body& body) {
    const auto threads = std::size_t(std::max(1, arena.max_concurrency()));
    const std::size_t chunks = std::max<std::size_t>(1, std::min(n, std::max<std::size_t>(4 * threads, 16)));
    for (std::size_t k = 0; k < chunks; ++k) {
        const std::size_t begin = n * k / chunks, end = n * (k + 1) / chunks;
        arena.execute([&] {
            tbb::parallel_for(tbb::blocked_range<std::size_t>(begin, end),
                              [&](const tbb::blocked_range<std::size_t>& range) {
                                  if (context.cancelled()) return;
                                  body(range.begin(), range.end());
                              });
        });
        context.check(stage);
        context.report(from + (to - from) * double(k + 1) / double(chunks), stage);
    }
}

std::string format_number(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
}

bool ascending_from_zero(const std::vector<double>& edges) {
    if (edges.size() < 2 || edges.front() != 0.0) return false;
    for (std::size_t i = 0; i < edges.size(); ++i)
        if (!std::isfinite(edges[i]) || (i > 0 && !(edges[i] > edges[i - 1]))) return false;
    return true;
}

/// A uniform grid over points: points sorted by cell, cells looked up by binary search.
class PointGrid {
  public:
    PointGrid(const std::vector<double>& x, const std::vector<double>& y, double cell_m) : m_cell(cell_m) {
        const std::size_t n = x.size();
        if (n == 0) return;
        m_min_x = *std::min_element(x.begin(), x.end());
        m_min_y = *std::min_element(y.begin(), y.end());
        m_entries.resize(n);
        for (std::size_t i = 0; i < n; ++i)
            m_entries[i] = {cell_of(x[i], m_min_x), cell_of(y[i], m_min_y), std::uint32_t(i)};
        std::sort(m_entries.begin(), m_entries.end(), [](const Entry& a, const Entry& b) {
            if (a.cx != b.cx) return a.cx < b.cx;
            if (a.cy != b.cy) return a.cy < b.cy;
            return a.index < b.index;
        });
    }

    struct Entry {
        std::int64_t cx, cy;
        std::uint32_t index;
    };
    [[nodiscard]] const std::vector<Entry>& entries() const { return m_entries; }
    [[nodiscard]] std::int64_t cell_x(double x) const { return cell_of(x, m_min_x); }
    [[nodiscard]] std::int64_t cell_y(double y) const { return cell_of(y, m_min_y); }

    /// Range [first, last) of entries in cell (cx, cy).
    [[nodiscard]] std::pair<std::size_t, std::size_t> cell(std::int64_t cx, std::int64_t cy) const {
        const auto lo = std::lower_bound(m_entries.begin(), m_entries.end(), std::pair{cx, cy},
                                         [](const Entry& e, const std::pair<std::int64_t, std::int64_t>& k) {
                                             return e.cx != k.first ? e.cx < k.first : e.cy < k.second;
                                         });
        auto hi = lo;
        while (hi != m_entries.end() && hi->cx == cx && hi->cy == cy) ++hi;
        return {std::size_t(lo - m_entries.begin()), std::size_t(hi - m_entries.begin())};
    }

  private:
    [[nodiscard]] std::int64_t cell_of(double v, double origin) const {
        return std::int64_t(std::floor((v - origin) / m_cell));
    }
    double m_cell;
    double m_min_x = 0, m_min_y = 0;
    std::vector<Entry> m_entries;
};

/// Usable incidents' coordinates and times.
struct Usable {
    std::vector<std::size_t> index;
    std::vector<double> x, y;
    std::vector<LocalSeconds> t;
};

Usable gather(const Incidents& incidents, bool use_range_start, EligibilityReport& report) {
    Usable u;
    u.index = usable_incidents(incidents, use_range_start, &report);
    u.x.reserve(u.index.size());
    u.y.reserve(u.index.size());
    u.t.reserve(u.index.size());
    for (std::size_t i : u.index) {
        u.x.push_back(incidents.x[i]);
        u.y.push_back(incidents.y[i]);
        u.t.push_back(incidents.time[i]);
    }
    return u;
}

std::int64_t second_of_day(LocalSeconds t) { return ((t % 86400) + 86400) % 86400; }

// ---------------------------------------------------------------------------------------------
// GEOS

class GeosContext {
  public:
    GeosContext() : m_handle(GEOS_init_r()) {
        if (m_handle == nullptr) throw Error("cannot initialise GEOS");
        GEOSContext_setErrorMessageHandler_r(m_handle, &on_error, &m_message);
    }
    ~GeosContext() { GEOS_finish_r(m_handle); }
    GeosContext(const GeosContext&) = delete;
    GeosContext& operator=(const GeosContext&) = delete;

    [[nodiscard]] GEOSContextHandle_t get() const { return m_handle; }
    [[nodiscard]] const std::string& last_error() const { return m_message; }

  private:
    static void on_error(const char* message, void* userdata) {
        *static_cast<std::string*>(userdata) = message != nullptr ? message : "";
    }
    GEOSContextHandle_t m_handle;
    std::string m_message;
};

struct GeometryDeleter {
    GEOSContextHandle_t handle;
    void operator()(GEOSGeometry* g) const { GEOSGeom_destroy_r(handle, g); }
};
using GeometryPtr = std::unique_ptr<GEOSGeometry, GeometryDeleter>;

/// Closed ring of a polygon's exterior, made counter-clockwise.
void exterior_ring(const GeosContext& geos, const GEOSGeometry* polygon, std::vector<double>& rx,
                   std::vector<double>& ry) {
    GEOSContextHandle_t h = geos.get();
    const GEOSGeometry* ring = GEOSGetExteriorRing_r(h, polygon);
    const GEOSCoordSequence* seq = ring != nullptr ? GEOSGeom_getCoordSeq_r(h, ring) : nullptr;
    unsigned int size = 0;
    if (seq == nullptr || GEOSCoordSeq_getSize_r(h, seq, &size) == 0)
        throw Error("GEOS: cannot read a hull ring: " + geos.last_error());
    rx.resize(size);
    ry.resize(size);
    for (unsigned int i = 0; i < size; ++i) GEOSCoordSeq_getXY_r(h, seq, i, &rx[i], &ry[i]);
    double twice_area = 0;
    for (std::size_t i = 0; i + 1 < rx.size(); ++i) twice_area += rx[i] * ry[i + 1] - rx[i + 1] * ry[i];
    if (twice_area < 0) {
        std::reverse(rx.begin(), rx.end());
        std::reverse(ry.begin(), ry.end());
    }
}

/// Hull (or buffered degenerate hull) of the members' distinct locations.
void outline(const GeosContext& geos, std::vector<std::pair<double, double>> points, double buffer_m,
             StCluster& cluster) {
    GEOSContextHandle_t h = geos.get();
    std::sort(points.begin(), points.end());
    points.erase(std::unique(points.begin(), points.end()), points.end());
    std::vector<GEOSGeometry*> raw;
    raw.reserve(points.size());
    for (const auto& [px, py] : points) {
        GEOSGeometry* p = GEOSGeom_createPointFromXY_r(h, px, py);
        if (p == nullptr) {
            for (GEOSGeometry* g : raw) GEOSGeom_destroy_r(h, g);
            throw Error("GEOS: cannot create a point: " + geos.last_error());
        }
        raw.push_back(p);
    }
    // The collection takes ownership of the points.
    GeometryPtr multi(GEOSGeom_createCollection_r(h, GEOS_MULTIPOINT, raw.data(), unsigned(raw.size())),
                      GeometryDeleter{h});
    if (!multi) {
        for (GEOSGeometry* g : raw) GEOSGeom_destroy_r(h, g);
        throw Error("GEOS: cannot create a multipoint: " + geos.last_error());
    }
    GeometryPtr hull(GEOSConvexHull_r(h, multi.get()), GeometryDeleter{h});
    if (!hull) throw Error("GEOS: convex hull failed: " + geos.last_error());
    if (GEOSGeomTypeId_r(h, hull.get()) == GEOS_POLYGON) {
        cluster.hull_degenerate = false;
        double area = 0;
        GEOSArea_r(h, hull.get(), &area);
        cluster.hull_area_m2 = area;
        exterior_ring(geos, hull.get(), cluster.outline_x, cluster.outline_y);
        return;
    }
    cluster.hull_degenerate = true;
    cluster.hull_area_m2 = 0;
    GeometryPtr buffered(GEOSBuffer_r(h, hull.get(), buffer_m, 8), GeometryDeleter{h});
    if (!buffered || GEOSGeomTypeId_r(h, buffered.get()) != GEOS_POLYGON)
        throw Error("GEOS: cannot buffer a degenerate hull: " + geos.last_error());
    exterior_ring(geos, buffered.get(), cluster.outline_x, cluster.outline_y);
}

/// ISO WKB (2D) of a one-ring polygon from a closed ring, native byte order.
std::vector<unsigned char> polygon_wkb(const std::vector<double>& rx, const std::vector<double>& ry) {
    std::vector<unsigned char> out;
    out.reserve(9 + 4 + rx.size() * 16);
    out.push_back(std::endian::native == std::endian::little ? 1 : 0);
    auto put_u32 = [&](std::uint32_t v) {
        unsigned char b[4];
        std::memcpy(b, &v, 4);
        out.insert(out.end(), b, b + 4);
    };
    auto put_f64 = [&](double v) {
        unsigned char b[8];
        std::memcpy(b, &v, 8);
        out.insert(out.end(), b, b + 8);
    };
    put_u32(3);
    put_u32(1);
    put_u32(std::uint32_t(rx.size()));
    for (std::size_t i = 0; i < rx.size(); ++i) {
        put_f64(rx[i]);
        put_f64(ry[i]);
    }
    return out;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Eligibility

std::vector<std::size_t> usable_incidents(const Incidents& incidents, bool use_range_start,
                                          EligibilityReport* report) {
    incidents.validate();
    EligibilityReport r;
    std::vector<std::size_t> out;
    const std::size_t n = incidents.size();
    for (std::size_t i = 0; i < n; ++i) {
        const TimePrecision p = i < incidents.precision.size() ? incidents.precision[i] : TimePrecision::none;
        const LocalSeconds t = i < incidents.time.size() ? incidents.time[i] : no_time;
        const LocalSeconds te = i < incidents.time_end.size() ? incidents.time_end[i] : t;
        if (p == TimePrecision::none || t == no_time) {
            ++r.no_time;
        } else if (p == TimePrecision::month || p == TimePrecision::day) {
            ++r.coarse_time;
        } else if (te != t && te != no_time && !use_range_start) {
            ++r.time_range;
        } else if (!std::isfinite(incidents.x[i]) || !std::isfinite(incidents.y[i])) {
            ++r.bad_coordinate;
        } else {
            out.push_back(i);
        }
    }
    r.used = out.size();
    if (report != nullptr) *report = r;
    return out;
}

// ---------------------------------------------------------------------------------------------
// Knox

void KnoxOptions::validate() const {
    if (!ascending_from_zero(distance_edges_m))
        throw InvalidInput("KnoxOptions.distance_edges_m: expected at least two finite, strictly ascending "
                           "edges starting at 0");
    if (!ascending_from_zero(time_edges_days))
        throw InvalidInput("KnoxOptions.time_edges_days: expected at least two finite, strictly ascending "
                           "edges starting at 0");
    if (time_edges_days.back() > 1e6)
        throw InvalidInput("KnoxOptions.time_edges_days: the last edge may be at most 1,000,000 days, got " +
                           format_number(time_edges_days.back()));
    if (!std::isfinite(same_location_m) || same_location_m < 0 || same_location_m >= distance_edges_m[1])
        throw InvalidInput("KnoxOptions.same_location_m: expected 0 (none) or a value in (0, " +
                           format_number(distance_edges_m[1]) + "), got " + format_number(same_location_m));
    if (permutations < 1)
        throw InvalidInput("KnoxOptions.permutations: expected at least 1, got " + std::to_string(permutations));
}

std::vector<std::uint32_t> knox_permutation(std::size_t n, std::uint64_t seed, std::uint64_t replicate) {
    if (n > std::size_t(UINT32_MAX)) throw InvalidInput("knox_permutation: n exceeds 2^32 - 1");
    std::vector<std::uint32_t> perm(n);
    fill_permutation(perm.data(), n, seed, replicate);
    return perm;
}

KnoxResult knox_test(const Incidents& incidents, const KnoxOptions& options, const Context& context) {
    options.validate();
    KnoxResult result;
    const Usable u = gather(incidents, options.use_range_start, result.eligibility);
    const std::size_t m = u.x.size();
    if (m < 2)
        throw InvalidInput("knox_test: fewer than two incidents with a time to the minute and coordinates (" +
                           std::to_string(m) + " of " + std::to_string(incidents.size()) + ")");
    if (m > std::size_t(UINT32_MAX)) throw InvalidInput("knox_test: too many incidents");

    result.distance_edges_m = options.distance_edges_m;
    if (options.same_location_m > 0)
        result.distance_edges_m.insert(result.distance_edges_m.begin() + 1, options.same_location_m);
    result.time_edges_days = options.time_edges_days;
    result.permutations = options.permutations;
    result.seed = options.seed;
    for (std::size_t d = 0; d + 1 < result.distance_edges_m.size(); ++d)
        result.distance_labels.push_back("[" + format_number(result.distance_edges_m[d]) + ", " +
                                         format_number(result.distance_edges_m[d + 1]) + ") m");
    for (std::size_t t = 0; t + 1 < result.time_edges_days.size(); ++t)
        result.time_labels.push_back("[" + format_number(result.time_edges_days[t]) + ", " +
                                     format_number(result.time_edges_days[t + 1]) + ") days");
    const std::size_t nd = result.distance_bands(), nt = result.time_bands(), cells = nd * nt;
    const std::vector<double>& dedges = result.distance_edges_m;
    // Time differences are whole seconds, so dt < e exactly when dt < ceil(e): integer edges.
    std::vector<std::int64_t> tedges_s(result.time_edges_days.size());
    for (std::size_t k = 0; k < tedges_s.size(); ++k)
        tedges_s[k] = std::int64_t(std::ceil(result.time_edges_days[k] * seconds_per_day));
    const double dmax = dedges.back();
    const std::int64_t tmax_s = tedges_s.back();

    // Close pairs, once, grouped by distance band.
    context.report(0.0, "knox close pairs");
    struct Pair {
        std::uint32_t i, j;
        std::uint32_t band;
    };
    std::vector<Pair> pairs;
    {
        const PointGrid grid(u.x, u.y, dmax);
        const auto& e = grid.entries();
        auto band_of = [&](std::size_t i, std::size_t j) -> std::ptrdiff_t {
            const double dx = u.x[i] - u.x[j], dy = u.y[i] - u.y[j];
            const double dist = std::sqrt(dx * dx + dy * dy);
            if (!(dist < dmax)) return -1;
            return std::ptrdiff_t(std::upper_bound(dedges.begin(), dedges.end(), dist) - dedges.begin()) - 1;
        };
        for (std::size_t a = 0; a < e.size();) {
            std::size_t a_end = a;
            while (a_end < e.size() && e[a_end].cx == e[a].cx && e[a_end].cy == e[a].cy) ++a_end;
            // Same cell: each pair once; then the four "forward" neighbour cells.
            for (std::size_t p = a; p < a_end; ++p)
                for (std::size_t q = p + 1; q < a_end; ++q)
                    if (auto b = band_of(e[p].index, e[q].index); b >= 0)
                        pairs.push_back({std::min(e[p].index, e[q].index), std::max(e[p].index, e[q].index),
                                         std::uint32_t(b)});
            static constexpr std::int64_t forward[4][2] = {{1, -1}, {1, 0}, {1, 1}, {0, 1}};
            for (const auto& f : forward) {
                const auto [b0, b1] = grid.cell(e[a].cx + f[0], e[a].cy + f[1]);
                for (std::size_t p = a; p < a_end; ++p)
                    for (std::size_t q = b0; q < b1; ++q)
                        if (auto b = band_of(e[p].index, e[q].index); b >= 0)
                            pairs.push_back({std::min(e[p].index, e[q].index), std::max(e[p].index, e[q].index),
                                             std::uint32_t(b)});
            }
            a = a_end;
            context.check("knox close pairs");
        }
        std::sort(pairs.begin(), pairs.end(), [](const Pair& l, const Pair& r) {
            if (l.band != r.band) return l.band < r.band;
            if (l.i != r.i) return l.i < r.i;
            return l.j < r.j;
        });
    }
    result.close_pairs = pairs.size();
    std::vector<std::uint32_t> pi(pairs.size()), pj(pairs.size());
    std::vector<std::size_t> band_begin(nd + 1, 0);
    for (std::size_t k = 0; k < pairs.size(); ++k) {
        pi[k] = pairs[k].i;
        pj[k] = pairs[k].j;
        ++band_begin[pairs[k].band + 1];
    }
    for (std::size_t d = 0; d < nd; ++d) band_begin[d + 1] += band_begin[d];
    pairs = {};

    auto count = [&](const LocalSeconds* t, std::int64_t* out) {
        std::fill(out, out + cells, 0);
        for (std::size_t d = 0; d < nd; ++d) {
            std::int64_t* row = out + d * nt;
            for (std::size_t k = band_begin[d]; k < band_begin[d + 1]; ++k) {
                const LocalSeconds a = t[pi[k]], b = t[pj[k]];
                const std::int64_t dt = a > b ? a - b : b - a;
                if (dt >= tmax_s) continue;
                std::size_t tb = 0;
                while (dt >= tedges_s[tb + 1]) ++tb;
                ++row[tb];
            }
        }
    };

    result.observed.assign(cells, 0);
    count(u.t.data(), result.observed.data());

    // Replicates.
    const auto reps = std::size_t(options.permutations);
    std::vector<std::int64_t> sims(reps * cells, 0);
    tbb::task_arena arena = make_arena(context);
    run_chunked(arena, context, reps, "knox permutations", 0.05, 1.0, [&](std::size_t begin, std::size_t end) {
        std::vector<std::uint32_t> perm(m);
        std::vector<LocalSeconds> tp(m);
        for (std::size_t r = begin; r < end; ++r) {
            fill_permutation(perm.data(), m, options.seed, r);
            for (std::size_t k = 0; k < m; ++k) tp[k] = u.t[perm[k]];
            count(tp.data(), sims.data() + r * cells);
        }
    });

    result.expected.assign(cells, 0);
    result.ratio.assign(cells, 0);
    result.p_value.assign(cells, 0);
    result.sim_min.assign(cells, std::numeric_limits<std::int64_t>::max());
    result.sim_max.assign(cells, std::numeric_limits<std::int64_t>::min());
    std::vector<std::int64_t> at_least(cells, 0), sum(cells, 0);
    for (std::size_t r = 0; r < reps; ++r)
        for (std::size_t c = 0; c < cells; ++c) {
            const std::int64_t s = sims[r * cells + c];
            sum[c] += s;
            if (s >= result.observed[c]) ++at_least[c];
            result.sim_min[c] = std::min(result.sim_min[c], s);
            result.sim_max[c] = std::max(result.sim_max[c], s);
        }
    for (std::size_t c = 0; c < cells; ++c) {
        result.expected[c] = double(sum[c]) / double(reps);
        result.ratio[c] = result.expected[c] > 0 ? double(result.observed[c]) / result.expected[c]
                                                 : std::numeric_limits<double>::quiet_NaN();
        result.p_value[c] = double(1 + at_least[c]) / double(reps + 1);
    }
    context.report(1.0, "knox permutations");
    return result;
}

// ---------------------------------------------------------------------------------------------
// ST-DBSCAN

void StDbscanOptions::validate() const {
    if (!std::isfinite(eps_m) || eps_m <= 0)
        throw InvalidInput("StDbscanOptions.eps_m: expected a positive distance in metres, got " + format_number(eps_m));
    if (metric == TimeMetric::linear && (!std::isfinite(eps_days) || eps_days < 0))
        throw InvalidInput("StDbscanOptions.eps_days: expected a non-negative number of days, got " +
                           format_number(eps_days));
    if (metric == TimeMetric::time_of_day &&
        (!std::isfinite(eps_minutes_of_day) || eps_minutes_of_day < 0 || eps_minutes_of_day > 720))
        throw InvalidInput("StDbscanOptions.eps_minutes_of_day: expected 0 to 720 minutes, got " +
                           format_number(eps_minutes_of_day));
    if (metric != TimeMetric::linear && metric != TimeMetric::time_of_day)
        throw InvalidInput("StDbscanOptions.metric: not a TimeMetric value");
    if (min_points < 1)
        throw InvalidInput("StDbscanOptions.min_points: expected at least 1, got " + std::to_string(min_points));
    if (!std::isfinite(degenerate_hull_buffer_m) || degenerate_hull_buffer_m <= 0)
        throw InvalidInput("StDbscanOptions.degenerate_hull_buffer_m: expected a positive distance, got " +
                           format_number(degenerate_hull_buffer_m));
}

StDbscanResult st_dbscan(const Incidents& incidents, const StDbscanOptions& options, const Context& context) {
    options.validate();
    StDbscanResult result;
    result.options = options;
    result.crs_wkt = incidents.crs.wkt;
    const Usable u = gather(incidents, options.use_range_start, result.eligibility);
    const std::size_t m = u.x.size();
    result.labels.assign(incidents.size(), StDbscanResult::not_used);
    result.core.assign(incidents.size(), false);
    if (m > std::size_t(UINT32_MAX)) throw InvalidInput("st_dbscan: too many incidents");
    for (std::size_t k = 0; k < m; ++k) result.labels[u.index[k]] = StDbscanResult::noise;
    if (m == 0) return result;

    const double eps = options.eps_m;
    const bool circular = options.metric == TimeMetric::time_of_day;
    const double eps_t = circular ? options.eps_minutes_of_day * 60.0 : options.eps_days * seconds_per_day;
    std::vector<std::int64_t> sod;
    if (circular) {
        sod.resize(m);
        for (std::size_t k = 0; k < m; ++k) sod[k] = second_of_day(u.t[k]);
    }
    auto neighbours = [&](std::size_t i, std::size_t j) {
        double dt;
        if (circular) {
            const std::int64_t diff = sod[i] > sod[j] ? sod[i] - sod[j] : sod[j] - sod[i];
            dt = double(std::min<std::int64_t>(diff, 86400 - diff));
        } else {
            dt = double(u.t[i] > u.t[j] ? u.t[i] - u.t[j] : u.t[j] - u.t[i]);
        }
        if (!(dt <= eps_t)) return false;
        const double dx = u.x[i] - u.x[j], dy = u.y[i] - u.y[j];
        return std::sqrt(dx * dx + dy * dy) <= eps;
    };
    const PointGrid grid(u.x, u.y, eps);
    // Calls f(j) for every neighbour j of i (including i itself).
    auto for_neighbours = [&](std::size_t i, auto&& f) {
        const std::int64_t cx = grid.cell_x(u.x[i]), cy = grid.cell_y(u.y[i]);
        for (std::int64_t gx = cx - 1; gx <= cx + 1; ++gx)
            for (std::int64_t gy = cy - 1; gy <= cy + 1; ++gy) {
                const auto [b0, b1] = grid.cell(gx, gy);
                for (std::size_t q = b0; q < b1; ++q) {
                    const std::size_t j = grid.entries()[q].index;
                    if (neighbours(i, j)) f(j);
                }
            }
    };

    // Core points (parallel, each writes its own slot).
    std::vector<unsigned char> core(m, 0);
    tbb::task_arena arena = make_arena(context);
    const auto min_points = std::size_t(options.min_points);
    run_chunked(arena, context, m, "st-dbscan core points", 0.0, 0.6, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
            std::size_t c = 0;
            for_neighbours(i, [&](std::size_t) { ++c; });
            core[i] = c >= min_points ? 1 : 0;
        }
    });

    // Components of cores.
    std::vector<std::uint32_t> parent(m);
    std::iota(parent.begin(), parent.end(), std::uint32_t{0});
    auto find = [&](std::uint32_t a) {
        while (parent[a] != a) {
            parent[a] = parent[parent[a]];
            a = parent[a];
        }
        return a;
    };
    for (std::size_t i = 0; i < m; ++i) {
        if (!core[i]) continue;
        for_neighbours(i, [&](std::size_t j) {
            if (j > i && core[j]) {
                const std::uint32_t a = find(std::uint32_t(i)), b = find(std::uint32_t(j));
                if (a != b) parent[std::max(a, b)] = std::min(a, b); // root = lowest index
            }
        });
        if (i % 4096 == 0) context.check("st-dbscan clusters");
    }
    // With roots always the lowest index, scanning in index order numbers components by their
    // lowest-index core point.
    std::vector<std::int32_t> label(m, StDbscanResult::noise), id_of_root(m, -1);
    std::int32_t clusters = 0;
    for (std::size_t i = 0; i < m; ++i) {
        if (!core[i]) continue;
        const std::uint32_t r = find(std::uint32_t(i));
        if (id_of_root[r] < 0) id_of_root[r] = clusters++;
        label[i] = id_of_root[r];
    }
    // Border points: lowest cluster among core neighbours.
    for (std::size_t i = 0; i < m; ++i) {
        if (core[i]) continue;
        std::int32_t best = -1;
        for_neighbours(i, [&](std::size_t j) {
            if (core[j] && (best < 0 || label[j] < best)) best = label[j];
        });
        label[i] = best;
    }
    context.report(0.8, "st-dbscan clusters");

    // Summaries.
    result.clusters.resize(std::size_t(clusters));
    std::vector<std::vector<std::uint32_t>> members(static_cast<std::size_t>(clusters));
    for (std::size_t i = 0; i < m; ++i) {
        result.labels[u.index[i]] = label[i];
        result.core[u.index[i]] = core[i] != 0;
        if (label[i] >= 0) members[std::size_t(label[i])].push_back(std::uint32_t(i));
    }
    const GeosContext geos;
    for (std::size_t c = 0; c < members.size(); ++c) {
        StCluster& cl = result.clusters[c];
        cl.id = std::int32_t(c);
        cl.count = members[c].size();
        cl.hour_counts.assign(24, 0);
        std::vector<std::pair<double, double>> pts;
        pts.reserve(cl.count);
        double sx = 0, sy = 0;
        for (std::uint32_t i : members[c]) {
            cl.core_count += core[i];
            sx += u.x[i];
            sy += u.y[i];
            pts.emplace_back(u.x[i], u.y[i]);
            cl.first_time = cl.first_time == no_time ? u.t[i] : std::min(cl.first_time, u.t[i]);
            cl.last_time = cl.last_time == no_time ? u.t[i] : std::max(cl.last_time, u.t[i]);
            ++cl.hour_counts[std::size_t(second_of_day(u.t[i]) / 3600)];
        }
        cl.centroid_x = sx / double(cl.count);
        cl.centroid_y = sy / double(cl.count);
        cl.peak_hour = int(std::max_element(cl.hour_counts.begin(), cl.hour_counts.end()) - cl.hour_counts.begin());
        outline(geos, std::move(pts), options.degenerate_hull_buffer_m, cl);
        if (c % 256 == 0) context.check("st-dbscan hulls");
    }
    context.report(1.0, "st-dbscan");
    return result;
}

FeatureTable cluster_table(const StDbscanResult& result) {
    FeatureTable table;
    table.crs_wkt = result.crs_wkt;
    const std::size_t n = result.clusters.size();
    std::vector<std::int64_t> id(n), count(n), core(n), peak(n), degenerate(n);
    std::vector<double> cx(n), cy(n), area(n), days(n);
    std::vector<std::string> first(n), last(n);
    table.wkb.reserve(n);
    for (std::size_t c = 0; c < n; ++c) {
        const StCluster& cl = result.clusters[c];
        table.wkb.push_back(polygon_wkb(cl.outline_x, cl.outline_y));
        id[c] = cl.id;
        count[c] = std::int64_t(cl.count);
        core[c] = std::int64_t(cl.core_count);
        peak[c] = cl.peak_hour;
        degenerate[c] = cl.hull_degenerate ? 1 : 0;
        cx[c] = cl.centroid_x;
        cy[c] = cl.centroid_y;
        area[c] = cl.hull_area_m2;
        days[c] = double(cl.last_time - cl.first_time) / seconds_per_day;
        first[c] = format_time(cl.first_time, TimePrecision::second);
        last[c] = format_time(cl.last_time, TimePrecision::second);
    }
    table.columns.push_back({"cluster", std::move(id)});
    table.columns.push_back({"count", std::move(count)});
    table.columns.push_back({"core_count", std::move(core)});
    table.columns.push_back({"centroid_x", std::move(cx)});
    table.columns.push_back({"centroid_y", std::move(cy)});
    table.columns.push_back({"first", std::move(first)});
    table.columns.push_back({"last", std::move(last)});
    table.columns.push_back({"days", std::move(days)});
    table.columns.push_back({"peak_hour", std::move(peak)});
    table.columns.push_back({"hull_area_m2", std::move(area)});
    table.columns.push_back({"degenerate", std::move(degenerate)});
    return table;
}

LayerStyle cluster_style(const FeatureTable& table) {
    std::vector<double> counts;
    for (const Column& col : table.columns)
        if (col.name == "count")
            if (const auto* v = std::get_if<std::vector<std::int64_t>>(&col.values))
                for (std::int64_t c : *v) counts.push_back(double(c));
    if (counts.empty()) {
        LayerStyle style;
        style.kind = LayerStyle::Kind::single;
        style.colours = {"#e31a1c"};
        style.opacity = 0.6;
        style.title = "space-time clusters";
        return style;
    }
    LayerStyle style = graduated_style("count", std::move(counts), 5, "incidents");
    style.opacity = 0.7;
    style.title = "space-time clusters by incidents";
    return style;
}

} // namespace streetsafe
