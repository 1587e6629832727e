// Bandwidth selection. See bandwidth.hpp for the definitions and references.
//
// Likelihood cross-validation sums Gaussian kernels over every pair of incidents closer than 8σ.
// The incidents are sorted into horizontal strips of height 2σ (a quarter of the cut-off radius)
// and by x within each strip, so that the later neighbours of a point (in that order) form one
// contiguous run per strip, found by binary search. Each pair's kernel is computed once and added to
// both points' sums, over the runs' contiguous arrays, several lanes at a time, with an exponential
// written for GCC's vector extensions (the auto-vectoriser does not vectorise calls to exp) and an
// AVX2 version chosen at run time. A k-d tree or an R-tree answers the same query with a list of
// hits to gather first; the runs need no gathering. (Boost.Geometry's R-tree finds the nearest
// neighbours that set the lower end of the search.) The cost is proportional to the pairs within
// 8σ: on a single dense cluster, where every pair is, it approaches n² per candidate.
//
// Diggle's criterion needs the distribution of pair distances up to r_max only, accumulated once
// in fine bins with their first two moments, from which M(σ) at every σ of the grid follows.
//
// Everything parallel runs over fixed chunks of the sorted incidents and combines the chunks'
// partial results in chunk order: the results are the same bytes for any number of threads and
// any order of the input rows (on one processor: the AVX2 version rounds differently from the
// two-lane one).

#include "streetsafe/bandwidth.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numbers>
#include <numeric>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

// Boost 1.74's Boost.Math, included by Boost.Geometry, includes a header of its own that Boost
// deprecated, which prints a #pragma message on every build; nothing to act on here.
#define BOOST_ALLOW_DEPRECATED_HEADERS
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "streetsafe/error.hpp"
#include "streetsafe/evaluate.hpp"

namespace streetsafe {

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();
constexpr double pi = std::numbers::pi;
/// Gaussian kernels are cut at this many standard deviations, as in kde.cpp.
constexpr double gaussian_cutoff = 8.0;

std::string number(double v) {
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
    return std::string(buffer, result.ptr);
}

/// A length for messages: 4 significant digits, e.g. "118.3".
std::string metres(double v) {
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, v, std::chars_format::general, 4);
    return std::string(buffer, result.ptr);
}

/// A coordinate for messages: to a decimetre, e.g. "530012.3".
std::string coordinate(double v) {
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, v, std::chars_format::fixed, 1);
    return std::string(buffer, result.ptr);
}

/// "x 530000.0 to 531000.0, y 180000.0 to 180500.0" (ASCII: it goes into GeoTIFF tags).
std::string describe(const Bounds& b) {
    std::string s = "x ";
    s += coordinate(b.min_x) + " to " + coordinate(b.max_x) + ", y " + coordinate(b.min_y) + " to " +
         coordinate(b.max_y);
    return s;
}

// ---------------------------------------------------------------------------------------------
// Input

/// Coordinates and weights, checked.
struct Points {
    std::vector<double> x, y, w;
    double total_weight = 0;
    [[nodiscard]] std::size_t size() const { return x.size(); }
};

Points points_of(const Incidents& in, const std::string& who, bool weighted) {
    const std::size_t n = in.size();
    if (in.y.size() != n || (!in.weight.empty() && in.weight.size() != n))
        throw InvalidInput(who + ": incidents have " + std::to_string(n) + " x but " +
                           std::to_string(in.y.size()) + " y and " + std::to_string(in.weight.size()) +
                           " weights");
    if (n < 2) throw InvalidInput(who + ": needs at least 2 incidents; got " + std::to_string(n));
    Points p;
    p.x = in.x;
    p.y = in.y;
    p.w.assign(n, 1.0);
    for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(p.x[i]) || !std::isfinite(p.y[i]))
            throw InvalidInput(who + ": incident " + std::to_string(i) + " has a non-finite coordinate (x " +
                               number(p.x[i]) + ", y " + number(p.y[i]) + ")");
        if (weighted && !in.weight.empty()) {
            const double w = in.weight[i];
            if (!(w >= 0) || !std::isfinite(w))
                throw InvalidInput(who + ": incident " + std::to_string(i) + " has weight " + number(w) +
                                   "; weights must be finite and non-negative");
            p.w[i] = w;
        }
    }
    p.total_weight = std::accumulate(p.w.begin(), p.w.end(), 0.0);
    if (!(p.total_weight > 0)) throw InvalidInput(who + ": the incidents' weights sum to zero");
    return p;
}

Bounds extent_of(const Points& p) {
    const auto [xmin, xmax] = std::minmax_element(p.x.begin(), p.x.end());
    const auto [ymin, ymax] = std::minmax_element(p.y.begin(), p.y.end());
    return {*xmin, *ymin, *xmax, *ymax};
}

void check_window(const std::optional<Bounds>& window, const char* field) {
    if (!window) return;
    const Bounds& b = *window;
    if (!std::isfinite(b.min_x) || !std::isfinite(b.min_y) || !std::isfinite(b.max_x) ||
        !std::isfinite(b.max_y) || !b.valid())
        throw InvalidInput(std::string(field) + " must be finite with max_x > min_x and max_y > min_y; got " +
                           describe(b));
}

/// The window: the given one (which must contain every incident) or the incidents' bounding box.
Bounds window_of(const Points& p, const std::optional<Bounds>& window, const std::string& who,
                 const char* field) {
    if (window) {
        std::size_t outside = 0;
        for (std::size_t i = 0; i < p.size(); ++i)
            if (!(p.x[i] >= window->min_x && p.x[i] <= window->max_x && p.y[i] >= window->min_y &&
                  p.y[i] <= window->max_y))
                ++outside;
        if (outside > 0)
            throw InvalidInput(who + ": " + std::to_string(outside) + " of " + std::to_string(p.size()) +
                               " incidents lie outside " + field + " " + describe(*window));
        return *window;
    }
    const Bounds b = extent_of(p);
    if (!b.valid())
        throw InvalidInput(who + ": the incidents' bounding rectangle " + describe(b) +
                           " has zero area (all on one line); give " + field);
    return b;
}

