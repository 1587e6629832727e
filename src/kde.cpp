// Kernel density estimation on a grid.
//
// The production path (KdeMethod::exact) adds each incident's kernel to the cells its support
// covers; it is exact to rounding (each cell receives the terms the brute-force sum adds) and
// deterministic:
//   - the incidents are sorted by row, then by x, y and weight: a total order on their values;
//   - the grid is split into bands of rows, each written by one task only, which adds the incidents
//     touching it in that order.
// So every cell sums its terms in the same order whatever the number of threads or the input
// order, and the result is the same byte for byte. Incidents at the very same place are merged
// (their weights summed, in that order) first: police.uk, for one, snaps incidents to shared points.
//
// Each row of a kernel is walked over a fixed range of columns around the incident's own (from a
// table of the support's half-chords, conservative by a little), four columns at a time, and each
// cell is masked by the exact test d² < R² that kernel_value() and the brute force apply: no square
// root or search per row, and no branch in the inner loops.
//
// Discrete normalisation divides an incident's samples by their sum over the infinite lattice of
// cell centres. For supports of up to 24 cells in radius that sum is taken term by term over the
// same ranges, and the terms are kept to be scaled and added: the kernel is evaluated once. Wider
// supports use closed forms per row instead, O(rows + columns) per incident: the centres inside
// the support form an interval of columns around the incident's, found from the half-chord and
// settled by the exact test, and the sum over it is n a² − 2a Σu + Σu² (quartic, u = dx²/h²,
// a = 1 − dy²/h²), n a − Σu (Epanechnikov), n (uniform) or exp(−dy²/2σ²) Σ exp(−dx²/2σ²)
// (Gaussian), with Σu and Σu² from running sums outward from the incident's column. The
// triangular kernel sums its intervals. When the support holds no cell centre at all (a bandwidth
// well below the cell size) the incident's whole weight goes to the cell containing it, in both
// methods.
//
// Each band computes the normalisation of the incidents it touches (the same arithmetic gives the
// same value in every band): with tall bands few incidents straddle two, and it saves a pass over
// memory. The inner loops use GCC's vector extensions on four doubles; on x86-64 an AVX2 build of
// the bands is chosen at run time. The lanes hold the same IEEE results either way, so the bytes
// are the same; STREETSAFE_KDE_NO_AVX2=1 forces the portable build.

#include "streetsafe/kde.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numbers>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "streetsafe/error.hpp"

#if defined(__GNUC__)
#define STREETSAFE_INLINE [[gnu::always_inline]] inline
#else
#define STREETSAFE_INLINE inline
#endif
#if defined(__GNUC__) && defined(__x86_64__)
#define STREETSAFE_KDE_AVX2 1
#endif

namespace streetsafe {

namespace {

constexpr double gaussian_support_sigmas = 8.0;

/// The kernel's normalising constant times h²: K(d) = constant / h² × shape(d).
double shape_constant(Kernel k) {
    switch (k) {
    case Kernel::quartic: return 3.0 / std::numbers::pi;
    case Kernel::epanechnikov: return 2.0 / std::numbers::pi;
    case Kernel::triangular: return 3.0 / std::numbers::pi;
    case Kernel::uniform: return 1.0 / std::numbers::pi;
    case Kernel::gaussian: return 1.0 / (2.0 * std::numbers::pi);
    }
    return 0.0;
}

std::string format_number(double v) {
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
    return std::string(buffer, result.ptr);
}

std::string_view to_string(KdeOutput o) {
    return o == KdeOutput::density_per_km2 ? "density_per_km2" : "count_per_cell";
}

std::string_view to_string(KdeNormalisation n) {
    return n == KdeNormalisation::discrete ? "discrete" : "continuous";
}

// floor to an index, for |v| < 2^62 (callers work near the grid). Inline: without SSE4.1 the
// compiler calls libm's floor.
std::int64_t floor_index(double v) {
    const auto t = static_cast<std::int64_t>(v);
    return t - std::int64_t(v < double(t));
}

/// The multiplier from a density per m² to the requested output.
double output_factor(KdeOutput output, double cell_area_m2) {
    return output == KdeOutput::density_per_km2 ? 1e6 : cell_area_m2;
}

/// The grid's lattice of cell centres, extended infinitely beyond the grid, and the kernel.
/// Centres are computed exactly as Grid::centre_x/centre_y do, so that the inclusion test
/// d² < R² gives the same answer here, in kernel_value and in the brute-force path.
struct Geometry {
    Kernel kernel;
    double ox, oy, cell;
    double inv_cell;
    double h;          ///< bandwidth (sigma for the Gaussian)
    double radius;     ///< support radius R
    double radius2;    ///< R², the inclusion bound on d²
    double inv_h2;     ///< 1 / h²
    double inv_h;      ///< 1 / h
    double inv_2s2;    ///< 1 / (2 h²), Gaussian
    std::int64_t cols, rows;
    /// reach[|j|]: for a point in lattice cell (i, k), the centres of row i + j inside its support
    /// are in columns k ± reach[|j|]; rows with |j| >= reach.size() have none. Conservative by a
    /// slack covering the rounding of the cell indices.
    std::vector<std::int64_t> reach;

