// Hot spots: incident counts per cell, Getis-Ord Gi* and hotspot polygons.
//
// Gi* (Getis & Ord 1992; Ord & Getis 1995) with binary weights and the feature itself included:
//
//     Gi*_i = (Σ_j w_ij x_j − X̄ W_i) / (S √((n W_i − W_i²) / (n − 1))),   W_i = Σ_j w_ij = Σ_j w_ij²
//
// with X̄ and S (population standard deviation) over all n features. The numerator is summed as
// Σ_j w_ij (x_j − X̄), algebraically the same and free of the cancellation of two large sums.
//
// On a grid with a distance band the neighbourhood is a disc of cells, the same for every cell:
// each row of the disc is a contiguous run of columns, so its sum is the difference of two row
// prefix sums, and a cell costs one pair of lookups per disc row (nodata cells contribute 0 to the
// sum and to the count of neighbours). With k nearest neighbours each cell walks a table of cell
// offsets sorted by (distance, row offset, column offset) — the order of (distance, cell index) —
// and takes the first k valid cells; the table grows by doubling for the cells that exhaust it
// (next to large nodata regions). Every cell is computed independently, in a fixed order of terms,
// so the result does not depend on the number of threads.
//
// Areas and points use a Boost.Geometry R-tree (packed, so its layout is deterministic), and sum
// each neighbourhood in feature-index order.
//
// Hotspot polygons: the selected cells are labelled into 4-connected components, and each
// component's cell squares (whose shared edges have bit-identical coordinates, computed by one
// function) are merged by GEOS' coverage union, which is exact and linear for edge-matched
// polygons. Collinear vertices (one per cell edge on the boundary) are then removed and the rings
// oriented (shell counter-clockwise, holes clockwise) before writing ISO WKB.

#include "streetsafe/hotspots.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <numbers>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

// Boost 1.74's Geometry pulls in a header Boost deprecated later; silence its #pragma message.
#define BOOST_ALLOW_DEPRECATED_HEADERS
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <geos_c.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "streetsafe/error.hpp"

namespace streetsafe {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
/// Relative tolerance of the distance band: a neighbour at distance <= band × (1 + 1e-9).
constexpr double band_tolerance = 1e-9;

std::string number(double v) {
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
    return std::string(buffer, result.ptr);
}

bool is_nodata(double v, double nodata) {
    return std::isnan(v) || (!std::isnan(nodata) && v == nodata);
}

void check_grid(const Grid& grid, const std::string& what) {
    if (grid.rows == 0 || grid.cols == 0)
        throw InvalidInput(what + " is empty (" + std::to_string(grid.rows) + " rows × " +
                           std::to_string(grid.cols) + " columns)");
    if (grid.values.size() != grid.rows * grid.cols)
        throw InvalidInput(what + " has " + std::to_string(grid.rows) + " rows × " +
                           std::to_string(grid.cols) + " columns but " + std::to_string(grid.values.size()) +
                           " values");
    if (!(grid.cell_m > 0) || !std::isfinite(grid.cell_m))
        throw InvalidInput(what + " has a cell size of " + number(grid.cell_m) +
                           " m; expected a positive, finite number");
    if (!std::isfinite(grid.origin_x) || !std::isfinite(grid.origin_y))
        throw InvalidInput(what + " has a non-finite origin");
    if (grid.rows > std::size_t(std::numeric_limits<std::int32_t>::max()) ||
        grid.cols > std::size_t(std::numeric_limits<std::int32_t>::max()) ||
        grid.values.size() > std::size_t(std::numeric_limits<std::uint32_t>::max()))
        throw InvalidInput(what + " has more than 2^31 rows or columns or 2^32 cells");
}

void check_incidents(const Incidents& incidents) {
    if (incidents.y.size() != incidents.x.size())
        throw InvalidInput("Incidents: y has " + std::to_string(incidents.y.size()) + " entries, expected " +
                           std::to_string(incidents.x.size()) + " (the length of x)");
    if (!incidents.weight.empty() && incidents.weight.size() != incidents.x.size())
        throw InvalidInput("Incidents: weight has " + std::to_string(incidents.weight.size()) +
                           " entries, expected " + std::to_string(incidents.x.size()) + " (the length of x)");
}

double weight_of(const Incidents& incidents, std::size_t i) {
    return incidents.weight.empty() ? 1.0 : incidents.weight[i];
}

/// Row-major index of the cell holding (x, y), half-open [west, east) × (south, north], or -1.
std::int64_t cell_of(const Grid& grid, double x, double y) {
    if (!std::isfinite(x) || !std::isfinite(y)) return -1;
    const double c = std::floor((x - grid.origin_x) / grid.cell_m);
    const double r = std::floor((grid.origin_y - y) / grid.cell_m);
    if (!(c >= 0 && r >= 0 && c < double(grid.cols) && r < double(grid.rows))) return -1;
    return std::int64_t(r) * std::int64_t(grid.cols) + std::int64_t(c);
}

tbb::task_arena make_arena(const Context& context) {
    return tbb::task_arena(context.threads > 0 ? context.threads : tbb::task_arena::automatic);
}

/// Runs body(begin, end) over [0, n) in parallel, in chunks between which the calling thread
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

// ---------------------------------------------------------------------------------------------
// Gi* common parts

/// X̄ and S over the features, two-pass.
struct Moments {
    std::size_t n = 0;
    double mean = 0, sd = 0;
};

Moments moments(std::span<const double> values, const std::vector<std::uint8_t>& feature) {
    Moments m;
    double sum = 0;
    for (std::size_t i = 0; i < values.size(); ++i)
        if (feature[i]) {
            sum += values[i];
            ++m.n;
        }
    if (m.n == 0) return m;
    m.mean = sum / double(m.n);
    double ss = 0;
    for (std::size_t i = 0; i < values.size(); ++i)
        if (feature[i]) ss += (values[i] - m.mean) * (values[i] - m.mean);
    m.sd = std::sqrt(ss / double(m.n));
    return m;
}

void check_moments(const Moments& m, const std::string& what) {
    if (m.n < 3) throw InvalidInput("Gi* needs at least 3 features; " + what + " has " + std::to_string(m.n));
    if (!(m.sd > 0))
        throw InvalidInput("Gi* is undefined: all " + std::to_string(m.n) + " values of " + what + " equal " +
                           number(m.mean));
}

void check_k(const GiStarOptions& options, std::size_t n) {
    if (options.k_neighbours > 0 && std::size_t(options.k_neighbours) >= n)
        throw InvalidInput("GiStarOptions::k_neighbours is " + std::to_string(options.k_neighbours) +
                           " but there are only " + std::to_string(n) + " features; expected at most " +
                           std::to_string(n - 1));
}

/// K of the automatic band: 5% of the features, clamped to [3, 30] and to n − 1.
std::size_t automatic_k(std::size_t n) {
    const auto k = std::size_t(std::llround(0.05 * double(n)));
    return std::min(std::clamp<std::size_t>(k, 3, 30), n - 1);
}

/// z from the centred neighbourhood sum and size; 0 when the neighbourhood holds every feature.
double z_score(double centred_sum, std::int64_t w, const Moments& m) {
    const auto n = std::int64_t(m.n);
    if (w >= n) return 0.0;
    const double variance_factor = double(w) * double(n - w) / double(n - 1);
    return centred_sum / (m.sd * std::sqrt(variance_factor));
}

/// Fills p, p_fdr and the classes from z (NaN for non-features), and the result's scalars.
void finish(GiStar& r, const Moments& m, const GiStarOptions& options) {
    const std::size_t size = r.z.size();
    r.p.assign(size, nan);
    for (std::size_t i = 0; i < size; ++i)
        if (!std::isnan(r.z[i])) r.p[i] = two_sided_p(r.z[i]);
    r.p_fdr = fdr_adjust(r.p);
    r.gi_bin.assign(size, 0);
    r.gi_bin_fdr.assign(size, 0);
    for (std::size_t i = 0; i < size; ++i)
        if (!std::isnan(r.z[i])) {
            r.gi_bin[i] = gi_bin(r.z[i], r.p[i]);
            r.gi_bin_fdr[i] = gi_bin(r.z[i], r.p_fdr[i]);
        }
    r.isolated = 0;
    for (std::size_t i = 0; i < size; ++i)
        if (r.neighbours[i] == 1) ++r.isolated;
    r.features = m.n;
    r.mean = m.mean;
    r.sd = m.sd;
    r.fdr = options.fdr;
}

/// Squared band limit: a neighbour at squared distance d2 when d2 <= limit.
double band_limit2(double band_m) {
    const double b = band_m * (1.0 + band_tolerance);
    return b * b;
}

// ---------------------------------------------------------------------------------------------
// Gi* on a grid

/// A cell offset and its squared length in cells.
struct Offset {
    std::int32_t dr, dc;
    std::int64_t d2;
};

/// Every offset except (0, 0) with |dr| < rows, |dc| < cols and dr² + dc² <= rho², sorted by
/// (d², dr, dc): for cells of one grid, the order of (distance, row-major index).
std::vector<Offset> offsets_within(std::int64_t rho, std::int64_t rows, std::int64_t cols) {
    std::vector<Offset> table;
    const std::int64_t rmax = std::min(rho, rows - 1), cmax = std::min(rho, cols - 1);
    for (std::int64_t dr = -rmax; dr <= rmax; ++dr)
        for (std::int64_t dc = -cmax; dc <= cmax; ++dc) {
            const std::int64_t d2 = dr * dr + dc * dc;
            if (d2 == 0 || d2 > rho * rho) continue;
            table.push_back({std::int32_t(dr), std::int32_t(dc), d2});
        }
    std::sort(table.begin(), table.end(), [](const Offset& a, const Offset& b) {
        return std::tie(a.d2, a.dr, a.dc) < std::tie(b.d2, b.dr, b.dc);
    });
    return table;
}

/// The k nearest valid cells of every valid cell (ties broken by the lower cell index).
class NearestCells {
  public:
    NearestCells(const Grid& grid, const std::vector<std::uint8_t>& valid, std::size_t k)
        : m_valid(valid), m_rows(std::int64_t(grid.rows)), m_cols(std::int64_t(grid.cols)), m_k(k) {}