/// Sample standard deviation (denominator n − 1), two-pass.
double sample_sd(const std::vector<double>& v) {
    const double mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
    double ss = 0;
    for (const double a : v)
        ss += (a - mean) * (a - mean);
    return std::sqrt(ss / double(v.size() - 1));
}

/// Quantile by linear interpolation between order statistics (R's type 7).
double quantile7(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    const double h = (double(v.size()) - 1) * q;
    const auto lo = std::size_t(std::floor(h));
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (h - double(lo)) * (v[hi] - v[lo]);
}

std::vector<double> log_spaced(double lo, double hi, int count) {
    std::vector<double> v(static_cast<std::size_t>(count));
    const double ratio = std::log(hi / lo);
    for (int i = 0; i < count; ++i)
        v[std::size_t(i)] = lo * std::exp(ratio * double(i) / double(count - 1));
    v.front() = lo;
    v.back() = hi;
    return v;
}

std::string kernel_note(Kernel kernel) {
    if (kernel == Kernel::gaussian) return "";
    return "; converted to the " + std::string(to_string(kernel)) +
           " kernel by the canonical-bandwidth ratio " +
           metres(canonical_bandwidth(kernel) / canonical_bandwidth(Kernel::gaussian));
}

// ---------------------------------------------------------------------------------------------
// Spatial index: incidents sorted by horizontal strip, then by x

class StripIndex {
  public:
    /// Sorts the points by (strip, x, y, w): a key of values only, so the order (and every sum taken
    /// in it) does not depend on the order of the input rows.
    StripIndex(const Points& p, double strip_height) : m_height(strip_height) {
        const std::size_t n = p.size();
        m_y0 = *std::min_element(p.y.begin(), p.y.end());
        std::vector<std::int64_t> keys(n);
        for (std::size_t i = 0; i < n; ++i)
            keys[i] = key_of(p.y[i]);
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), std::size_t(0));
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return std::tie(keys[a], p.x[a], p.y[a], p.w[a]) < std::tie(keys[b], p.x[b], p.y[b], p.w[b]);
        });
        x.resize(n);
        y.resize(n);
        w.resize(n);
        for (std::size_t k = 0; k < n; ++k) {
            x[k] = p.x[order[k]];
            y[k] = p.y[order[k]];
            w[k] = p.w[order[k]];
            const std::int64_t key = keys[order[k]];
            if (m_keys.empty() || m_keys.back() != key) {
                m_keys.push_back(key);
                m_start.push_back(k);
            }
        }
        m_start.push_back(n);
    }

    /// One past the last sorted point that a pair met by for_later_runs(k, r) with k in [b, e) can
    /// reach: the end of the last strip within r above the chunk's points.
    [[nodiscard]] std::size_t reach_end(std::size_t b, std::size_t e, double r) const {
        double top = -infinity;
        for (std::size_t k = b; k < e; ++k)
            top = std::max(top, y[k]);
        const std::int64_t last = key_of(top + r);
        const auto s = std::size_t(std::upper_bound(m_keys.begin(), m_keys.end(), last) - m_keys.begin());
        return std::max(m_start[s], e);
    }

    /// Calls f(begin, end) for runs holding every point after `k` in sorted order within r of it
    /// (and others): each pair of points within r is met once, from its first point.
    template <class F> void for_later_runs(std::size_t k, double r, F&& f) const {
        const std::int64_t key = key_of(y[k]);
        auto s = std::size_t(std::lower_bound(m_keys.begin(), m_keys.end(), key) - m_keys.begin());
        // The point's own strip: the points after it, up to x + r.
        {
            const auto e = x.begin() + std::ptrdiff_t(m_start[s + 1]);
            const auto hi = std::upper_bound(x.begin() + std::ptrdiff_t(k) + 1, e, x[k] + r);
            if (k + 1 < std::size_t(hi - x.begin())) f(k + 1, std::size_t(hi - x.begin()));
        }
        const std::int64_t last = key_of(y[k] + r);
        for (++s; s < m_keys.size() && m_keys[s] <= last; ++s) {
            const auto b = x.begin() + std::ptrdiff_t(m_start[s]),
                       e = x.begin() + std::ptrdiff_t(m_start[s + 1]);
            const auto lo = std::lower_bound(b, e, x[k] - r), hi = std::upper_bound(lo, e, x[k] + r);
            if (lo != hi) f(std::size_t(lo - x.begin()), std::size_t(hi - x.begin()));
        }
    }

    std::vector<double> x, y, w; ///< sorted

  private:
    [[nodiscard]] std::int64_t key_of(double v) const {
        // Clamped so that absurdly thin strips cannot overflow the key.
        return std::int64_t(std::clamp(std::floor((v - m_y0) / m_height), -4e18, 4e18));
    }

    double m_height, m_y0 = 0;
    std::vector<std::int64_t> m_keys; ///< key of each non-empty strip, ascending
    std::vector<std::size_t> m_start; ///< first sorted point of each strip, then n
};

// ---------------------------------------------------------------------------------------------
// Sums of Gaussian kernels over pairs

template <int L> struct Lanes;
template <> struct Lanes<2> {
    using D = double __attribute__((vector_size(16)));
    using I = long long __attribute__((vector_size(16)));
};
template <> struct Lanes<4> {
    using D = double __attribute__((vector_size(32)));
    using I = long long __attribute__((vector_size(32)));
};