    [[nodiscard]] double centre_y(std::int64_t r) const { return oy - (double(r) + 0.5) * cell; }
    [[nodiscard]] std::int64_t col_of(double x) const { return floor_index((x - ox) / cell); }
    [[nodiscard]] std::int64_t row_of(double y) const { return floor_index((oy - y) / cell); }
    [[nodiscard]] std::int64_t max_row_offset() const { return std::int64_t(reach.size()) - 1; }
};

Geometry make_geometry(const Grid& grid, const KdeOptions& options, double max_abs_coordinate) {
    Geometry g{};
    g.kernel = options.kernel;
    g.ox = grid.origin_x;
    g.oy = grid.origin_y;
    g.cell = grid.cell_m;
    g.inv_cell = 1.0 / grid.cell_m;
    g.h = options.bandwidth_m;
    g.radius = support_radius(options.kernel, options.bandwidth_m);
    g.radius2 = g.radius * g.radius;
    g.inv_h2 = 1.0 / (g.h * g.h);
    g.inv_h = 1.0 / g.h;
    g.inv_2s2 = 1.0 / (2.0 * g.h * g.h);
    g.cols = std::int64_t(grid.cols);
    g.rows = std::int64_t(grid.rows);
    // A point in row i lies between the row's edges up to the rounding of its index, so it is at
    // least (|j| − ½ − slack) cells from the centres of row i + j, and the centres there within its
    // support are at most (chord + ½ + slack) columns from its own.
    const double slack = 1e-4 + 64.0 * std::numeric_limits<double>::epsilon() *
                                    (std::max({max_abs_coordinate, std::abs(g.ox), std::abs(g.oy)}) / g.cell);
    const double radius_cells = g.radius / g.cell;
    for (std::int64_t j = 0;; ++j) {
        const double dy_min = std::max(0.0, double(j) - 0.5 - slack);
        if (dy_min >= radius_cells) break;
        const double chord = std::sqrt(radius_cells * radius_cells - dy_min * dy_min);
        g.reach.push_back(floor_index(chord + 0.5 + slack));
    }
    return g;
}

/// An incident that can reach the grid.
struct Point {
    double x, y, weight;
    std::int32_t row, col; ///< lattice cell containing the point; the row is the bands' sort key
};

constexpr int lanes = 4;

#if defined(__GNUC__)
template <int W>
struct Native;
template <>
struct Native<2> { // SSE2 on x86-64, NEON on AArch64
    typedef double D __attribute__((vector_size(16)));
    typedef long long M __attribute__((vector_size(16)));
};
template <>
struct Native<4> { // AVX2
    typedef double D __attribute__((vector_size(32)));
    typedef long long M __attribute__((vector_size(32)));
};

/// Four doubles, the width of the inner loops in every build, held as 4 / W native vectors of W
/// lanes: one AVX2 register, or two SSE2 (or NEON) registers. Each lane computes the same IEEE
/// operations either way, so the portable and AVX2 builds give the same bytes.
template <int W>
struct Chunk {
    using D = typename Native<W>::D;
    using M = typename Native<W>::M;
    static constexpr int n = lanes / W;
    D v[n];

    STREETSAFE_INLINE static Chunk all(double x) {
        Chunk c;
        for (int i = 0; i < n; ++i) c.v[i] = D{} + x;
        return c;
    }
    // One native vector at a time: a copy of the whole array would go through the stack.
    STREETSAFE_INLINE static Chunk load(const double* p) {
        Chunk c;
        for (int i = 0; i < n; ++i) {
            D t;
            std::memcpy(&t, p + i * W, sizeof t);
            c.v[i] = t;
        }
        return c;
    }
    STREETSAFE_INLINE void store(double* p) const {
        for (int i = 0; i < n; ++i) {
            const D t = v[i];
            std::memcpy(p + i * W, &t, sizeof t);
        }
    }
    STREETSAFE_INLINE Chunk& operator+=(const Chunk& o) {
        for (int i = 0; i < n; ++i) v[i] += o.v[i];
        return *this;
    }
    // Operands by reference: a 32-byte vector passed by value makes GCC note an ABI change.
    STREETSAFE_INLINE friend Chunk operator+(const Chunk& a, const Chunk& b) {
        Chunk c;
        for (int i = 0; i < n; ++i) c.v[i] = a.v[i] + b.v[i];
        return c;
    }
    STREETSAFE_INLINE friend Chunk operator-(const Chunk& a, const Chunk& b) {
        Chunk c;
        for (int i = 0; i < n; ++i) c.v[i] = a.v[i] - b.v[i];
        return c;
    }
    STREETSAFE_INLINE friend Chunk operator*(const Chunk& a, const Chunk& b) {
        Chunk c;
        for (int i = 0; i < n; ++i) c.v[i] = a.v[i] * b.v[i];
        return c;
    }
    /// This where a < b, +0.0 elsewhere.
    STREETSAFE_INLINE Chunk where_less(const Chunk& a, const Chunk& b) const {
        Chunk c;
        for (int i = 0; i < n; ++i) c.v[i] = (D)((M)v[i] & (a.v[i] < b.v[i]));
        return c;
    }
    STREETSAFE_INLINE double operator[](int lane) const { return v[lane / W][lane % W]; }
};
#endif

/// Supports up to this many cells in radius have their lattice sums taken term by term over the
/// cells the kernel is added to (as cheap as the closed forms up to about 20 cells, and the same
/// loops); larger ones use the closed forms.
constexpr std::int64_t direct_sum_reach = 24;

/// Per-task scratch describing one point's kernel on the lattice: a window of columns [c0, c0 +
/// width) around the point's column (window index `centre`), with dx² and the kernel's column
/// factor at each. Rows are walked over the columns centre ± reach[|j|], padded to a multiple of
/// `lanes` inside the window, and every column is masked by the exact test d² < R². W is the width
/// of the native vectors the chunks of four columns are computed in.
template <Kernel K, int W>
struct Footprint {
    std::int64_t pad = lanes + 1; ///< window columns beyond the reach on each side
    std::int64_t c0 = 0;          ///< lattice column of window index 0
    std::size_t width = 0;
    std::size_t centre = 0;       ///< window index of the point's column
    std::vector<double> dx2;      ///< (centre_x − x)², m²
    std::vector<double> aux;      ///< dx²/h² (polynomial kernels) or exp(−dx²/2σ²) (Gaussian)
    std::vector<double> iota;     ///< 0, 1, 2, ... as doubles
    std::vector<double> shapes;   ///< the shape on every row's range, from lattice_sum_direct()
    std::vector<std::size_t> shape_start; ///< per row offset j, at j + max_row_offset