    /// Calls visit(cell, table, found) for every valid cell, where found holds k table indices.
    template <class Visit>
    void run(tbb::task_arena& arena, const Context& context, std::string_view stage, double from, double to,
             const Visit& visit) const {
        std::vector<std::uint32_t> pending;
        for (std::size_t i = 0; i < m_valid.size(); ++i)
            if (m_valid[i]) pending.push_back(std::uint32_t(i));
        const auto rho_max = std::int64_t(std::ceil(std::hypot(double(m_rows), double(m_cols)))) + 1;
        // A disc holding about 4(k + 1) cells: enough away from nodata.
        auto rho = std::int64_t(std::ceil(std::sqrt(4.0 * double(m_k + 1) / std::numbers::pi))) + 1;
        rho = std::min(rho, rho_max);
        for (int round = 0; !pending.empty(); ++round) {
            const std::vector<Offset> table = offsets_within(rho, m_rows, m_cols);
            std::vector<std::uint8_t> failed(pending.size(), 0);
            // Progress: 90% for the first round, then half of what is left for each further one.
            const double span = to - from;
            const double round_from =
                round == 0 ? from : from + span * (1.0 - 0.1 * std::ldexp(1.0, 1 - round));
            const double round_to = from + span * (1.0 - 0.1 * std::ldexp(1.0, -round));
            run_chunked(arena, context, pending.size(), stage, round_from, round_to,
                        [&](std::size_t begin, std::size_t end) {
                            std::vector<std::uint32_t> found;
                            found.reserve(m_k);
                            for (std::size_t p = begin; p < end; ++p) {
                                const std::size_t cell = pending[p];
                                if (collect(table, cell, found))
                                    visit(cell, table, found);
                                else
                                    failed[p] = 1;
                            }
                        });
            std::vector<std::uint32_t> next;
            for (std::size_t p = 0; p < pending.size(); ++p)
                if (failed[p]) next.push_back(pending[p]);
            if (!next.empty() && rho >= rho_max)
                throw Error(
                    "internal error: fewer valid cells than k nearest neighbours"); // checked by callers
            pending = std::move(next);
            rho = std::min(rho * 2, rho_max);
        }
    }

  private:
    bool collect(const std::vector<Offset>& table, std::size_t cell,
                 std::vector<std::uint32_t>& found) const {
        found.clear();
        const auto r = std::int64_t(cell) / m_cols, c = std::int64_t(cell) % m_cols;
        for (std::size_t t = 0; t < table.size(); ++t) {
            const std::int64_t rr = r + table[t].dr, cc = c + table[t].dc;
            if (rr < 0 || rr >= m_rows || cc < 0 || cc >= m_cols) continue;
            if (!m_valid[std::size_t(rr * m_cols + cc)]) continue;
            found.push_back(std::uint32_t(t));
            if (found.size() == m_k) return true;
        }
        return false;
    }