/// For a point (px, py) of weight pw and the run [lo, hi) of the sorted points after it: returns
/// Σ_j w_j e_j and adds pw e_j to acc[j], with e_j = exp(−d_j² / 2σ²) where d_j² < r2 (the cut-off)
/// and 0 beyond; `c` is −1/(2σ²). L lanes at a time, with e^x (x in [−32, 0]) written out for
/// GCC's vector extensions: x = m ln 2 + r with |r| <= ln 2 / 2 (m rounded by adding the 1.5 × 2^52
/// shifter, ln 2 split in two so that m ln 2 is exact), e^r by its Taylor polynomial of degree 12
/// (remainder below 2e-16 of the value), m added to the result's exponent. Everything inline:
/// no function here takes or returns a vector, so the AVX2 instance compiles in its caller.
template <int L>
[[gnu::always_inline]] inline double pair_sums(const double* __restrict xs, const double* __restrict ys,
                                               const double* __restrict ws, double* __restrict acc,
                                               std::size_t lo, std::size_t hi, double px, double py,
                                               double pw, double r2, double c) {
    using D = typename Lanes<L>::D;
    using I = typename Lanes<L>::I;
    constexpr double inv_fact[] = {
        1.0,        1.0,         1.0 / 2,      1.0 / 6,       1.0 / 24,       1.0 / 120,      1.0 / 720,
        1.0 / 5040, 1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600};
    const D zero = {};
    const D vpx = zero + px, vpy = zero + py, vpw = zero + pw, vr2 = zero + r2, vc = zero + c;
    const D vc_log2e = vc * 1.4426950408889634, shifter = zero + 0x1.8p52;
    const D ln2_hi = zero + 6.93147180369123816490e-01, ln2_lo = zero + 1.90821492927058770002e-10;
    D gather = zero;
    std::size_t j = lo;
    for (; j + L <= hi; j += L) {
        D x, y, w, a;
        std::memcpy(&x, xs + j, sizeof x);
        std::memcpy(&y, ys + j, sizeof y);
        std::memcpy(&w, ws + j, sizeof w);
        std::memcpy(&a, acc + j, sizeof a);
        const D dx = x - vpx, dy = y - vpy;
        const D d2 = dx * dx + dy * dy;
        const I inside = d2 < vr2;
        const D dc = inside ? d2 : vr2; // clamped to the cut-off: every lane's exponent is in [−32, 0]
        const D arg = dc * vc;
        const D t = dc * vc_log2e + shifter; // arg / ln 2 rounded to an integer m, in the low bits
        const D m = t - shifter;
        const D r = (arg - m * ln2_hi) - m * ln2_lo;
        // Σ r^k / k!, k = 0..12, by Estrin's scheme: a dependency chain of 4 steps instead of 12.
        const D rr = r * r, r4 = rr * rr, r8 = r4 * r4;
        const D q0 = r + 1.0, q1 = r * inv_fact[3] + inv_fact[2], q2 = r * inv_fact[5] + inv_fact[4];
        const D q3 = r * inv_fact[7] + inv_fact[6], q4 = r * inv_fact[9] + inv_fact[8];
        const D q5 = r * inv_fact[11] + inv_fact[10];
        const D s0 = q1 * rr + q0, s1 = q3 * rr + q2, s2 = q5 * rr + q4;
        const D poly = ((r4 * inv_fact[12] + s2) * r8) + (s1 * r4 + s0);
        // × 2^m: m added to the exponent field (poly is in [0.7, 1.42], m >= −47: no underflow).
        const D e = (D)(((I)poly + ((I)t << 52)) & inside);
        gather += w * e;
        a += vpw * e;
        std::memcpy(acc + j, &a, sizeof a);
    }
    double sum = 0;
    for (int k = 0; k < L; ++k)
        sum += gather[k];
    for (; j < hi; ++j) {
        const double dx = xs[j] - px, dy = ys[j] - py, d2 = dx * dx + dy * dy;
        if (!(d2 < r2)) continue;
        const double e = std::exp(d2 * c);
        sum += ws[j] * e;
        acc[j] += pw * e;
    }
    return sum;
}

using PairSums = double (*)(const double*, const double*, const double*, double*, std::size_t, std::size_t,
                            double, double, double, double, double);

double pair_sums_baseline(const double* xs, const double* ys, const double* ws, double* acc, std::size_t lo,
                          std::size_t hi, double px, double py, double pw, double r2, double c) {
    return pair_sums<2>(xs, ys, ws, acc, lo, hi, px, py, pw, r2, c);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx2,fma"))) double pair_sums_avx2(const double* xs, const double* ys,
                                                          const double* ws, double* acc, std::size_t lo,
                                                          std::size_t hi, double px, double py, double pw,
                                                          double r2, double c) {
    return pair_sums<4>(xs, ys, ws, acc, lo, hi, px, py, pw, r2, c);
}
#endif

/// The widest version the processor runs (AVX2 with FMA where available: four lanes, about twice
/// as fast as the two-lane SSE2 baseline of x86-64).
PairSums pick_pair_sums() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2) return pair_sums_avx2;
#endif
    return pair_sums_baseline;
}

tbb::task_arena make_arena(const Context& context) {
    return tbb::task_arena(context.threads > 0 ? context.threads : tbb::task_arena::automatic);
}

/// Runs body(chunk, begin, end) over fixed chunks of [0, n) in parallel, then checks cancellation.
template <class Body>
void for_chunks(tbb::task_arena& arena, const Context& context, std::size_t n, std::size_t chunk_size,
                const char* stage, Body&& body) {
    const std::size_t chunks = (n + chunk_size - 1) / chunk_size;
    arena.execute([&] {
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, chunks, 1),
                          [&](const tbb::blocked_range<std::size_t>& r) {
                              for (std::size_t c = r.begin(); c != r.end(); ++c) {
                                  if (context.cancelled()) return;
                                  body(c, c * chunk_size, std::min(n, (c + 1) * chunk_size));
                              }
                          });
    });
    context.check(stage);
}