    // For the closed forms (supports wider than direct_sum_reach).
    std::size_t anchor = 0;       ///< window index of the column nearest the point
    double position = 0;          ///< the point's x in window columns, relative to the centres
    /// Sums of aux (s1) and aux² (s2) outward from the anchor: at k <= anchor over [k, anchor], at
    /// k > anchor over (anchor, k]. An interval's sum is then one addition of positive terms, never
    /// a difference of long prefix sums (which loses digits when the far columns' u are large).
    std::vector<double> s1, s2;
    std::vector<double> row_dy2;  ///< per row offset j, at j + max_row_offset
    std::vector<std::int32_t> row_lo, row_hi; ///< window indices; lo > hi when the row is empty

    explicit Footprint(const Geometry& g) {
        width = std::size_t(2 * (g.reach[0] + pad) + 1);
        centre = std::size_t(g.reach[0] + pad);
        dx2.resize(width);
        aux.resize(width);
        s1.resize(width);
        s2.resize(width);
        const auto slots = std::size_t(2 * g.max_row_offset() + 1);
        iota.resize(std::max(width, slots));
        for (std::size_t k = 0; k < iota.size(); ++k) iota[k] = double(k);
        row_dy2.resize(slots);
        row_lo.resize(slots);
        row_hi.resize(slots);
        if (g.reach[0] <= direct_sum_reach) {
            shape_start.resize(slots);
            std::size_t total = 0;
            for (std::size_t slot = 0; slot < slots; ++slot) {
                shape_start[slot] = total;
                total += row_range(g, std::int64_t(slot) - g.max_row_offset()).second;
            }
            shapes.resize(total);
        }
    }

    /// dy² of row row + j for a point at y: double(row) + j is exact, so the centre is that of
    /// Grid::centre_y bit for bit (and the test d² < R² agrees with kernel_value's).
    STREETSAFE_INLINE static double dy2_of(const Geometry& g, double y, std::int64_t row, std::int64_t j) {
        const double dy = g.oy - ((double(row) + double(j)) + 0.5) * g.cell - y;
        return dy * dy;
    }

    /// The window of a point at x in lattice column `col`; with `closed`, what the closed forms need.
    STREETSAFE_INLINE void columns(const Geometry& g, double x, std::int64_t col, bool closed) {
        c0 = col - std::int64_t(centre);
        // double(c0) + k is exact, so these centres equal Grid::centre_x bit for bit.
        const double first = double(c0);
        double* __restrict d = dx2.data();
        double* __restrict e = aux.data();
        const double* __restrict ks = iota.data();
        for (std::size_t k = 0; k < width; ++k) {
            const double dx = g.ox + ((first + ks[k]) + 0.5) * g.cell - x;
            d[k] = dx * dx;
        }
        if constexpr (K == Kernel::gaussian) {
            for (std::size_t k = 0; k < width; ++k) e[k] = std::exp(-d[k] * g.inv_2s2);
        } else {
            for (std::size_t k = 0; k < width; ++k) e[k] = d[k] * g.inv_h2;
        }
        if (!closed) return;
        position = (x - g.ox) * g.inv_cell - 0.5 - first;
        // The column nearest the point, where dx² is smallest: dx² grows monotonically away from it
        // on both sides, so each row's columns inside the support are one interval around it.
        std::size_t best = centre;
        if (d[best - 1] < d[best]) --best;
        if (d[best + 1] < d[best]) ++best;
        anchor = best;
        double a1 = 0, a2 = 0;
        for (std::size_t k = anchor + 1; k-- > 0;) {
            a1 += e[k];
            a2 += e[k] * e[k];
            s1[k] = a1;
            s2[k] = a2;
        }
        a1 = a2 = 0;
        for (std::size_t k = anchor + 1; k < width; ++k) {
            a1 += e[k];
            a2 += e[k] * e[k];
            s1[k] = a1;
            s2[k] = a2;
        }
    }

    /// The window indices [lo, lo + n) walked in the row at offset j: centre ± reach[|j|], padded
    /// to a multiple of `lanes` on the right (the pad leaves room).
    STREETSAFE_INLINE std::pair<std::size_t, std::size_t> row_range(const Geometry& g, std::int64_t j) const {
        const std::int64_t reach = g.reach[std::size_t(j < 0 ? -j : j)];
        const auto n = std::size_t(2 * reach + 1 + lanes - 1) / std::size_t(lanes) * std::size_t(lanes);
        return {centre - std::size_t(reach), n};
    }

    /// The shape (the kernel without its constant) over window columns [k, k + lanes) of the row
    /// at squared distance dy2, zero where d² >= R².
    struct Row {
        double dy2;
        double a; ///< 1 − dy²/h²
        double e; ///< exp(−dy²/2σ²), Gaussian
        Row(const Geometry& g, double d2y)
            : dy2(d2y), a(1.0 - d2y * g.inv_h2), e(K == Kernel::gaussian ? std::exp(-d2y * g.inv_2s2) : 1.0) {}
    };
#if defined(__GNUC__)
    using Lanes4 = Chunk<W>;
    /// Everything the shape needs, broadcast to the four lanes once per row (and copied out of
    /// `Geometry`, which the stores to the grid could otherwise alias).
    struct Lanes {
        Lanes4 dy2, a, e, radius2, inv_h;
        Lanes(const Geometry& g, const Row& r)
            : dy2(Lanes4::all(r.dy2)), a(Lanes4::all(r.a)), e(Lanes4::all(r.e)), radius2(Lanes4::all(g.radius2)),
              inv_h(Lanes4::all(g.inv_h)) {}
    };
    STREETSAFE_INLINE void shape(const Lanes& l, std::size_t k, Lanes4& v) const {
        const Lanes4 d2 = Lanes4::load(dx2.data() + k) + l.dy2;
        const Lanes4 u = Lanes4::load(aux.data() + k);
        if constexpr (K == Kernel::quartic) {
            const Lanes4 t = l.a - u;
            v = t * t;
        } else if constexpr (K == Kernel::epanechnikov) {
            v = l.a - u;
        } else if constexpr (K == Kernel::triangular) {
            double roots[lanes];
            for (int i = 0; i < lanes; ++i) roots[i] = std::sqrt(d2[i]);
            v = Lanes4::all(1.0) - Lanes4::load(roots) * l.inv_h;
        } else if constexpr (K == Kernel::uniform) {
            v = Lanes4::all(1.0);
        } else {
            v = l.e * u;
        }
        v = v.where_less(d2, l.radius2);
    }
#endif
    /// One column of the shape, as each lane of the vector version computes it.
    STREETSAFE_INLINE double shape1(const Geometry& g, const Row& r, std::size_t k) const {
        const double d2 = dx2[k] + r.dy2;
        double v;
        if constexpr (K == Kernel::quartic) {
            const double t = r.a - aux[k];
            v = t * t;
        } else if constexpr (K == Kernel::epanechnikov) {
            v = r.a - aux[k];
        } else if constexpr (K == Kernel::triangular) {
            v = 1.0 - std::sqrt(d2) * g.inv_h;
        } else if constexpr (K == Kernel::uniform) {
            v = 1.0;
        } else {
            v = r.e * aux[k];
        }
        return d2 < g.radius2 ? v : 0.0;
    }