    const std::vector<std::uint8_t>& m_valid;
    std::int64_t m_rows, m_cols;
    std::size_t m_k;
};

/// The automatic band of a grid, metres (see GiStarOptions::distance_band_m).
double automatic_band_grid(const Grid& grid, const std::vector<std::uint8_t>& valid, std::size_t n,
                           tbb::task_arena& arena, const Context& context) {
    const std::size_t k = automatic_k(n);
    std::vector<std::int64_t> kth(valid.size(), 0), first(valid.size(), 0);
    NearestCells(grid, valid, k)
        .run(
            arena, context, "Gi* automatic distance band", 0.0, 0.3,
            [&](std::size_t cell, const std::vector<Offset>& table, const std::vector<std::uint32_t>& found) {
                kth[cell] = table[found.back()].d2;
                first[cell] = table[found.front()].d2;
            });
    double sum = 0;
    std::int64_t max_first = 0;
    for (std::size_t i = 0; i < valid.size(); ++i)
        if (valid[i]) {
            sum += std::sqrt(double(kth[i]));
            max_first = std::max(max_first, first[i]);
        }
    return std::max(sum / double(n), std::sqrt(double(max_first))) * grid.cell_m;
}

/// Centred neighbourhood sums and sizes over a disc of cells, from row prefix sums.
void band_sums_grid(const Grid& grid, const std::vector<double>& centred,
                    const std::vector<std::uint8_t>& valid, double band_m, std::vector<double>& sums,
                    std::vector<std::int32_t>& sizes, tbb::task_arena& arena, const Context& context) {
    const auto rows = std::int64_t(grid.rows), cols = std::int64_t(grid.cols);
    const double limit2 = band_limit2(band_m);
    const double cell2 = grid.cell_m * grid.cell_m;
    auto within = [&](std::int64_t d2) { return double(d2) * cell2 <= limit2; };
    // half[dr]: the disc's columns in row offset ±dr are c − half … c + half.
    std::vector<std::int64_t> half;
    for (std::int64_t dr = 0; dr < rows && within(dr * dr); ++dr) {
        // Capped before the conversion: a band of any size (even 1e300 m) spans at most the grid.
        auto h =
            std::int64_t(std::min(std::sqrt(std::max(0.0, limit2 / cell2 - double(dr * dr))), double(cols)));
        while (h > 0 && !within(dr * dr + h * h))
            --h;
        while (h < cols && within(dr * dr + (h + 1) * (h + 1)))
            ++h;
        half.push_back(std::min(h, cols - 1));
    }
    const auto reach = std::int64_t(half.size()) - 1;

    const auto stride = std::size_t(cols + 1);
    std::vector<double> prefix(grid.rows * stride);
    std::vector<std::int32_t> counts(grid.rows * stride);
    run_chunked(arena, context, grid.rows, "Gi* prefix sums", 0.3, 0.4,
                [&](std::size_t begin, std::size_t end) {
                    for (std::size_t r = begin; r < end; ++r) {
                        double* p = &prefix[r * stride];
                        std::int32_t* q = &counts[r * stride];
                        p[0] = 0;
                        q[0] = 0;
                        for (std::size_t c = 0; c < grid.cols; ++c) {
                            p[c + 1] = p[c] + centred[r * grid.cols + c];
                            q[c + 1] = q[c] + valid[r * grid.cols + c];
                        }
                    }
                });
    run_chunked(arena, context, grid.rows, "Gi*", 0.4, 0.9, [&](std::size_t begin, std::size_t end) {
        for (std::size_t r = begin; r < end; ++r)
            for (std::size_t c = 0; c < grid.cols; ++c) {
                const std::size_t cell = r * grid.cols + c;
                if (!valid[cell]) continue;
                double sum = 0;
                std::int32_t size = 0;
                const std::int64_t r0 = std::max<std::int64_t>(0, std::int64_t(r) - reach);
                const std::int64_t r1 = std::min<std::int64_t>(rows - 1, std::int64_t(r) + reach);
                for (std::int64_t rr = r0; rr <= r1; ++rr) {
                    const std::int64_t h = half[std::size_t(std::abs(rr - std::int64_t(r)))];
                    const auto lo = std::size_t(std::max<std::int64_t>(0, std::int64_t(c) - h));
                    const auto hi = std::size_t(std::min<std::int64_t>(cols - 1, std::int64_t(c) + h)) + 1;
                    const std::size_t base = std::size_t(rr) * stride;
                    sum += prefix[base + hi] - prefix[base + lo];
                    size += counts[base + hi] - counts[base + lo];
                }
                sums[cell] = sum;
                sizes[cell] = size;
            }
    });
}

Grid like_grid(const Grid& grid, std::vector<double> values, std::string units) {
    Grid out;
    out.origin_x = grid.origin_x;
    out.origin_y = grid.origin_y;
    out.cell_m = grid.cell_m;
    out.rows = grid.rows;
    out.cols = grid.cols;
    out.crs_wkt = grid.crs_wkt;
    out.values = std::move(values);
    out.nodata = nan;
    out.units = std::move(units);
    return out;
}

// ---------------------------------------------------------------------------------------------
// Gi* on points

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;
using BPoint = bg::model::point<double, 2, bg::cs::cartesian>;
using BBox = bg::model::box<BPoint>;
using Entry = std::pair<BPoint, std::uint32_t>;
using RTree = bgi::rtree<Entry, bgi::rstar<16>>;

double distance2(double x0, double y0, double x1, double y1) {
    const double dx = x1 - x0, dy = y1 - y0;
    return dx * dx + dy * dy;
}

GiStar gi_star_features(std::span<const double> x, std::span<const double> y, std::span<const double> values,
                        const GiStarOptions& options, const Context& context, const std::string& what) {
    options.validate();
    const std::size_t size = values.size();
    if (x.size() != size || y.size() != size)
        throw InvalidInput(what + ": " + std::to_string(x.size()) + " x, " + std::to_string(y.size()) +
                           " y and " + std::to_string(size) + " values; expected one of each per feature");
    if (size > std::size_t(std::numeric_limits<std::int32_t>::max()))
        throw InvalidInput(what + ": more than 2^31 features");
    std::vector<std::uint8_t> feature(size, 0);
    for (std::size_t i = 0; i < size; ++i) {
        if (std::isnan(values[i])) continue;
        if (!std::isfinite(values[i]))
            throw InvalidInput(what + ": value " + std::to_string(i) + " is " + number(values[i]) +
                               "; expected a finite number, or NaN for no feature");
        if (!std::isfinite(x[i]) || !std::isfinite(y[i]))
            throw InvalidInput(what + ": feature " + std::to_string(i) + " has non-finite coordinates (" +
                               number(x[i]) + ", " + number(y[i]) + ")");
        feature[i] = 1;
    }
    const Moments m = moments(values, feature);
    check_moments(m, what);
    check_k(options, m.n);

    std::vector<Entry> entries;
    entries.reserve(m.n);
    for (std::size_t i = 0; i < size; ++i)
        if (feature[i]) entries.emplace_back(BPoint(x[i], y[i]), std::uint32_t(i));
    const RTree tree(entries.begin(), entries.end()); // packed: deterministic layout
    std::vector<std::uint32_t> order;
    order.reserve(m.n);
    for (const Entry& e : entries)
        order.push_back(e.second);

    tbb::task_arena arena = make_arena(context);
    context.report(0.0, "Gi*");

    // Squared distance within which the k nearest others of feature i lie (its (k+1)-th nearest
    // feature, itself included, through the tree).
    auto kth_distance2 = [&](std::uint32_t i, std::size_t k) {
        double d2 = 0;
        for (auto it = tree.qbegin(bgi::nearest(BPoint(x[i], y[i]), unsigned(k + 1))); it != tree.qend();
             ++it)
            d2 = std::max(d2, distance2(x[i], y[i], bg::get<0>(it->first), bg::get<1>(it->first)));
        return d2;
    };
    // Features within squared distance `limit2` of feature i, itself included, in index order.
    auto within = [&](std::uint32_t i, double limit2, std::vector<std::uint32_t>& out) {
        out.clear();
        const double b = std::sqrt(limit2) * (1.0 + 1e-6) + 1e-9;
        const BBox box(BPoint(x[i] - b, y[i] - b), BPoint(x[i] + b, y[i] + b));
        for (auto it = tree.qbegin(bgi::intersects(box)); it != tree.qend(); ++it)
            if (distance2(x[i], y[i], bg::get<0>(it->first), bg::get<1>(it->first)) <= limit2)
                out.push_back(it->second);
        std::sort(out.begin(), out.end());
    };

    GiStar r;
    r.z.assign(size, nan);
    r.neighbours.assign(size, 0);
    std::vector<double> centred(size, 0.0);
    for (std::size_t i = 0; i < size; ++i)
        if (feature[i]) centred[i] = values[i] - m.mean;

    if (options.k_neighbours > 0) {
        const auto k = std::size_t(options.k_neighbours);
        r.k_neighbours = options.k_neighbours;
        run_chunked(arena, context, order.size(), "Gi*", 0.0, 0.95, [&](std::size_t begin, std::size_t end) {
            std::vector<std::uint32_t> candidates;
            std::vector<std::pair<double, std::uint32_t>> ranked;
            for (std::size_t o = begin; o < end; ++o) {
                const std::uint32_t i = order[o];
                within(i, kth_distance2(i, k), candidates);
                ranked.clear();
                for (const std::uint32_t j : candidates)
                    if (j != i) ranked.emplace_back(distance2(x[i], y[i], x[j], y[j]), j);
                std::sort(ranked.begin(), ranked.end());
                ranked.resize(std::min(ranked.size(), k));
                std::sort(ranked.begin(), ranked.end(),
                          [](const auto& a, const auto& b) { return a.second < b.second; });
                double sum = centred[i];
                for (const auto& [d2, j] : ranked)
                    sum += centred[j];
                r.neighbours[i] = std::int32_t(ranked.size() + 1);
                r.z[i] = z_score(sum, r.neighbours[i], m);
            }
        });
    } else {
        double band = options.distance_band_m;
        if (band == 0) {
            const std::size_t k = automatic_k(m.n);
            std::vector<double> kth(size, 0.0), first(size, 0.0);
            run_chunked(arena, context, order.size(), "Gi* automatic distance band", 0.0, 0.3,
                        [&](std::size_t begin, std::size_t end) {
                            for (std::size_t o = begin; o < end; ++o) {
                                kth[order[o]] = std::sqrt(kth_distance2(order[o], k));
                                first[order[o]] = std::sqrt(kth_distance2(order[o], 1));
                            }
                        });
            double sum = 0, max_first = 0;
            for (std::size_t i = 0; i < size; ++i)
                if (feature[i]) {
                    sum += kth[i];
                    max_first = std::max(max_first, first[i]);
                }
            band = std::max(sum / double(m.n), max_first);
        }
        r.distance_band_m = band;
        const double limit2 = band_limit2(band);
        run_chunked(arena, context, order.size(), "Gi*", 0.3, 0.95, [&](std::size_t begin, std::size_t end) {
            std::vector<std::uint32_t> neighbours;
            for (std::size_t o = begin; o < end; ++o) {
                const std::uint32_t i = order[o];
                within(i, limit2, neighbours);
                double sum = 0;
                for (const std::uint32_t j : neighbours)
                    sum += centred[j];
                r.neighbours[i] = std::int32_t(neighbours.size());
                r.z[i] = z_score(sum, r.neighbours[i], m);
            }
        });
    }
    finish(r, m, options);
    context.report(1.0, "Gi*");
    return r;
}

// ---------------------------------------------------------------------------------------------
// GEOS

/// A GEOS context handle for one call, with its last error message.
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

struct XY {
    double x, y;
};
using Ring = std::vector<XY>;      ///< open: the closing vertex is not repeated
using Polygon = std::vector<Ring>; ///< shell, then holes

/// The ring's vertices without the closing one and without collinear vertices (every vertex of a
/// union of cells is on a horizontal and a vertical edge, so collinear means equal x or equal y).
Ring clean_ring(GEOSContextHandle_t h, const GEOSGeometry* ring) {
    const GEOSCoordSequence* seq = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned int size = 0;
    if (seq == nullptr || GEOSCoordSeq_getSize_r(h, seq, &size) == 0) throw Error("GEOS: cannot read a ring");
    Ring all;
    for (unsigned int i = 0; i + 1 < size; ++i) {
        XY p{};
        GEOSCoordSeq_getXY_r(h, seq, i, &p.x, &p.y);
        all.push_back(p);
    }
    Ring out;
    const std::size_t m = all.size();
    for (std::size_t i = 0; i < m; ++i) {
        const XY& a = all[(i + m - 1) % m];
        const XY& b = all[i];
        const XY& c = all[(i + 1) % m];
        if ((a.x == b.x && b.x == c.x) || (a.y == b.y && b.y == c.y)) continue;
        out.push_back(b);
    }
    return out;
}

double signed_area2(const Ring& ring) {
    double a = 0;
    for (std::size_t i = 0; i < ring.size(); ++i) {
        const XY& p = ring[i];
        const XY& q = ring[(i + 1) % ring.size()];
        a += p.x * q.y - q.x * p.y;
    }
    return a;
}

/// Counter-clockwise when `ccw`, else clockwise; starting at the lowest (y, x) vertex.
void orient(Ring& ring, bool ccw) {
    if ((signed_area2(ring) > 0) != ccw) std::reverse(ring.begin(), ring.end());
    const auto first = std::min_element(ring.begin(), ring.end(), [](const XY& a, const XY& b) {
        return std::tie(a.y, a.x) < std::tie(b.y, b.x);
    });
    std::rotate(ring.begin(), first, ring.end());
}

Polygon polygon_of(GEOSContextHandle_t h, const GEOSGeometry* g) {
    Polygon polygon;
    polygon.push_back(clean_ring(h, GEOSGetExteriorRing_r(h, g)));
    orient(polygon.back(), true);
    const int holes = GEOSGetNumInteriorRings_r(h, g);
    for (int i = 0; i < holes; ++i) {
        polygon.push_back(clean_ring(h, GEOSGetInteriorRingN_r(h, g, i)));
        orient(polygon.back(), false);
    }
    return polygon;
}

/// The union of the cells (row-major indices) of one component, as polygons (one, for a
/// 4-connected component).
std::vector<Polygon> dissolve(const GeosContext& geos, const Grid& grid,
                              const std::vector<std::uint32_t>& cells) {
    GEOSContextHandle_t h = geos.get();
    auto edge_x = [&](std::size_t c) { return grid.origin_x + double(c) * grid.cell_m; };
    auto edge_y = [&](std::size_t r) { return grid.origin_y - double(r) * grid.cell_m; };
    if (cells.size() == 1) { // a lone cell is its square: common on sparse surfaces, no need for GEOS
        const std::size_t r = cells[0] / grid.cols, c = cells[0] % grid.cols;
        Ring square = {{edge_x(c), edge_y(r + 1)},
                       {edge_x(c + 1), edge_y(r + 1)},
                       {edge_x(c + 1), edge_y(r)},
                       {edge_x(c), edge_y(r)}};
        orient(square, true);
        return {Polygon{std::move(square)}};
    }
    std::vector<GeometryPtr> squares;
    squares.reserve(cells.size());
    for (const std::uint32_t cell : cells) {
        const std::size_t r = cell / grid.cols, c = cell % grid.cols;
        GEOSGeometry* square =
            GEOSGeom_createRectangle_r(h, edge_x(c), edge_y(r + 1), edge_x(c + 1), edge_y(r));
        if (square == nullptr) throw Error("GEOS: cannot create a cell square: " + geos.last_error());
        squares.emplace_back(square, GeometryDeleter{h});
    }
    std::vector<GEOSGeometry*> raw;
    raw.reserve(squares.size());
    for (auto& s : squares)
        raw.push_back(s.release()); // the collection takes ownership
    GeometryPtr collection(
        GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, raw.data(), unsigned(raw.size())),
        GeometryDeleter{h});
    if (!collection) throw Error("GEOS: cannot collect the cell squares: " + geos.last_error());
    GeometryPtr dissolved(GEOSCoverageUnion_r(h, collection.get()), GeometryDeleter{h});
    if (!dissolved) throw Error("GEOS: coverage union of hotspot cells failed: " + geos.last_error());