/// LCV(σ) of bandwidth.hpp on the points `p` in window `w`. Each pair within the cut-off is met
/// once, from its first point in sorted order, and its kernel added to both points' sums: the sums
/// of a chunk of first points go to the chunk's own array (covering the points its pairs reach),
/// and the arrays are added up in chunk order.
double lcv(const Points& p, double sigma, const Bounds& w, tbb::task_arena& arena, const Context& context) {
    const double radius = gaussian_cutoff * sigma;
    const StripIndex idx(p, radius / 4);
    const std::size_t n = p.size();
    const double r2 = radius * radius, c = -1.0 / (2 * sigma * sigma);
    const PairSums sums = pick_pair_sums();
    const std::size_t chunk = std::max<std::size_t>(256, (n + 31) / 32);
    const std::size_t chunks = (n + chunk - 1) / chunk;
    std::vector<std::vector<double>> partial(chunks);
    for_chunks(arena, context, n, chunk, "likelihood cross-validation",
               [&](std::size_t ci, std::size_t b, std::size_t e) {
                   std::vector<double>& acc = partial[ci]; // acc[j − b] is point j's entry
                   acc.assign(idx.reach_end(b, e, radius) - b, 0.0);
                   for (std::size_t k = b; k < e; ++k) {
                       const double px = idx.x[k], py = idx.y[k], pw = idx.w[k];
                       double gather = 0;
                       idx.for_later_runs(k, radius, [&](std::size_t lo, std::size_t hi) { // lo > k >= b
                           gather += sums(idx.x.data() + lo, idx.y.data() + lo, idx.w.data() + lo,
                                          acc.data() + (lo - b), 0, hi - lo, px, py, pw, r2, c);
                       });
                       acc[k - b] += gather;
                   }
               });
    std::vector<double> total(n, 0.0);
    for (std::size_t ci = 0; ci < chunks; ++ci) {
        const std::size_t b = ci * chunk;
        for (std::size_t j = 0; j < partial[ci].size(); ++j)
            total[b + j] += partial[ci][j];
    }
    double loglik = 0;
    for (const double s : total) {
        if (!(s > 0)) return -infinity;
        loglik += std::log(s);
    }
    loglik -= double(n) * std::log(2 * pi * sigma * sigma);
    // Mass of each kernel inside the window: a product of erf differences.
    const double scale = 1.0 / (std::numbers::sqrt2 * sigma);
    double mass = 0;
    for (std::size_t k = 0; k < n; ++k) {
        const double mx = std::erf((w.max_x - idx.x[k]) * scale) - std::erf((w.min_x - idx.x[k]) * scale);
        const double my = std::erf((w.max_y - idx.y[k]) * scale) - std::erf((w.min_y - idx.y[k]) * scale);
        mass += idx.w[k] * 0.25 * mx * my;
    }
    return loglik - mass;
}

/// Median over incidents of the distance to the nearest incident at another location, through a
/// Boost.Geometry R-tree of the distinct locations. 0 when all incidents share one location.
double median_nearest_distinct(const Points& p) {
    namespace bg = boost::geometry;
    namespace bgi = boost::geometry::index;
    using Point = bg::model::point<double, 2, bg::cs::cartesian>;
    using Value = std::pair<Point, std::size_t>;

    std::vector<std::pair<double, double>> xy(p.size());
    for (std::size_t i = 0; i < p.size(); ++i)
        xy[i] = {p.x[i], p.y[i]};
    std::sort(xy.begin(), xy.end());
    std::vector<std::pair<double, double>> locations;
    std::vector<std::size_t> multiplicity;
    for (const auto& q : xy) {
        if (locations.empty() || locations.back() != q) {
            locations.push_back(q);
            multiplicity.push_back(0);
        }
        ++multiplicity.back();
    }
    if (locations.size() < 2) return 0;
    std::vector<Value> values;
    values.reserve(locations.size());
    for (std::size_t i = 0; i < locations.size(); ++i)
        values.emplace_back(Point(locations[i].first, locations[i].second), i);
    const bgi::rtree<Value, bgi::rstar<16>> tree(values.begin(), values.end()); // bulk-loaded
    std::vector<double> nearest;
    nearest.reserve(p.size());
    std::vector<Value> hits;
    for (std::size_t i = 0; i < locations.size(); ++i) {
        hits.clear();
        tree.query(bgi::nearest(values[i].first, 2), std::back_inserter(hits));
        double d = infinity;
        for (const Value& h : hits)
            if (h.second != i)
                d = std::min(d, std::hypot(locations[h.second].first - locations[i].first,
                                           locations[h.second].second - locations[i].second));
        nearest.insert(nearest.end(), multiplicity[i], d);
    }
    const auto mid = nearest.begin() + std::ptrdiff_t(nearest.size() / 2);
    std::nth_element(nearest.begin(), mid, nearest.end());
    double median = *mid;
    if (nearest.size() % 2 == 0) median = 0.5 * (median + *std::max_element(nearest.begin(), mid));
    return median;
}