    /// Σ of the shape over the cells the kernel is added to, which hold every lattice centre inside
    /// the support: the lattice sum, term by term. Eight running sums (two vectors of four lanes,
    /// so that the additions pipeline), added together at the end in the same order in every build.
    /// The shapes are kept in `shapes` (row offset j's at shape_start[j + max_row_offset]) for
    /// add() to scale.
    STREETSAFE_INLINE double lattice_sum_direct(const Geometry& g, double y, std::int64_t row) {
        const std::int64_t jmax = g.max_row_offset();
        double* kept = shapes.data();
#if defined(__GNUC__)
        Lanes4 even = Lanes4::all(0.0), odd = Lanes4::all(0.0);
        for (std::int64_t j = -jmax; j <= jmax; ++j) {
            const Lanes l(g, Row(g, dy2_of(g, y, row, j)));
            const auto [lo, n] = row_range(g, j);
            std::size_t k = lo;
            for (; k + 2 * lanes <= lo + n; k += 2 * lanes) {
                Lanes4 v, w;
                shape(l, k, v);
                shape(l, k + lanes, w);
                even += v;
                odd += w;
                v.store(kept);
                w.store(kept + lanes);
                kept += 2 * lanes;
            }
            if (k < lo + n) {
                Lanes4 v;
                shape(l, k, v);
                even += v;
                v.store(kept);
                kept += lanes;
            }
        }
        const Lanes4 both = even + odd;
        return (both[0] + both[1]) + (both[2] + both[3]);
#else
        double even[lanes] = {}, odd[lanes] = {};
        for (std::int64_t j = -jmax; j <= jmax; ++j) {
            const Row r(g, dy2_of(g, y, row, j));
            const auto [lo, n] = row_range(g, j);
            for (std::size_t k = lo; k < lo + n; ++k) {
                const double v = shape1(g, r, k);
                ((k - lo) / lanes % 2 == 0 ? even : odd)[(k - lo) % lanes] += v;
                *kept++ = v;
            }
        }
        return ((even[0] + odd[0]) + (even[1] + odd[1])) + ((even[2] + odd[2]) + (even[3] + odd[3]));
#endif
    }

    /// For the closed forms: dy² and the interval of columns inside the support (d² < R²) of
    /// every row of a point at y in lattice row `row`.
    STREETSAFE_INLINE void intervals(const Geometry& g, double y, std::int64_t row) {
        const std::int64_t jmax = g.max_row_offset();
        const auto slots = std::size_t(2 * jmax + 1);
        // First every row's dy² and estimated ends from the circle's half-width, with no branch on
        // them, so that the square roots pipeline (position ± half >= 0 thanks to the pad, so
        // truncation is floor).
        for (std::size_t slot = 0; slot < slots; ++slot) {
            const double dy2 = dy2_of(g, y, row, std::int64_t(slot) - jmax);
            row_dy2[slot] = dy2;
            const double half = std::sqrt(std::max(g.radius2 - dy2, 0.0)) * g.inv_cell;
            row_lo[slot] = std::int32_t(position - half) + 1;
            row_hi[slot] = std::int32_t(position + half);
        }
        // Then settle each end with the exact test on the neighbouring columns. In the usual case
        // the estimate is right, and one well-predicted branch confirms it.
        const double* d = dx2.data();
        const auto a = std::int32_t(anchor);
        const auto last = std::int32_t(width - 1);
        for (std::size_t slot = 0; slot < slots; ++slot) {
            const double dy2 = row_dy2[slot];
            auto inside = [&](std::int32_t k) { return d[k] + dy2 < g.radius2; };
            if (!inside(a)) {
                row_lo[slot] = 1;
                row_hi[slot] = 0;
                continue;
            }
            std::int32_t lo = std::min(row_lo[slot], a);
            std::int32_t hi = std::min(std::max(row_hi[slot], a), last);
            if (!(inside(lo) & !inside(lo - 1) & inside(hi) & !inside(hi + 1))) {
                while (!inside(lo)) ++lo;
                while (lo > 0 && inside(lo - 1)) --lo;
                while (!inside(hi)) --hi;
                while (hi < last && inside(hi + 1)) ++hi;
            }
            row_lo[slot] = lo;
            row_hi[slot] = hi;
        }
    }