    std::vector<Polygon> polygons;
    const int type = GEOSGeomTypeId_r(h, dissolved.get());
    if (type == GEOS_POLYGON) {
        polygons.push_back(polygon_of(h, dissolved.get()));
    } else {
        const int parts = GEOSGetNumGeometries_r(h, dissolved.get());
        for (int i = 0; i < parts; ++i) {
            const GEOSGeometry* part = GEOSGetGeometryN_r(h, dissolved.get(), i);
            if (GEOSGeomTypeId_r(h, part) == GEOS_POLYGON) polygons.push_back(polygon_of(h, part));
        }
    }
    return polygons;
}

/// ISO WKB (2D) of a Polygon, or of a MultiPolygon when there are several, in native byte order.
std::vector<unsigned char> to_wkb(const std::vector<Polygon>& polygons) {
    std::vector<unsigned char> out;
    const unsigned char order = std::endian::native == std::endian::little ? 1 : 0;
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
    auto put_polygon = [&](const Polygon& polygon) {
        out.push_back(order);
        put_u32(3);
        put_u32(std::uint32_t(polygon.size()));
        for (const Ring& ring : polygon) {
            put_u32(std::uint32_t(ring.size() + 1));
            for (const XY& p : ring) {
                put_f64(p.x);
                put_f64(p.y);
            }
            put_f64(ring.front().x); // closed
            put_f64(ring.front().y);
        }
    };
    if (polygons.size() == 1) {
        put_polygon(polygons.front());
    } else {
        out.push_back(order);
        put_u32(6);
        put_u32(std::uint32_t(polygons.size()));
        for (const Polygon& polygon : polygons)
            put_polygon(polygon);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Hotspot cells

std::vector<std::uint8_t> valid_cells(const Grid& grid, std::size_t& count) {
    std::vector<std::uint8_t> valid(grid.size(), 0);
    count = 0;
    for (std::size_t i = 0; i < grid.size(); ++i)
        if (!is_nodata(grid.values[i], grid.nodata)) {
            valid[i] = 1;
            ++count;
        }
    return valid;
}

/// 4-connected components of the selected cells, numbered in row-major order of their first
/// cell, each with its cells in row-major order.
std::vector<std::vector<std::uint32_t>> components(const Grid& grid,
                                                   const std::vector<std::uint8_t>& selected) {
    const std::size_t rows = grid.rows, cols = grid.cols;
    std::vector<std::int32_t> label(selected.size(), -1);
    std::int32_t next = 0;
    std::vector<std::uint32_t> stack;
    for (std::size_t start = 0; start < selected.size(); ++start) {
        if (!selected[start] || label[start] >= 0) continue;
        label[start] = next;
        stack.push_back(std::uint32_t(start));
        while (!stack.empty()) {
            const std::size_t cell = stack.back();
            stack.pop_back();
            const std::size_t r = cell / cols, c = cell % cols;
            auto visit = [&](std::size_t other) {
                if (selected[other] && label[other] < 0) {
                    label[other] = next;
                    stack.push_back(std::uint32_t(other));
                }
            };
            if (r > 0) visit(cell - cols);
            if (r + 1 < rows) visit(cell + cols);
            if (c > 0) visit(cell - 1);
            if (c + 1 < cols) visit(cell + 1);
        }
        ++next;
    }
    std::vector<std::vector<std::uint32_t>> result(static_cast<std::size_t>(next));
    for (std::size_t i = 0; i < label.size(); ++i)
        if (label[i] >= 0) result[std::size_t(label[i])].push_back(std::uint32_t(i));
    return result;
}

const Column* find_column(const FeatureTable& table, const std::string& name) {
    for (const Column& column : table.columns)
        if (column.name == name) return &column;
    return nullptr;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Counts

Grid count_grid(const Incidents& incidents, const Grid& like) {
    check_grid(like, "count_grid: the grid to align with");
    check_incidents(incidents);
    std::vector<double> values(like.size(), 0.0);
    for (std::size_t i = 0; i < like.size(); ++i)
        if (is_nodata(like.values[i], like.nodata)) values[i] = nan;
    for (std::size_t i = 0; i < incidents.size(); ++i) {
        const std::int64_t cell = cell_of(like, incidents.x[i], incidents.y[i]);
        if (cell >= 0 && !std::isnan(values[std::size_t(cell)]))
            values[std::size_t(cell)] += weight_of(incidents, i);
    }
    Grid grid = like_grid(like, std::move(values), "incidents per cell");
    grid.metadata = {{"statistic", "incident count per cell (sum of weights)"},
                     {"cell_m", number(like.cell_m)}};
    return grid;
}

Grid count_grid(const Incidents& incidents, double cell_m, const std::optional<Bounds>& bounds) {
    check_incidents(incidents);
    if (!(cell_m > 0) || !std::isfinite(cell_m))
        throw InvalidInput("count_grid: cell_m must be a positive, finite number of metres; got " +
                           number(cell_m));
    Bounds b;
    if (bounds) {
        b = *bounds;
    } else {
        bool any = false;
        for (std::size_t i = 0; i < incidents.size(); ++i) {
            const double x = incidents.x[i], y = incidents.y[i];
            if (!std::isfinite(x) || !std::isfinite(y)) continue;
            if (!any) b = {x, y, x, y};
            b = {std::min(b.min_x, x), std::min(b.min_y, y), std::max(b.max_x, x), std::max(b.max_y, y)};
            any = true;
        }
        if (!any)
            throw InvalidInput("count_grid: no incidents with finite coordinates to set the grid's extent");
        const double pad = 0.5 * cell_m;
        b = {b.min_x - pad, b.min_y - pad, b.max_x + pad, b.max_y + pad};
    }
    const Grid like = Grid::covering(b, cell_m, incidents.crs.wkt);
    return count_grid(incidents, like);
}

// ---------------------------------------------------------------------------------------------
// Gi*

void GiStarOptions::validate() const {
    if (!std::isfinite(distance_band_m) || distance_band_m < 0)
        throw InvalidInput(
            "GiStarOptions::distance_band_m must be a finite number of metres >= 0 (0: automatic); got " +
            number(distance_band_m));
    if (k_neighbours < 0)
        throw InvalidInput("GiStarOptions::k_neighbours must be >= 0 (0: use a distance band); got " +
                           std::to_string(k_neighbours));
    if (k_neighbours > 0 && distance_band_m > 0)
        throw InvalidInput("GiStarOptions: distance_band_m (" + number(distance_band_m) +
                           ") and k_neighbours (" + std::to_string(k_neighbours) +
                           ") are both set; set one of them");
}

double two_sided_p(double z) {
    return std::erfc(std::abs(z) / std::numbers::sqrt2);
}

std::int8_t gi_bin(double z, double p) {
    if (std::isnan(z) || std::isnan(p)) return 0;
    const std::int8_t level = p <= 0.01 ? 3 : p <= 0.05 ? 2 : p <= 0.10 ? 1 : 0;
    return z > 0 ? level : z < 0 ? std::int8_t(-level) : std::int8_t(0);
}

std::vector<double> fdr_adjust(std::span<const double> p) {
    if (p.size() > std::numeric_limits<std::uint32_t>::max())
        throw InvalidInput("fdr_adjust: more than 2^32 p-values");
    // (p, index) pairs sorted contiguously: several times faster than sorting indices through p.
    // Ties in p get the same q whatever their order, so the result is deterministic.
    std::vector<std::pair<double, std::uint32_t>> sorted;
    sorted.reserve(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (std::isnan(p[i])) continue;
        if (!(p[i] >= 0 && p[i] <= 1))
            throw InvalidInput("fdr_adjust: p-value " + std::to_string(i) + " is " + number(p[i]) +
                               "; expected a number in [0, 1] or NaN");
        sorted.emplace_back(p[i], std::uint32_t(i));
    }
    std::sort(sorted.begin(), sorted.end());
    std::vector<double> q(p.size(), nan);
    const auto m = double(sorted.size());
    double running = 1.0;
    for (std::size_t rank = sorted.size(); rank > 0; --rank) {
        const auto& [value, i] = sorted[rank - 1];
        running = std::min(running, value * m / double(rank));
        q[i] = running;
    }
    return q;
}

GridGiStar gi_star(const Grid& values, const GiStarOptions& options, const Context& context) {
    options.validate();
    check_grid(values, "gi_star: the grid");
    std::size_t n = 0;
    const std::vector<std::uint8_t> valid = valid_cells(values, n);
    for (std::size_t i = 0; i < values.size(); ++i)
        if (valid[i] && !std::isfinite(values.values[i]))
            throw InvalidInput("gi_star: cell (row " + std::to_string(i / values.cols) + ", column " +
                               std::to_string(i % values.cols) + ") is " + number(values.values[i]) +
                               "; expected a finite value or nodata");
    const Moments m = moments(values.values, valid);
    check_moments(m, "the grid's valid cells");
    check_k(options, m.n);

    tbb::task_arena arena = make_arena(context);
    context.report(0.0, "Gi*");
    std::vector<double> centred(values.size(), 0.0);
    for (std::size_t i = 0; i < values.size(); ++i)
        if (valid[i]) centred[i] = values.values[i] - m.mean;

    GridGiStar result;
    GiStar& r = result.stats;
    r.z.assign(values.size(), nan);
    r.neighbours.assign(values.size(), 0);
    if (options.k_neighbours > 0) {
        const auto k = std::size_t(options.k_neighbours);
        r.k_neighbours = options.k_neighbours;
        const auto cols = std::int64_t(values.cols);
        NearestCells(values, valid, k)
            .run(arena, context, "Gi*", 0.0, 0.9,
                 [&](std::size_t cell, const std::vector<Offset>& table,
                     const std::vector<std::uint32_t>& found) {
                     double sum = centred[cell];
                     for (const std::uint32_t t : found)
                         sum += centred[std::size_t(std::int64_t(cell) + table[t].dr * cols + table[t].dc)];
                     r.neighbours[cell] = std::int32_t(k + 1);
                     r.z[cell] = z_score(sum, std::int64_t(k + 1), m);
                 });
    } else {
        const double band = options.distance_band_m > 0
                                ? options.distance_band_m
                                : automatic_band_grid(values, valid, m.n, arena, context);
        r.distance_band_m = band;
        std::vector<double> sums(values.size(), 0.0);
        band_sums_grid(values, centred, valid, band, sums, r.neighbours, arena, context);
        for (std::size_t i = 0; i < values.size(); ++i)
            if (valid[i]) r.z[i] = z_score(sums[i], r.neighbours[i], m);
    }
    finish(r, m, options);

    result.z = like_grid(values, r.z, "z-score");
    std::vector<double> classes(values.size(), nan);
    const std::vector<std::int8_t>& bins = r.classes();
    for (std::size_t i = 0; i < values.size(); ++i)
        if (valid[i]) classes[i] = double(bins[i]);
    result.classes = like_grid(values, std::move(classes), "Gi_Bin confidence class");
    std::vector<std::pair<std::string, std::string>> metadata = {
        {"statistic", "Getis-Ord Gi*"},
        {"features", std::to_string(r.features)},
        {"mean", number(r.mean)},
        {"sd", number(r.sd)},
    };
    if (r.k_neighbours > 0)
        metadata.emplace_back("k_neighbours", std::to_string(r.k_neighbours));
    else
        metadata.emplace_back("distance_band_m", number(r.distance_band_m));
    result.z.metadata = metadata;
    metadata.emplace_back("fdr", options.fdr ? "Benjamini-Hochberg" : "none");
    metadata.emplace_back("classes",
                          "+3/+2/+1 hot spot at 99/95/90% confidence, -3/-2/-1 cold spot, 0 not significant");
    result.classes.metadata = std::move(metadata);
    context.report(1.0, "Gi*");
    return result;
}

GiStar gi_star_points(std::span<const double> x, std::span<const double> y, std::span<const double> values,
                      const GiStarOptions& options, const Context& context) {
    return gi_star_features(x, y, values, options, context, "gi_star_points");
}

GiStar gi_star(const AreaLayer& areas, std::span<const double> values, const GiStarOptions& options,
               const Context& context) {
    if (values.size() != areas.size())
        throw InvalidInput("gi_star: " + std::to_string(values.size()) + " values for " +
                           std::to_string(areas.size()) + " areas; expected one value per area");
    if (areas.centroid_x.size() != areas.size() || areas.centroid_y.size() != areas.size())
        throw InvalidInput("gi_star: the area layer has " + std::to_string(areas.centroid_x.size()) +
                           " x and " + std::to_string(areas.centroid_y.size()) + " y centroids for " +
                           std::to_string(areas.size()) + " areas");
    return gi_star_features(areas.centroid_x, areas.centroid_y, values, options, context, "gi_star (areas)");
}

FeatureTable gi_star_table(const AreaLayer& areas, std::span<const double> values, const GiStar& result) {
    const std::size_t n = areas.size();
    if (values.size() != n || result.z.size() != n || result.p.size() != n || result.p_fdr.size() != n ||
        result.gi_bin.size() != n || result.gi_bin_fdr.size() != n || result.neighbours.size() != n ||
        areas.wkb.size() != n)
        throw InvalidInput("gi_star_table: the areas (" + std::to_string(n) + "), their geometries (" +
                           std::to_string(areas.wkb.size()) + "), values (" + std::to_string(values.size()) +
                           ") and Gi* results (" + std::to_string(result.z.size()) + ") differ in length");
    FeatureTable table;
    table.crs_wkt = areas.crs.wkt;
    table.wkb = areas.wkb;
    table.columns.push_back({"id", areas.ids});
    if (areas.names.size() == n) table.columns.push_back({"name", areas.names});
    table.columns.push_back({"value", std::vector<double>(values.begin(), values.end())});
    table.columns.push_back({"z", result.z});
    table.columns.push_back({"p", result.p});
    table.columns.push_back({"p_fdr", result.p_fdr});
    auto ints = [](const auto& v) { return std::vector<std::int64_t>(v.begin(), v.end()); };
    table.columns.push_back({"neighbours", ints(result.neighbours)});
    table.columns.push_back({"gi_bin", ints(result.gi_bin)});
    table.columns.push_back({"gi_bin_fdr", ints(result.gi_bin_fdr)});
    return table;
}

LayerStyle gi_bin_style(const std::string& field) {
    LayerStyle style;
    style.kind = LayerStyle::Kind::categorized;
    style.field = field;
    style.values = {"-3", "-2", "-1", "0", "1", "2", "3"};
    style.labels = {"Cold spot, 99% confidence", "Cold spot, 95% confidence", "Cold spot, 90% confidence",
                    "Not significant",           "Hot spot, 90% confidence",  "Hot spot, 95% confidence",
                    "Hot spot, 99% confidence"};
    style.colours = {"#4575b5", "#849eba", "#c0ccbe", "#ffffbf", "#fab984", "#ed7551", "#d62f27"};
    style.title = "Gi* hot and cold spots (" + field + ")";
    return style;
}

// ---------------------------------------------------------------------------------------------
// Hotspot polygons

void HotspotPolygonOptions::validate() const {
    if (!std::isfinite(top_percent) || !(top_percent > 0) || top_percent > 100)
        throw InvalidInput("HotspotPolygonOptions::top_percent must be in (0, 100]; got " +
                           number(top_percent));
    if (min_gi_bin < 1 || min_gi_bin > 3)
        throw InvalidInput(
            "HotspotPolygonOptions::min_gi_bin must be 1, 2 or 3 (hot at 90, 95 or 99% confidence); got " +
            std::to_string(min_gi_bin));
    if (!std::isfinite(threshold))
        throw InvalidInput("HotspotPolygonOptions::threshold must be finite; got " + number(threshold));
    if (min_cells < 1) throw InvalidInput("HotspotPolygonOptions::min_cells must be >= 1; got 0");
    try {
        gi.validate();
    } catch (const InvalidInput& e) {
        throw InvalidInput(std::string("HotspotPolygonOptions::gi: ") + e.what());
    }
}

FeatureTable hotspot_polygons(const Grid& surface, const Incidents& incidents,
                              const HotspotPolygonOptions& options, HotspotSummary* summary,
                              const Context& context) {
    options.validate();
    check_grid(surface, "hotspot_polygons: the surface");
    check_incidents(incidents);
    std::size_t study_cells = 0;
    const std::vector<std::uint8_t> valid = valid_cells(surface, study_cells);
    if (study_cells == 0) throw InvalidInput("hotspot_polygons: the surface has no valid cells (all nodata)");
    tbb::task_arena arena = make_arena(context);
    HotspotSummary s;
    s.study_cells = study_cells;
    const double cell_km2 = surface.cell_area_m2() * 1e-6;
    s.study_area_km2 = double(study_cells) * cell_km2;
    context.report(0.0, "hotspot polygons");

    // Select.
    std::vector<std::uint8_t> selected(surface.size(), 0);
    const std::vector<double>& v = surface.values;
    switch (options.selection) {
    case HotspotSelection::top_percent: {
        std::vector<std::uint32_t> candidates;
        for (std::size_t i = 0; i < v.size(); ++i)
            if (valid[i] && v[i] > 0) candidates.push_back(std::uint32_t(i));
        // k = ⌈share × cells⌉ up to a relative 1e-9, exactly as evaluate.hpp's hotspot_cells counts.
        const double t = options.top_percent / 100.0 * double(study_cells);
        double whole = std::floor(t);
        if (t - whole > 1e-9 * std::max(1.0, t)) whole += 1;
        const auto wanted = std::max<std::size_t>(1, std::size_t(whole));
        const std::size_t k = std::min(wanted, candidates.size());
        auto hotter = [&](std::uint32_t a, std::uint32_t b) {
            return v[a] > v[b] || (v[a] == v[b] && a < b);
        };
        if (k > 0 && k < candidates.size())
            std::nth_element(candidates.begin(), candidates.begin() + std::ptrdiff_t(k - 1), candidates.end(),
                             hotter);
        if (k > 0) {
            // nth_element leaves the k hottest before position k under the total order `hotter`.
            for (std::size_t j = 0; j < k; ++j)
                selected[candidates[j]] = 1;
        }
        break;
    }
    case HotspotSelection::at_least:
        for (std::size_t i = 0; i < v.size(); ++i)
            if (valid[i] && v[i] >= options.threshold) selected[i] = 1;
        break;
    case HotspotSelection::gi_star: {
        const Grid counts = count_grid(incidents, surface);
        Context gi_context; // Gi* is the first half of the work
        gi_context.progress = [&](double fraction, std::string_view stage) {
            context.report(0.5 * fraction, stage);
        };
        gi_context.cancel = context.cancel;
        gi_context.threads = context.threads;
        GridGiStar gi = gi_star(counts, options.gi, gi_context);
        const std::vector<std::int8_t>& bins = gi.stats.classes();
        for (std::size_t i = 0; i < v.size(); ++i)
            if (valid[i] && bins[i] >= options.min_gi_bin) selected[i] = 1;
        s.gi = std::move(gi.stats);
        break;
    }
    }
    context.check("hotspot polygons");

    // Components and their incidents.
    std::vector<std::vector<std::uint32_t>> comps = components(surface, selected);
    std::vector<std::int32_t> label(surface.size(), -1);
    for (std::size_t k = 0; k < comps.size(); ++k)
        for (const std::uint32_t cell : comps[k])
            label[cell] = std::int32_t(k);
    std::vector<double> inside(comps.size(), 0.0);
    for (std::size_t i = 0; i < incidents.size(); ++i) {
        const double w = weight_of(incidents, i);
        const std::int64_t cell = cell_of(surface, incidents.x[i], incidents.y[i]);
        if (cell < 0 || !valid[std::size_t(cell)]) {
            s.incidents_outside += w;
            continue;
        }
        s.incidents_study += w;
        if (const std::int32_t l = label[std::size_t(cell)]; l >= 0) inside[std::size_t(l)] += w;
    }

    struct Hotspot {
        std::size_t component;
        double incidents, mean, max;
    };
    std::vector<Hotspot> hotspots;
    for (std::size_t k = 0; k < comps.size(); ++k) {
        if (comps[k].size() < options.min_cells) continue;
        double sum = 0, max = -std::numeric_limits<double>::infinity();
        for (const std::uint32_t cell : comps[k]) {
            sum += v[cell];
            max = std::max(max, v[cell]);
        }
        hotspots.push_back({k, inside[k], sum / double(comps[k].size()), max});
    }
    // Components are numbered by their first (north-westernmost) cell: the last tie-break.
    std::sort(hotspots.begin(), hotspots.end(), [](const Hotspot& a, const Hotspot& b) {
        if (a.incidents != b.incidents) return a.incidents > b.incidents;
        if (a.mean != b.mean) return a.mean > b.mean;
        return a.component < b.component;
    });

    // Polygons, in parallel with a GEOS context per task; each lands in its rank's slot.
    FeatureTable table;
    table.crs_wkt = surface.crs_wkt;
    table.wkb.resize(hotspots.size());
    run_chunked(arena, context, hotspots.size(), "hotspot polygons", 0.5, 1.0,
                [&](std::size_t begin, std::size_t end) {
                    const GeosContext geos;
                    for (std::size_t h = begin; h < end; ++h)
                        table.wkb[h] = to_wkb(dissolve(geos, surface, comps[hotspots[h].component]));
                });

    std::vector<std::int64_t> rank, cells;
    std::vector<double> area_km2, inc, per_km2, inc_pct, cum_pct, area_pct, pai, mean_value, max_value;
    const double total = s.incidents_study;
    double cumulative = 0;
    s.lowest_selected_value = hotspots.empty() ? nan : std::numeric_limits<double>::infinity();
    for (std::size_t h = 0; h < hotspots.size(); ++h) {
        const Hotspot& hs = hotspots[h];
        const std::vector<std::uint32_t>& comp = comps[hs.component];
        const double area = double(comp.size()) * cell_km2;
        const double share_incidents = total > 0 ? hs.incidents / total : nan;
        const double share_area = double(comp.size()) / double(study_cells);
        cumulative += hs.incidents;
        rank.push_back(std::int64_t(h + 1));
        cells.push_back(std::int64_t(comp.size()));
        area_km2.push_back(area);
        inc.push_back(hs.incidents);
        per_km2.push_back(hs.incidents / area);
        inc_pct.push_back(100.0 * share_incidents);
        cum_pct.push_back(total > 0 ? 100.0 * cumulative / total : nan);
        area_pct.push_back(100.0 * share_area);
        pai.push_back(share_incidents / share_area);
        mean_value.push_back(hs.mean);
        max_value.push_back(hs.max);
        s.selected_cells += comp.size();
        s.incidents_selected += hs.incidents;
        for (const std::uint32_t cell : comp)
            s.lowest_selected_value = std::min(s.lowest_selected_value, v[cell]);
    }
    s.polygons = hotspots.size();
    s.selected_area_km2 = double(s.selected_cells) * cell_km2;
    table.columns = {
        {"rank", std::move(rank)},
        {"cells", std::move(cells)},
        {"area_km2", std::move(area_km2)},
        {"incidents", std::move(inc)},
        {"incidents_per_km2", std::move(per_km2)},
        {"incidents_pct", std::move(inc_pct)},
        {"cum_incidents_pct", std::move(cum_pct)},
        {"area_pct", std::move(area_pct)},
        {"pai", std::move(pai)},
        {"mean_value", std::move(mean_value)},
        {"max_value", std::move(max_value)},
    };
    context.report(1.0, "hotspot polygons");
    if (summary != nullptr) *summary = std::move(s);
    return table;
}

void write_hotspots_gpkg(const std::string& path, const std::string& layer, const FeatureTable& table,
                         const std::string& style_field, int classes) {
    if (classes < 1)
        throw InvalidInput("write_hotspots_gpkg: classes must be >= 1; got " + std::to_string(classes));
    const Column* column = find_column(table, style_field);
    if (column == nullptr)
        throw InvalidInput("write_hotspots_gpkg: no column '" + style_field + "' to style on");
    std::vector<double> values;
    if (const auto* d = std::get_if<std::vector<double>>(&column->values))
        values = *d;
    else if (const auto* i = std::get_if<std::vector<std::int64_t>>(&column->values))
        values.assign(i->begin(), i->end());
    else
        throw InvalidInput("write_hotspots_gpkg: column '" + style_field + "' is not numeric");

    LayerStyle style;
    const bool any_finite =
        std::any_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
    if (!any_finite) { // no polygons, or PAI undefined without incidents
        style.kind = LayerStyle::Kind::single;
        style.colours = {"#bd0026"};
    } else {
        const std::string unit = style_field == "incidents"           ? "incidents"
                                 : style_field == "incidents_per_km2" ? "per km²"
                                 : style_field == "area_km2"          ? "km²"
                                 : style_field == "incidents_pct" || style_field == "area_pct" ||
                                         style_field == "cum_incidents_pct"
                                     ? "%"
                                     : "";
        const int n = int(std::min<std::size_t>(std::size_t(classes), table.wkb.size()));
        style = graduated_style(style_field, std::move(values), n, unit);
    }
    style.opacity = 0.8;
    style.title = layer;
    write_gpkg_layer(path, layer, table, style);
}

} // namespace streetsafe