/// Maximises f over log σ in [lo, hi] by golden-section search until the bracket is narrower than
/// 1 %, recording every evaluation.
template <class F>
void golden_section_max(double lo, double hi, F&& f, std::vector<std::pair<double, double>>& evaluated) {
    constexpr double g = 0.6180339887498949;
    double a = std::log(lo), b = std::log(hi);
    double x1 = b - g * (b - a), x2 = a + g * (b - a);
    double f1 = f(std::exp(x1)), f2 = f(std::exp(x2));
    evaluated.emplace_back(std::exp(x1), f1);
    evaluated.emplace_back(std::exp(x2), f2);
    while (b - a > std::log(1.01)) {
        if (f1 >= f2) {
            b = x2;
            x2 = x1;
            f2 = f1;
            x1 = b - g * (b - a);
            f1 = f(std::exp(x1));
            evaluated.emplace_back(std::exp(x1), f1);
        } else {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + g * (b - a);
            f2 = f(std::exp(x2));
            evaluated.emplace_back(std::exp(x2), f2);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Diggle

/// Area of the intersection of two discs of radius h with centres t apart, and its first two
/// derivatives in t: A' = −√(4h² − t²), A'' = t / √(4h² − t²); for 0 <= t < 2h.
struct Lens {
    double a, d1, d2;
};
Lens lens(double t, double h) {
    const double s = std::sqrt(std::max(4 * h * h - t * t, 0.0));
    const double a = 2 * h * h * std::acos(std::min(t / (2 * h), 1.0)) - 0.5 * t * s;
    return {a, -s, s > 0 ? t / s : 0.0};
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Public API

double canonical_bandwidth(Kernel kernel) {
    double r = 0, mu2 = 0; // ∫K² and ∫x₁²K at bandwidth 1
    switch (kernel) {
    case Kernel::gaussian:
        r = 1 / (4 * pi), mu2 = 1;
        break;
    case Kernel::quartic:
        r = 9 / (5 * pi), mu2 = 1.0 / 8;
        break;
    case Kernel::epanechnikov:
        r = 4 / (3 * pi), mu2 = 1.0 / 6;
        break;
    case Kernel::triangular:
        r = 3 / (2 * pi), mu2 = 3.0 / 20;
        break;
    case Kernel::uniform:
        r = 1 / pi, mu2 = 1.0 / 4;
        break;
    default:
        throw InvalidInput("canonical_bandwidth: unknown kernel " + std::to_string(int(kernel)));
    }
    return std::pow(r / (mu2 * mu2), 1.0 / 6);
}

double convert_bandwidth(double bandwidth_m, Kernel from, Kernel to) {
    if (from == to) return bandwidth_m;
    return bandwidth_m * canonical_bandwidth(to) / canonical_bandwidth(from);
}

double BandwidthChoice::for_kernel(Kernel k) const {
    return convert_bandwidth(bandwidth_m, kernel, k);
}

std::vector<std::pair<std::string, std::string>> BandwidthChoice::metadata() const {
    std::vector<std::pair<std::string, std::string>> m = {
        {"bandwidth_method", method},
        {"bandwidth_selected_m", number(bandwidth_m)},
        {"bandwidth_kernel", std::string(to_string(kernel))},
        {"bandwidth_detail", detail},
    };
    auto join = [](const std::vector<double>& v) {
        std::string s;
        for (const double a : v) {
            if (!s.empty()) s += ' ';
            s += number(a);
        }
        return s;
    };
    if (!candidates.empty()) m.emplace_back("bandwidth_candidates_m", join(candidates));
    if (!scores.empty()) m.emplace_back("bandwidth_scores", join(scores));
    return m;
}

BandwidthChoice scott_bandwidth(const Incidents& incidents, Kernel kernel, AxisSpread spread) {
    const Points p = points_of(incidents, "scott_bandwidth", false);
    const double sx = sample_sd(p.x), sy = sample_sd(p.y);
    const double s =
        spread == AxisSpread::quadratic_mean ? std::sqrt((sx * sx + sy * sy) / 2) : std::sqrt(sx * sy);
    if (!(s > 0))
        throw InvalidInput("scott_bandwidth: the incidents have zero spread (sd_x " + number(sx) +
                           " m, sd_y " + number(sy) + " m)");
    const double n = double(p.size());
    const double sigma = s * std::pow(n, -1.0 / 6);
    BandwidthChoice c;
    c.method = "scott";
    c.kernel = kernel;
    c.bandwidth_m = convert_bandwidth(sigma, Kernel::gaussian, kernel);
    c.detail = std::string("Scott's rule: sigma = ") +
               (spread == AxisSpread::quadratic_mean ? "sqrt((sd_x^2 + sd_y^2)/2)" : "sqrt(sd_x sd_y)") +
               " n^(-1/6) = " + metres(sigma) + " m (n = " + std::to_string(p.size()) +
               ", sd_x = " + metres(sx) + " m, sd_y = " + metres(sy) + " m)" + kernel_note(kernel);
    return c;
}

BandwidthChoice silverman_bandwidth(const Incidents& incidents, Kernel kernel) {
    const Points p = points_of(incidents, "silverman_bandwidth", false);
    const double sx = sample_sd(p.x), sy = sample_sd(p.y);
    const double s = std::sqrt((sx * sx + sy * sy) / 2);
    if (!(s > 0))
        throw InvalidInput("silverman_bandwidth: the incidents have zero spread (sd_x " + number(sx) +
                           " m, sd_y " + number(sy) + " m)");
    const double qx = quantile7(p.x, 0.75) - quantile7(p.x, 0.25);
    const double qy = quantile7(p.y, 0.75) - quantile7(p.y, 0.25);
    const double q = std::sqrt((qx * qx + qy * qy) / 2) / 1.34;
    const double spread = q > 0 ? std::min(s, q) : s;
    const double sigma = spread * std::pow(double(p.size()), -1.0 / 6);
    BandwidthChoice c;
    c.method = "silverman";
    c.kernel = kernel;
    c.bandwidth_m = convert_bandwidth(sigma, Kernel::gaussian, kernel);
    c.detail = "Silverman's rule of thumb: sigma = min(s, IQR/1.34) n^(-1/6) = " + metres(sigma) +
               " m (n = " + std::to_string(p.size()) + ", s = " + metres(s) + " m, IQR/1.34 = " + metres(q) +
               " m, quadratic means of the axes)" + kernel_note(kernel);
    return c;
}

BandwidthChoice arcgis_bandwidth(const Incidents& incidents) {
    const Points p = points_of(incidents, "arcgis_bandwidth", true);
    const std::size_t n = p.size();
    const double total = p.total_weight;
    double mx = 0, my = 0;
    for (std::size_t i = 0; i < n; ++i) {
        mx += p.w[i] * p.x[i];
        my += p.w[i] * p.y[i];
    }
    mx /= total;
    my /= total;
    std::vector<std::pair<double, double>> dw(n); // distance to the mean centre, weight
    double ss = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double dx = p.x[i] - mx, dy = p.y[i] - my;
        ss += p.w[i] * (dx * dx + dy * dy);
        dw[i] = {std::hypot(dx, dy), p.w[i]};
    }
    const double sd = std::sqrt(ss / total);
    if (!(sd > 0))
        throw InvalidInput("arcgis_bandwidth: the incidents have zero spread (all at one location)");
    std::sort(dw.begin(), dw.end());
    // Weighted median: the first distance whose cumulative weight passes half the total; the mean of
    // it and the next when the cumulative weight equals half exactly.
    double median = dw.back().first, cumulative = 0;
    for (std::size_t i = 0; i < n; ++i) {
        cumulative += dw[i].second;
        if (cumulative > total / 2) {
            median = dw[i].first;
            break;
        }
        if (cumulative == total / 2) {
            std::size_t j = i + 1;
            while (j < n && dw[j].second == 0)
                ++j;
            median = j < n ? 0.5 * (dw[i].first + dw[j].first) : dw[i].first;
            break;
        }
    }
    const double robust = std::sqrt(1 / std::numbers::ln2) * median;
    const double h = 0.9 * std::min(sd, robust) * std::pow(total, -0.2);
    if (!(h > 0))
        throw InvalidInput(
            "arcgis_bandwidth: the median distance to the mean centre is zero (half the weight lies "
            "at the mean centre), so the rule gives a zero radius");
    BandwidthChoice c;
    c.method = "arcgis";
    c.kernel = Kernel::quartic;
    c.bandwidth_m = h;
    c.detail = "ArcGIS default search radius: 0.9 min(SD, sqrt(1/ln 2) Dm) n^(-0.2) = " + metres(h) +
               " m (SD = " + metres(sd) + " m, Dm = " + metres(median) + " m, n = " + metres(total) +
               (incidents.weight.empty() ? std::string(")") : std::string(", the sum of the weights)"));
    return c;
}

void LikelihoodCvOptions::validate() const {
    if (candidates.empty() && count < 2)
        throw InvalidInput("LikelihoodCvOptions::count must be at least 2; got " + std::to_string(count));
    for (const double c : candidates)
        if (!(c > 0) || !std::isfinite(c))
            throw InvalidInput("LikelihoodCvOptions::candidates must be positive and finite; got " +
                               number(c));
    if (!(min_bandwidth_m >= 0) || !std::isfinite(min_bandwidth_m))
        throw InvalidInput("LikelihoodCvOptions::min_bandwidth_m must be >= 0 (0: automatic); got " +
                           number(min_bandwidth_m));
    if (!(max_bandwidth_m >= 0) || !std::isfinite(max_bandwidth_m))
        throw InvalidInput("LikelihoodCvOptions::max_bandwidth_m must be >= 0 (0: automatic); got " +
                           number(max_bandwidth_m));
    if (min_bandwidth_m > 0 && max_bandwidth_m > 0 && !(min_bandwidth_m < max_bandwidth_m))
        throw InvalidInput("LikelihoodCvOptions::min_bandwidth_m (" + number(min_bandwidth_m) +
                           ") must be below max_bandwidth_m (" + number(max_bandwidth_m) + ")");
    if (patience < 1)
        throw InvalidInput("LikelihoodCvOptions::patience must be at least 1; got " +
                           std::to_string(patience));
    check_window(window, "LikelihoodCvOptions::window");
}

double likelihood_cv_score(const Incidents& incidents, double sigma_m, const std::optional<Bounds>& window,
                           const Context& context) {
    if (!(sigma_m > 0) || !std::isfinite(sigma_m))
        throw InvalidInput("likelihood_cv_score: sigma_m must be positive and finite; got " +
                           number(sigma_m));
    check_window(window, "window");
    const Points p = points_of(incidents, "likelihood_cv_score", true);
    const Bounds w = window_of(p, window, "likelihood_cv_score", "window");
    tbb::task_arena arena = make_arena(context);
    return lcv(p, sigma_m, w, arena, context);
}

BandwidthChoice likelihood_cv_bandwidth(const Incidents& incidents, const LikelihoodCvOptions& options,
                                        const Context& context) {
    options.validate();
    const std::string who = "likelihood_cv_bandwidth";
    const Points p = points_of(incidents, who, true);
    const Bounds w = window_of(p, options.window, who, "LikelihoodCvOptions::window");
    tbb::task_arena arena = make_arena(context);

    std::vector<double> grid = options.candidates;
    const bool automatic = grid.empty();
    std::string lo_note, hi_note; // where the ends of the range come from
    if (automatic) {
        double lo = options.min_bandwidth_m, hi = options.max_bandwidth_m;
        if (lo == 0) {
            const double nnd = median_nearest_distinct(p);
            if (!(nnd > 0))
                throw InvalidInput(who + ": the incidents have zero spread (all at one location)");
            lo = nnd / 2;
            lo_note = " (half the median nearest-neighbour distance)";
        }
        if (hi == 0) {
            hi = std::hypot(w.width(), w.height()) / 2;
            hi_note = " (half the window's diameter)";
        }
        if (!(lo < hi))
            throw InvalidInput(who + ": the search range is empty: min_bandwidth_m " + number(lo) +
                               " m is not below max_bandwidth_m " + number(hi) + " m");
        grid = log_spaced(lo, hi, options.count);
    } else {
        std::sort(grid.begin(), grid.end());
        grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
    }

    std::vector<std::pair<double, double>> evaluated; // (σ, LCV)
    std::size_t best = 0;
    bool stopped = false;
    for (std::size_t i = 0; i < grid.size(); ++i) {
        context.report(double(i) / double(grid.size()), "likelihood cross-validation");
        evaluated.emplace_back(grid[i], lcv(p, grid[i], w, arena, context));
        if (evaluated[i].second > evaluated[best].second) best = i;
        if (automatic && options.stop_early && evaluated[best].second > -infinity &&
            i - best >= std::size_t(options.patience) && i + 1 < grid.size()) {
            stopped = true;
            break;
        }
    }
    if (evaluated[best].second == -infinity)
        throw InvalidInput(
            who + ": every candidate up to sigma = " + number(grid.back()) +
            " m leaves some incident without a neighbour within 8 sigma; raise max_bandwidth_m");
    const std::size_t scanned = evaluated.size();
    const bool at_low = best == 0, at_high = best + 1 == scanned && !stopped;
    double chosen = evaluated[best].first, chosen_score = evaluated[best].second;
    bool refined = false;
    if (options.refine && !at_low && best + 1 < scanned) {
        std::vector<std::pair<double, double>> extra;
        golden_section_max(
            evaluated[best - 1].first, evaluated[best + 1].first,
            [&](double s) { return lcv(p, s, w, arena, context); }, extra);
        for (const auto& [s, v] : extra)
            if (v > chosen_score) {
                chosen = s;
                chosen_score = v;
            }
        evaluated.insert(evaluated.end(), extra.begin(), extra.end());
        refined = true;
    }
    std::sort(evaluated.begin(), evaluated.end());
    context.report(1.0, "likelihood cross-validation");

    BandwidthChoice c;
    c.method = "likelihood_cv";
    c.kernel = Kernel::gaussian;
    c.bandwidth_m = chosen;
    for (const auto& [s, v] : evaluated) {
        c.candidates.push_back(s);
        c.scores.push_back(v);
    }
    c.detail = "likelihood cross-validation (spatstat bw.ppl criterion, no edge correction): sigma = " +
               metres(chosen) +
               " m maximises the sum of log leave-one-out densities minus the integral over the " +
               "window; " + std::to_string(scanned) + " of " + std::to_string(grid.size()) + " candidates " +
               (automatic ? "log-spaced" : "given") + " from " + metres(grid.front()) + " m" + lo_note +
               " to " + metres(grid.back()) + " m" + hi_note;
    if (stopped)
        c.detail += " evaluated (the scan stops once " + std::to_string(options.patience) +
                    " candidates in a row score below the best)";
    if (refined) c.detail += ", refined by golden-section search to 1 %";
    c.detail += "; n = " + std::to_string(p.size()) + ", window " + describe(w);
    if (at_low)
        c.detail += "; the maximum is at the smallest candidate: the criterion may rise further below it";
    if (at_high)
        c.detail += "; the maximum is at the largest candidate: the criterion may rise further above it";
    return c;
}

void DiggleOptions::validate() const {
    if (!(max_bandwidth_m >= 0) || !std::isfinite(max_bandwidth_m))
        throw InvalidInput("DiggleOptions::max_bandwidth_m must be >= 0 (0: spatstat's rule); got " +
                           number(max_bandwidth_m));
    if (steps < 3 || steps > 4096)
        throw InvalidInput("DiggleOptions::steps must be between 3 and 4096; got " + std::to_string(steps));
    check_window(window, "DiggleOptions::window");
}

BandwidthChoice diggle_bandwidth(const Incidents& incidents, const DiggleOptions& options,
                                 const Context& context) {
    options.validate();
    const std::string who = "diggle_bandwidth";
    const Points p = points_of(incidents, who, false);
    const Bounds w = window_of(p, options.window, who, "DiggleOptions::window");
    const std::size_t n = p.size();
    const double a = w.width(), b = w.height(), area = a * b;
    const double lambda = double(n) / area;
    const double shorter = std::min(a, b);
    const bool given = options.max_bandwidth_m > 0;
    double rmax =
        given ? 4 * options.max_bandwidth_m : std::min(shorter / 4, std::sqrt(1000 / (pi * lambda)));
    const bool capped = rmax > shorter / 2;
    rmax = std::min(rmax, shorter / 2);

    // Pair distances in bins of width Δ/4 (Δ the step of the grid of r), bin 0 holding d = 0 and bin
    // k (k >= 1) the interval ((k − 1) Δ/4, k Δ/4], with the translation weights' sum and their first
    // two moments about the bin centre.
    const auto steps = std::size_t(options.steps);
    constexpr std::size_t fine = 4;
    const double delta = rmax / double(steps - 1);
    const double width = delta / double(fine);
    const std::size_t bins = (steps - 1) * fine + 1;
    const StripIndex idx(p, rmax);
    const double r2max = rmax * rmax;
    // Up to 64 chunks, each with its own histograms, fewer for fine grids (at most 2^21 bins in all).
    const std::size_t max_chunks = std::clamp<std::size_t>((std::size_t(1) << 21) / bins, 1, 64);
    const std::size_t chunk = std::max<std::size_t>(64, (n + max_chunks - 1) / max_chunks);
    const std::size_t chunks = (n + chunk - 1) / chunk;
    std::vector<double> s0(chunks * bins, 0.0), s1(chunks * bins, 0.0), s2(chunks * bins, 0.0);
    tbb::task_arena arena = make_arena(context);
    context.report(0.0, "Diggle's criterion: pair distances");
    for_chunks(arena, context, n, chunk, "Diggle's criterion",
               [&](std::size_t ci, std::size_t begin, std::size_t end) {
                   double* h0 = s0.data() + ci * bins;
                   double* h1 = s1.data() + ci * bins;
                   double* h2 = s2.data() + ci * bins;
                   for (std::size_t k = begin; k < end; ++k) {
                       const double px = idx.x[k], py = idx.y[k];
                       idx.for_later_runs(k, rmax, [&](std::size_t lo, std::size_t hi) {
                           for (std::size_t j = lo; j < hi; ++j) {
                               const double dx = std::abs(idx.x[j] - px), dy = std::abs(idx.y[j] - py);
                               const double d2 = dx * dx + dy * dy;
                               if (d2 > r2max) continue;
                               const double d = std::sqrt(d2);
                               const double e = area / ((a - dx) * (b - dy));
                               const auto bin = std::min(std::size_t(std::ceil(d / width)), bins - 1);
                               const double offset = bin == 0 ? 0.0 : d - (double(bin) - 0.5) * width;
                               h0[bin] += e;
                               h1[bin] += e * offset;
                               h2[bin] += e * offset * offset;
                           }
                       });
                   }
               });
    std::vector<double> m0(bins, 0.0), m1(bins, 0.0), m2(bins, 0.0);
    for (std::size_t ci = 0; ci < chunks; ++ci)
        for (std::size_t k = 0; k < bins; ++k) {
            m0[k] += s0[ci * bins + k];
            m1[k] += s1[ci * bins + k];
            m2[k] += s2[ci * bins + k];
        }

    // Ordered pairs count twice: K(r) = |W| / (n (n − 1)) Σ_{i≠j} e_ij 1{d_ij <= r}.
    const double factor = 2 * area / (double(n) * double(n - 1));
    std::vector<double> cumulative(bins + 1, 0.0);
    for (std::size_t k = 0; k < bins; ++k)
        cumulative[k + 1] = cumulative[k] + m0[k];
    const std::size_t kmax = (steps - 1) / 2; // r_k <= r_max / 2
    BandwidthChoice c;
    c.method = "diggle";
    c.kernel = Kernel::gaussian;
    std::size_t best = 0;
    for (std::size_t k = 1; k <= kmax; ++k) {
        const double h = double(k) * delta;
        const double big_k = factor * cumulative[k * fine + 1];
        double j = m0[0] * pi * h * h; // coincident pairs: A(0, h) = π h²
        for (std::size_t bin = 1; bin <= 2 * k * fine; ++bin) {
            if (m0[bin] == 0) continue;
            const Lens l = lens((double(bin) - 0.5) * width, h);
            j += m0[bin] * l.a + m1[bin] * l.d1 + 0.5 * m2[bin] * l.d2;
        }
        j *= factor;
        const double disc = pi * h * h;
        const double m = (1 / lambda - 2 * big_k) / disc + j / (disc * disc);
        c.candidates.push_back(h / 2);
        c.scores.push_back(m);
        if (m < c.scores[best]) best = c.scores.size() - 1;
    }
    context.report(1.0, "Diggle's criterion");
    if (c.candidates.empty())
        throw InvalidInput(who + ": DiggleOptions::steps leaves no bandwidth to evaluate");
    c.bandwidth_m = c.candidates[best];
    c.detail =
        "Diggle's mean-square-error criterion (spatstat bw.diggle; Berman-Diggle, translation-corrected K): "
        "sigma = " +
        metres(c.bandwidth_m) + " m minimises M(sigma) over " + std::to_string(kmax) +
        " values sigma = r/2, 0 < r <= " + metres(rmax / 2) + " m (r_max = " + metres(rmax) + " m, " +
        (given ? "4 max_bandwidth_m" : "spatstat's rule") +
        (capped ? ", capped at half the window's shorter side" : "") + "); n = " + std::to_string(n) +
        ", window " + describe(w);
    if (best + 1 == c.candidates.size())
        c.detail += "; the minimum is at the largest candidate: raise DiggleOptions::max_bandwidth_m";
    if (best == 0) c.detail += "; the minimum is at the smallest candidate";
    return c;
}

void PaiHoldoutOptions::validate() const {
    KdeOptions k = kde;
    k.bandwidth_m = kde.cell_m > 0 ? kde.cell_m : 1.0; // bandwidth_m is not used
    k.validate();
    if (candidates.empty() && count < 1)
        throw InvalidInput("PaiHoldoutOptions::count must be at least 1; got " + std::to_string(count));
    for (const double c : candidates)
        if (!(c > 0) || !std::isfinite(c))
            throw InvalidInput("PaiHoldoutOptions::candidates must be positive and finite; got " + number(c));
    if (!(min_bandwidth_m >= 0) || !std::isfinite(min_bandwidth_m))
        throw InvalidInput("PaiHoldoutOptions::min_bandwidth_m must be >= 0 (0: automatic); got " +
                           number(min_bandwidth_m));
    if (!(max_bandwidth_m >= 0) || !std::isfinite(max_bandwidth_m))
        throw InvalidInput("PaiHoldoutOptions::max_bandwidth_m must be >= 0 (0: automatic); got " +
                           number(max_bandwidth_m));
    if (!(area_share > 0 && area_share <= 1))
        throw InvalidInput("PaiHoldoutOptions::area_share must be in (0, 1]; got " + number(area_share));
}

BandwidthChoice pai_holdout_bandwidth(const Incidents& train, const Incidents& test,
                                      const PaiHoldoutOptions& options, const Context& context) {
    options.validate();
    const std::string who = "pai_holdout_bandwidth";
    if (train.empty()) throw InvalidInput(who + ": no training incidents");
    if (test.empty()) throw InvalidInput(who + ": no test incidents");
    Bounds bounds;
    if (options.kde.bounds) {
        bounds = *options.kde.bounds;
    } else {
        bounds = {infinity, infinity, -infinity, -infinity};
        for (const Incidents* set : {&train, &test})
            for (std::size_t i = 0; i < set->size() && i < set->y.size(); ++i) {
                if (!std::isfinite(set->x[i]) || !std::isfinite(set->y[i])) continue;
                bounds.min_x = std::min(bounds.min_x, set->x[i]);
                bounds.min_y = std::min(bounds.min_y, set->y[i]);
                bounds.max_x = std::max(bounds.max_x, set->x[i]);
                bounds.max_y = std::max(bounds.max_y, set->y[i]);
            }
        if (!(bounds.min_x <= bounds.max_x)) throw InvalidInput(who + ": no incident has finite coordinates");
        const double pad = options.kde.cell_m;
        bounds = {bounds.min_x - pad, bounds.min_y - pad, bounds.max_x + pad, bounds.max_y + pad};
    }

    std::vector<double> grid = options.candidates;
    if (grid.empty()) {
        const double lo = options.min_bandwidth_m > 0 ? options.min_bandwidth_m : 2 * options.kde.cell_m;
        const double hi = options.max_bandwidth_m > 0 ? options.max_bandwidth_m
                                                      : std::min(bounds.width(), bounds.height()) / 4;
        if (options.count == 1 || !(lo < hi)) {
            if (!(lo < hi) && options.count > 1)
                throw InvalidInput(who + ": the search range is empty: min_bandwidth_m " + number(lo) +
                                   " m is not below max_bandwidth_m " + number(hi) + " m");
            grid = {lo};
        } else {
            grid = log_spaced(lo, hi, options.count);
        }
    } else {
        std::sort(grid.begin(), grid.end());
        grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
    }

    BandwidthChoice c;
    c.method = "pai_holdout";
    c.kernel = options.kde.kernel;
    std::size_t best = 0;
    CoverageReport coverage;
    for (std::size_t i = 0; i < grid.size(); ++i) {
        KdeOptions k = options.kde;
        k.bandwidth_m = grid[i];
        k.bounds = bounds;
        Context sub;
        sub.cancel = context.cancel;
        sub.threads = context.threads;
        if (context.progress)
            sub.progress = [&context, i, count = grid.size()](double f, std::string_view) {
                context.progress((double(i) + f) / double(count), "PAI hold-out");
            };
        const Grid surface = kde(train, k, sub);
        HotspotEvaluation e;
        try {
            e = evaluate_hotspots(surface, test, options.area_share);
        } catch (const InvalidInput& error) {
            throw InvalidInput(who + ": " + error.what());
        }
        coverage = e.test;
        c.candidates.push_back(grid[i]);
        c.scores.push_back(e.pai);
        if (e.pai >= c.scores[best]) best = i; // ties: the larger bandwidth
    }
    context.report(1.0, "PAI hold-out");
    c.bandwidth_m = c.candidates[best];
    c.detail = "PAI hold-out: " + std::string(to_string(c.kernel)) + " bandwidth " + metres(c.bandwidth_m) +
               " m gives the highest PAI (" + metres(c.scores[best]) + ") at " +
               metres(100 * options.area_share) + " % of the study area for the test incidents, over " +
               std::to_string(grid.size()) + " candidates " + metres(grid.front()) + " to " +
               metres(grid.back()) + " m; " + std::to_string(train.size()) +
               " training incidents; test: " + coverage.summary();
    return c;
}

} // namespace streetsafe