    /// The lattice sum from closed forms over each row's interval (Σ (a − u)² = n a² − 2a Σu + Σu²
    /// for the quartic; Σ_row e_row Σ e_col for the Gaussian): O(rows + columns). Needs columns()
    /// with `closed` and intervals(). Short intervals, where the closed form would cancel (every u
    /// close to a), are summed term by term, as is the triangular kernel.
    STREETSAFE_INLINE double lattice_sum_closed(const Geometry& g) const {
        double sum = 0;
        const auto slots = std::size_t(2 * g.max_row_offset() + 1);
        for (std::size_t slot = 0; slot < slots; ++slot) {
            if (row_lo[slot] > row_hi[slot]) continue;
            const auto lo = std::size_t(row_lo[slot]), hi = std::size_t(row_hi[slot]);
            const double dy2 = row_dy2[slot];
            const double a = 1.0 - dy2 * g.inv_h2;
            auto outward = [&](const std::vector<double>& t) { return t[lo] + (hi > anchor ? t[hi] : 0.0); };
            if constexpr (K == Kernel::uniform) {
                sum += double(hi - lo + 1);
            } else if constexpr (K == Kernel::gaussian) {
                sum += std::exp(-dy2 * g.inv_2s2) * outward(s1);
            } else if constexpr (K == Kernel::triangular) {
                for (std::size_t k = lo; k <= hi; ++k) sum += 1.0 - std::sqrt(dx2[k] + dy2) * g.inv_h;
            } else if (hi - lo < 8) {
                for (std::size_t k = lo; k <= hi; ++k) {
                    const double t = a - aux[k];
                    sum += K == Kernel::quartic ? t * t : t;
                }
            } else if constexpr (K == Kernel::quartic) {
                sum += double(hi - lo + 1) * a * a - 2.0 * a * outward(s1) + outward(s2);
            } else {
                sum += double(hi - lo + 1) * a - outward(s1);
            }
        }
        return sum;
    }
};

/// What every band needs to add kernels to the grid.
struct Scatter {
    const Geometry& g;
    bool discrete;
    bool closed;             ///< lattice sums from the closed forms (wide supports)
    double factor;           ///< density per m² → output
    double area;             ///< cell area, m²
    double continuous_scale; ///< kernel constant / h² × factor
    const std::vector<Point>& sorted;
    const std::vector<std::size_t>& offsets; ///< sorted[offsets[i] ...] are in row row_min + i
    std::int64_t row_min;
    std::size_t band_rows;
    double* values;

    /// Adds point p's kernel to grid rows [b0, b1). Its normalisation is computed by every band it
    /// touches: the same arithmetic, so the same value, whichever band and task.
    template <Kernel K, int W>
    STREETSAFE_INLINE void add(Footprint<K, W>& f, const Point& p, std::int64_t b0, std::int64_t b1) const {
        using F = Footprint<K, W>;
        const std::int64_t jmax = g.max_row_offset();
        const std::int64_t s0 = std::max<std::int64_t>(p.row - jmax, b0);
        const std::int64_t s1 = std::min<std::int64_t>(p.row + jmax, b1 - 1);
        if (s0 > s1) return;
        f.columns(g, p.x, p.col, discrete && closed);
        double scale = p.weight * continuous_scale;
        const bool kept = discrete && !closed; // lattice_sum_direct() kept the shapes
        if (discrete) {
            double sum;
            if (closed) {
                f.intervals(g, p.y, p.row);
                sum = f.lattice_sum_closed(g);
            } else {
                sum = f.lattice_sum_direct(g, p.y, p.row);
            }
            if (!(sum > 0)) { // no cell centre inside the support: the cell containing the point
                if (p.row >= b0 && p.row < b1 && p.col >= 0 && p.col < g.cols)
                    values[std::size_t(p.row) * std::size_t(g.cols) + std::size_t(p.col)] += p.weight * factor / area;
                return;
            }
            scale = p.weight * factor / (sum * area);
        }
        for (std::int64_t r = s0; r <= s1; ++r) {
            const std::int64_t j = r - p.row;
            const auto [first, n] = f.row_range(g, j);
            // The row's window columns within the grid; a row cut by the grid's edge is padded
            // inside the grid where it can be, else finished one column at a time.
            std::int64_t lo = std::max<std::int64_t>(f.c0 + std::int64_t(first), 0);
            std::int64_t hi = std::min<std::int64_t>(f.c0 + std::int64_t(first + n) - 1, g.cols - 1);
            if (lo > hi) continue;
            std::int64_t extra = (lanes - (hi - lo + 1) % lanes) % lanes;
            const std::int64_t right = std::min({extra, g.cols - 1 - hi, f.c0 + std::int64_t(f.width) - 1 - hi});
            hi += right;
            extra -= right;
            lo -= std::min({extra, lo, lo - f.c0});
            const typename F::Row row(g, F::dy2_of(g, p.y, p.row, j));
            double* out = values + std::size_t(r * g.cols + lo);
            const auto k0 = std::size_t(lo - f.c0);
            const auto count = std::size_t(hi - lo + 1);
            std::size_t k = 0;
            if (kept && std::size_t(lo - f.c0) >= first && std::size_t(hi - f.c0) < first + n) {
                // The shapes the lattice sum computed (whenever the row was not padded outside
                // its range at the grid's edge).
                const double* v = f.shapes.data() + f.shape_start[std::size_t(j + jmax)] + (k0 - first);
#if defined(__GNUC__)
                const Chunk<W> scale_v = Chunk<W>::all(scale);
                for (; k + lanes <= count; k += lanes)
                    (Chunk<W>::load(out + k) + scale_v * Chunk<W>::load(v + k)).store(out + k);
#endif
                for (; k < count; ++k) out[k] += scale * v[k];
                continue;
            }
#if defined(__GNUC__)
            const typename F::Lanes l(g, row);
            const Chunk<W> scale_v = Chunk<W>::all(scale);
            for (; k + lanes <= count; k += lanes) {
                Chunk<W> v;
                f.shape(l, k0 + k, v);
                (Chunk<W>::load(out + k) + scale_v * v).store(out + k);
            }
#endif
            for (; k < count; ++k) out[k] += scale * f.shape1(g, row, k0 + k); // a row cut by the grid
        }
    }

    /// Adds every kernel to bands [b, e).
    template <Kernel K, int W>
    STREETSAFE_INLINE void bands(std::size_t b, std::size_t e) const {
        Footprint<K, W> f(g);
        const auto buckets = std::int64_t(offsets.size() - 1);
        auto first_of_row = [&](std::int64_t row) { // index of the first sorted point in `row` or later
            return offsets[std::size_t(std::clamp<std::int64_t>(row - row_min, 0, buckets))];
        };
        for (std::size_t band = b; band < e; ++band) {
            const auto b0 = std::int64_t(band * band_rows);
            const auto b1 = std::min(g.rows, std::int64_t((band + 1) * band_rows));
            const std::size_t last = first_of_row(b1 + g.max_row_offset());
            for (std::size_t i = first_of_row(b0 - g.max_row_offset()); i < last; ++i) add<K, W>(f, sorted[i], b0, b1);
        }
    }
};

template <Kernel K>
void bands_portable(const Scatter& s, std::size_t b, std::size_t e) {
    s.bands<K, 2>(b, e);
}

#if defined(STREETSAFE_KDE_AVX2)
template <Kernel K>
__attribute__((target("avx2"))) void bands_avx2(const Scatter& s, std::size_t b, std::size_t e) {
    s.bands<K, 4>(b, e);
}

bool use_avx2() {
    static const bool supported = __builtin_cpu_supports("avx2") != 0;
    const char* off = std::getenv("STREETSAFE_KDE_NO_AVX2");
    return supported && (off == nullptr || std::string_view(off) != "1");
}
#endif

using BandsFunction = void (*)(const Scatter&, std::size_t, std::size_t);

template <Kernel K>
BandsFunction bands_function() {
#if defined(STREETSAFE_KDE_AVX2)
    if (use_avx2()) return &bands_avx2<K>;
#endif
    return &bands_portable<K>;
}

BandsFunction bands_function(Kernel k) {
    switch (k) {
    case Kernel::quartic: return bands_function<Kernel::quartic>();
    case Kernel::epanechnikov: return bands_function<Kernel::epanechnikov>();
    case Kernel::triangular: return bands_function<Kernel::triangular>();
    case Kernel::uniform: return bands_function<Kernel::uniform>();
    case Kernel::gaussian: return bands_function<Kernel::gaussian>();
    }
    return nullptr;
}

/// Runs body(i) for i in [0, n) in parallel. Progress is reported by the calling thread (which
/// works on items too) as items complete; workers skip their items once cancellation is requested,
/// and the calling thread then throws Cancelled.
template <class Body>
void run_parallel(tbb::task_arena& arena, const Context& context, std::size_t n, std::string_view stage,
                  const Body& body) {
    std::atomic<std::size_t> done{0};
    const std::thread::id caller = std::this_thread::get_id();
    arena.execute([&] {
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 1), [&](const tbb::blocked_range<std::size_t>& range) {
            for (std::size_t i = range.begin(); i < range.end(); ++i) {
                if (context.cancelled()) return;
                body(i);
                const std::size_t finished = done.fetch_add(1) + 1;
                if (std::this_thread::get_id() == caller) context.report(double(finished) / double(n), stage);
            }
        });
    });
    context.check(stage);
}

void kde_exact(const Incidents& incidents, const KdeOptions& options, const Context& context, Grid& grid,
               double max_abs_coordinate) {
    const Geometry g = make_geometry(grid, options, max_abs_coordinate);
    constexpr std::string_view stage = "kernel density";

    // More threads than the hardware has would only make TBB warn; the requested count still
    // shapes the bands (which never changes the values).
    const int hardware = std::max(1, tbb::info::default_concurrency());
    const auto threads = std::size_t(context.threads > 0 ? context.threads : hardware);
    tbb::task_arena arena(std::min(int(threads), hardware));
    context.report(0.0, stage);

    // The incidents that can reach the grid, counting-sorted by row straight from the input (two
    // passes, no intermediate copy), then sorted by x, y and weight within each row, and those at
    // the same place merged: the order of each cell's terms depends on the incidents' values only.
    // Cells fit int32: kde() checks the grid's sides, and points are at most `reach` outside it.
    const Bounds gb = grid.bounds();
    const double reach = g.radius + 2.0 * g.cell;
    auto reaches = [&](std::size_t i) {
        const double w = incidents.weight.empty() ? 1.0 : incidents.weight[i];
        const double x = incidents.x[i], y = incidents.y[i];
        return w != 0.0 && x + reach >= gb.min_x && x - reach <= gb.max_x && y + reach >= gb.min_y &&
               y - reach <= gb.max_y;
    };
    const std::int64_t row_min = g.row_of(gb.max_y + reach) - 1, row_max = g.row_of(gb.min_y - reach) + 1;
    const auto buckets = std::size_t(row_max - row_min + 1);
    std::vector<std::size_t> offsets(buckets + 1, 0);
    for (std::size_t i = 0; i < incidents.size(); ++i)
        if (reaches(i)) ++offsets[std::size_t(g.row_of(incidents.y[i]) - row_min) + 1];
    for (std::size_t k = 0; k < buckets; ++k) offsets[k + 1] += offsets[k];
    std::vector<Point> sorted(offsets[buckets]);
    {
        std::vector<std::size_t> next(offsets.begin(), offsets.end() - 1);
        for (std::size_t i = 0; i < incidents.size(); ++i) {
            if (!reaches(i)) continue;
            const double x = incidents.x[i], y = incidents.y[i];
            const std::int64_t row = g.row_of(y);
            sorted[next[std::size_t(row - row_min)]++] = {x, y, incidents.weight.empty() ? 1.0 : incidents.weight[i],
                                                          std::int32_t(row), std::int32_t(g.col_of(x))};
        }
    }
    std::vector<std::size_t> kept(buckets, 0);
    arena.execute([&] {
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, buckets, 16), [&](const tbb::blocked_range<std::size_t>& r) {
            for (std::size_t k = r.begin(); k < r.end(); ++k) {
                const auto first = sorted.begin() + std::ptrdiff_t(offsets[k]);
                const auto last = sorted.begin() + std::ptrdiff_t(offsets[k + 1]);
                std::sort(first, last, [](const Point& a, const Point& b) {
                    return std::tie(a.x, a.y, a.weight) < std::tie(b.x, b.y, b.weight);
                });
                auto out = first;
                for (auto it = first; it != last;) {
                    Point merged = *it;
                    for (++it; it != last && it->x == merged.x && it->y == merged.y; ++it) merged.weight += it->weight;
                    if (merged.weight != 0.0) *out++ = merged;
                }
                kept[k] = std::size_t(out - first);
            }
        });
    });
    {
        std::size_t n = 0;
        for (std::size_t k = 0; k < buckets; ++k) {
            std::move(sorted.begin() + std::ptrdiff_t(offsets[k]),
                      sorted.begin() + std::ptrdiff_t(offsets[k] + kept[k]), sorted.begin() + std::ptrdiff_t(n));
            offsets[k] = n;
            n += kept[k];
        }
        offsets[buckets] = n;
        sorted.resize(n);
    }
    context.check(stage);

    // Bands of rows, each written by one task. Taller bands mean fewer points straddling two bands
    // (whose normalisation both compute); the height affects speed only, never values.
    // One thread: bands of up to 256 rows (1.3 MB of an 800-column grid, within L2). More: about
    // eight bands per thread, for the load balance of clustered incidents.
    const std::size_t band_rows = threads == 1 ? std::clamp<std::size_t>(std::size_t(g.rows), 16, 256)
                                               : std::clamp<std::size_t>(std::size_t(g.rows) / (8 * threads), 16, 128);
    const std::size_t bands = (std::size_t(g.rows) + band_rows - 1) / band_rows;
    const Scatter scatter{g,
                          options.normalisation == KdeNormalisation::discrete,
                          g.reach[0] > direct_sum_reach,
                          output_factor(options.output, grid.cell_area_m2()),
                          grid.cell_area_m2(),
                          shape_constant(options.kernel) * g.inv_h2 * output_factor(options.output, grid.cell_area_m2()),
                          sorted,
                          offsets,
                          row_min,
                          band_rows,
                          grid.values.data()};
    const BandsFunction run = bands_function(options.kernel);
    run_parallel(arena, context, bands, stage, [&](std::size_t band) { run(scatter, band, band + 1); });
}

void kde_brute_force(const Incidents& incidents, const KdeOptions& options, const Context& context, Grid& grid) {
    const double h = options.bandwidth_m;
    const double area = grid.cell_area_m2();
    const double factor = output_factor(options.output, area);
    const double radius = support_radius(options.kernel, h);
    const auto reach = std::int64_t(std::ceil(radius / grid.cell_m)) + 2;
    const std::size_t n = incidents.size();

    // Scale per incident, the lattice sum taken naively over a square of lattice cells.
    std::vector<double> scale(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        const double w = incidents.weight.empty() ? 1.0 : incidents.weight[i];
        const double x = incidents.x[i], y = incidents.y[i];
        if (options.normalisation == KdeNormalisation::continuous) {
            scale[i] = w * factor;
            continue;
        }
        const std::int64_t col = floor_index((x - grid.origin_x) / grid.cell_m);
        const std::int64_t row = floor_index((grid.origin_y - y) / grid.cell_m);
        double sum = 0;
        for (std::int64_t r = row - reach; r <= row + reach; ++r) {
            for (std::int64_t c = col - reach; c <= col + reach; ++c) {
                const double dx = grid.origin_x + (double(c) + 0.5) * grid.cell_m - x;
                const double dy = grid.origin_y - (double(r) + 0.5) * grid.cell_m - y;
                sum += kernel_value(options.kernel, dx * dx + dy * dy, h);
            }
        }
        if (sum > 0) {
            scale[i] = w * factor / (sum * area);
        } else if (row >= 0 && std::size_t(row) < grid.rows && col >= 0 && std::size_t(col) < grid.cols) {
            grid.at(std::size_t(row), std::size_t(col)) += w * factor / area; // the point-mass rule
        }
    }
    for (std::size_t r = 0; r < grid.rows; ++r) {
        if (r % 16 == 0) {
            context.check("kernel density (brute force)");
            context.report(double(r) / double(grid.rows), "kernel density (brute force)");
        }
        for (std::size_t c = 0; c < grid.cols; ++c) {
            double v = 0;
            for (std::size_t i = 0; i < n; ++i) {
                const double dx = grid.centre_x(c) - incidents.x[i];
                const double dy = grid.centre_y(r) - incidents.y[i];
                v += scale[i] * kernel_value(options.kernel, dx * dx + dy * dy, h);
            }
            grid.at(r, c) += v;
        }
    }
}

} // namespace

std::string_view to_string(Kernel k) {
    switch (k) {
    case Kernel::quartic: return "quartic";
    case Kernel::epanechnikov: return "epanechnikov";
    case Kernel::triangular: return "triangular";
    case Kernel::uniform: return "uniform";
    case Kernel::gaussian: return "gaussian";
    }
    return "unknown";
}

Kernel parse_kernel(std::string_view name) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return char(std::tolower(ch)); });
    if (lower == "quartic" || lower == "biweight") return Kernel::quartic;
    if (lower == "epanechnikov") return Kernel::epanechnikov;
    if (lower == "triangular") return Kernel::triangular;
    if (lower == "uniform") return Kernel::uniform;
    if (lower == "gaussian") return Kernel::gaussian;
    throw InvalidInput("unknown kernel '" + std::string(name) +
                       "'; expected quartic (or biweight), epanechnikov, triangular, uniform or gaussian");
}

double support_radius(Kernel kernel, double bandwidth_m) {
    return kernel == Kernel::gaussian ? gaussian_support_sigmas * bandwidth_m : bandwidth_m;
}

double kernel_value(Kernel kernel, double d2_m2, double bandwidth_m) {
    const double radius = support_radius(kernel, bandwidth_m);
    if (!(d2_m2 < radius * radius)) return 0.0;
    const double d2 = std::max(d2_m2, 0.0);
    const double h2 = bandwidth_m * bandwidth_m;
    const double constant = shape_constant(kernel) / h2;
    switch (kernel) {
    case Kernel::quartic: {
        const double t = 1.0 - d2 / h2;
        return constant * t * t;
    }
    case Kernel::epanechnikov: return constant * (1.0 - d2 / h2);
    case Kernel::triangular: return constant * (1.0 - std::sqrt(d2) / bandwidth_m);
    case Kernel::uniform: return constant;
    case Kernel::gaussian: return constant * std::exp(-d2 / (2.0 * h2));
    }
    return 0.0;
}

void KdeOptions::validate() const {
    if (!(bandwidth_m > 0) || !std::isfinite(bandwidth_m))
        throw InvalidInput("KdeOptions::bandwidth_m must be a positive, finite number of metres; got " +
                           format_number(bandwidth_m));
    if (!(cell_m > 0) || !std::isfinite(cell_m))
        throw InvalidInput("KdeOptions::cell_m must be a positive, finite number of metres; got " +
                           format_number(cell_m));
    if (bounds) {
        const Bounds& b = *bounds;
        if (!std::isfinite(b.min_x) || !std::isfinite(b.min_y) || !std::isfinite(b.max_x) ||
            !std::isfinite(b.max_y) || !b.valid())
            throw InvalidInput("KdeOptions::bounds must be finite with max_x > min_x and max_y > min_y; got (" +
                               format_number(b.min_x) + ", " + format_number(b.min_y) + ", " +
                               format_number(b.max_x) + ", " + format_number(b.max_y) + ")");
    }
    if (max_cells == 0) throw InvalidInput("KdeOptions::max_cells must be positive");
    // Each band holds an incident's row of columns in memory (a few arrays of doubles) and walks
    // its rows: a support of more than 100,000 cells in radius is certainly a mistake of units.
    if (support_radius(kernel, bandwidth_m) / cell_m > 1e5)
        throw InvalidInput("KdeOptions::bandwidth_m (" + format_number(bandwidth_m) +
                           " m) gives a support of more than 100000 cells of KdeOptions::cell_m (" +
                           format_number(cell_m) + " m) in radius");
}

Grid kde(const Incidents& incidents, const KdeOptions& options, const Context& context) {
    options.validate();
    if (incidents.empty()) throw InvalidInput("no incidents to estimate a density from: the selection is empty");
    const std::size_t n = incidents.size();
    if (incidents.y.size() != n || (!incidents.weight.empty() && incidents.weight.size() != n))
        throw InvalidInput("incidents have " + std::to_string(n) + " x but " + std::to_string(incidents.y.size()) +
                           " y and " + std::to_string(incidents.weight.size()) + " weights");
    double total_weight = 0, max_abs_coordinate = 0;
    Bounds extent{std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
                  -std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
    for (std::size_t i = 0; i < n; ++i) {
        const double x = incidents.x[i], y = incidents.y[i];
        if (!std::isfinite(x) || !std::isfinite(y))
            throw InvalidInput("incident " + std::to_string(i) + " has a non-finite coordinate (x " +
                               format_number(x) + ", y " + format_number(y) + ")");
        const double w = incidents.weight.empty() ? 1.0 : incidents.weight[i];
        if (!std::isfinite(w))
            throw InvalidInput("incident " + std::to_string(i) + " has a non-finite weight (" + format_number(w) + ")");
        total_weight += w;
        max_abs_coordinate = std::max({max_abs_coordinate, std::abs(x), std::abs(y)});
        extent.min_x = std::min(extent.min_x, x);
        extent.min_y = std::min(extent.min_y, y);
        extent.max_x = std::max(extent.max_x, x);
        extent.max_y = std::max(extent.max_y, y);
    }

    const double radius = support_radius(options.kernel, options.bandwidth_m);
    const Bounds bounds = options.bounds ? *options.bounds
                                         : Bounds{extent.min_x - radius, extent.min_y - radius,
                                                  extent.max_x + radius, extent.max_y + radius};
    Grid grid = Grid::covering(bounds, options.cell_m, incidents.crs.wkt, options.max_cells);
    // Lattice indices are held as int32 (grid side plus the support's margin).
    const double margin_cells = std::ceil(radius / options.cell_m) + 8;
    if (double(std::max(grid.rows, grid.cols)) + 2 * margin_cells > double(std::numeric_limits<std::int32_t>::max()))
        throw InvalidInput("a grid of " + std::to_string(grid.rows) + " rows × " + std::to_string(grid.cols) +
                           " columns is too long a side for kernel density; use larger cells");

    grid.units = options.output == KdeOutput::density_per_km2 ? "incidents per km2" : "incidents per cell";
    grid.metadata = {
        {"kernel", std::string(to_string(options.kernel))},
        {"bandwidth_m", format_number(options.bandwidth_m)},
        {"cell_m", format_number(options.cell_m)},
        {"output", std::string(to_string(options.output))},
        {"normalisation", std::string(to_string(options.normalisation))},
        {"incidents", std::to_string(n)},
        {"total_weight", format_number(total_weight)},
    };
    if (options.method == KdeMethod::brute_force) {
        grid.metadata.emplace_back("method", "brute_force");
        kde_brute_force(incidents, options, context, grid);
    } else {
        kde_exact(incidents, options, context, grid, max_abs_coordinate);
    }
    context.report(1.0, "kernel density");
    return grid;
}

} // namespace streetsafe
