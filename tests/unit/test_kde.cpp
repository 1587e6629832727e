// Kernel density: the exact path against the brute-force oracle, invariants (mass, thread count,
// input order, output units), the kernels' constants by numerical integration, known values, and
// the errors users meet.

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "streetsafe/crs.hpp"
#include "streetsafe/error.hpp"
#include "streetsafe/kde.hpp"

using namespace streetsafe;

namespace {

constexpr Kernel all_kernels[] = {Kernel::quartic, Kernel::epanechnikov, Kernel::triangular, Kernel::uniform,
                                  Kernel::gaussian};

// British National Grid, by hand: KDE only carries the WKT through, so these tests do not depend on
// PROJ resolving it (resolve_crs is tested in test_crs.cpp and used below where it matters).
Crs bng() {
    Crs crs;
    crs.definition = "EPSG:27700";
    crs.authority = "EPSG:27700";
    crs.wkt = R"(PROJCRS["OSGB36 / British National Grid",ID["EPSG",27700]])";
    crs.projected = true;
    return crs;
}

Incidents make_incidents(std::vector<double> x, std::vector<double> y, std::vector<double> w = {}) {
    Incidents inc;
    const std::size_t n = x.size();
    inc.x = std::move(x);
    inc.y = std::move(y);
    inc.weight = w.empty() ? std::vector<double>(n, 1.0) : std::move(w);
    inc.time.assign(n, no_time);
    inc.time_end.assign(n, no_time);
    inc.precision.assign(n, TimePrecision::none);
    inc.category.assign(n, -1);
    inc.source_row.resize(n);
    for (std::size_t i = 0; i < n; ++i) inc.source_row[i] = std::int64_t(i);
    inc.crs = bng();
    return inc;
}

/// Clusters plus background around (x0, y0) within `side` metres, weights in [0.5, 3) with a few
/// zero and negative ones, and some incidents repeated at the very same place (as police.uk snaps
/// them to shared points).
Incidents clustered(std::size_t n, std::uint64_t seed, double x0, double y0, double side, bool weighted) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::normal_distribution<double> normal(0.0, 1.0);
    const double cx[] = {x0 + 0.3 * side, x0 + 0.7 * side, x0 + 0.55 * side};
    const double cy[] = {y0 + 0.35 * side, y0 + 0.6 * side, y0 + 0.2 * side};
    std::vector<double> x, y, w;
    for (std::size_t i = 0; i < n; ++i) {
        if (i % 10 == 9 && !x.empty()) { // a repeat of an earlier place
            const std::size_t j = std::size_t(unit(rng) * double(x.size()));
            x.push_back(x[j]);
            y.push_back(y[j]);
        } else if (i % 4 == 0) {
            x.push_back(x0 + side * unit(rng));
            y.push_back(y0 + side * unit(rng));
        } else {
            const std::size_t c = i % 3;
            x.push_back(cx[c] + 0.04 * side * normal(rng));
            y.push_back(cy[c] + 0.04 * side * normal(rng));
        }
        double weight = 1.0;
        if (weighted) weight = i % 17 == 0 ? 0.0 : i % 23 == 0 ? -0.5 : 0.5 + 2.5 * unit(rng);
        w.push_back(weight);
    }
    return make_incidents(std::move(x), std::move(y), std::move(w));
}

Incidents uniform(std::size_t n, std::uint64_t seed, double x0, double y0, double side) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<double> x, y;
    for (std::size_t i = 0; i < n; ++i) {
        x.push_back(x0 + side * unit(rng));
        y.push_back(y0 + side * unit(rng));
    }
    return make_incidents(std::move(x), std::move(y));
}

double max_abs(const std::vector<double>& v) {
    double m = 0;
    for (const double a : v) m = std::max(m, std::abs(a));
    return m;
}

/// max |a − b| relative to max |b|.
double max_relative_difference(const Grid& a, const Grid& b) {
    EXPECT_EQ(a.rows, b.rows);
    EXPECT_EQ(a.cols, b.cols);
    double diff = 0;
    for (std::size_t i = 0; i < std::min(a.values.size(), b.values.size()); ++i)
        diff = std::max(diff, std::abs(a.values[i] - b.values[i]));
    const double scale = max_abs(b.values);
    return scale > 0 ? diff / scale : diff;
}

double sum(const Grid& g) {
    double s = 0;
    for (const double v : g.values) s += v;
    return s;
}

double total_weight(const Incidents& inc) {
    double s = 0;
    for (const double w : inc.weight) s += w;
    return s;
}

KdeOptions with(Kernel k, double bandwidth, double cell, KdeNormalisation n = KdeNormalisation::discrete) {
    KdeOptions o;
    o.kernel = k;
    o.bandwidth_m = bandwidth;
    o.cell_m = cell;
    o.normalisation = n;
    return o;
}

/// Bandwidths that keep the brute force quick: the Gaussian's support is 8 sigma.
double test_bandwidth(Kernel k) { return k == Kernel::gaussian ? 40.0 : 130.0; }

} // namespace

// ---------------------------------------------------------------------------------------------
// The exact path against the brute-force oracle

TEST(KdeExact, MatchesBruteForceForEveryKernelAndInput) {
    const double x0 = 530000, y0 = 180000, side = 1500;
    // Explicit bounds cutting through the data: incidents near the edges and outside them count
    // only with the part of their kernel inside.
    const Bounds bounds{x0 + 100, y0 + 60, x0 + 1390, y0 + 1420};
    struct Input {
        const char* name;
        Incidents incidents;
        bool explicit_bounds;
    };
    const std::vector<Input> inputs = {
        {"clustered, weighted", clustered(250, 1, x0, y0, side, true), false},
        {"clustered, weighted, explicit bounds", clustered(250, 2, x0, y0, side, true), true},
        {"uniform", uniform(200, 3, x0, y0, side), false},
        {"uniform, explicit bounds", uniform(200, 4, x0, y0, side), true},
        {"single point", make_incidents({x0 + 737.3}, {y0 + 512.9}, {2.5}), false},
        {"single point at a cell centre", make_incidents({x0 + 737.5}, {y0 + 512.5}), false},
        {"single point outside explicit bounds", make_incidents({x0 + 60}, {y0 + 700}, {1.5}), true},
    };
    for (const Kernel k : all_kernels) {
        for (const auto normalisation : {KdeNormalisation::discrete, KdeNormalisation::continuous}) {
            for (const Input& input : inputs) {
                SCOPED_TRACE(std::string(to_string(k)) + ", " +
                             (normalisation == KdeNormalisation::discrete ? "discrete" : "continuous") + ", " +
                             input.name);
                KdeOptions o = with(k, test_bandwidth(k), 25, normalisation);
                if (input.explicit_bounds) o.bounds = bounds;
                const Grid fast = kde(input.incidents, o);
                o.method = KdeMethod::brute_force;
                const Grid slow = kde(input.incidents, o);
                ASSERT_EQ(fast.rows, slow.rows);
                ASSERT_EQ(fast.cols, slow.cols);
                EXPECT_EQ(fast.origin_x, slow.origin_x);
                EXPECT_EQ(fast.origin_y, slow.origin_y);
                EXPECT_GT(max_abs(slow.values), 0.0);
                EXPECT_LE(max_relative_difference(fast, slow), 1e-6);
            }
        }
    }
}

TEST(KdeExact, MatchesBruteForceWithWideSupports) {
    // Supports of more than 24 cells in radius take their lattice sums from the closed forms over
    // each row's interval instead of term by term: the same answers.
    const Incidents inc = clustered(60, 14, 700000, 100000, 600, true);
    for (const Kernel k : all_kernels) {
        for (const auto normalisation : {KdeNormalisation::discrete, KdeNormalisation::continuous}) {
            for (const bool explicit_bounds : {false, true}) {
                SCOPED_TRACE(std::string(to_string(k)) + (explicit_bounds ? ", explicit bounds" : ""));
                KdeOptions o = with(k, k == Kernel::gaussian ? 17.5 : 133, 5, normalisation);
                if (explicit_bounds) o.bounds = Bounds{700050, 100020, 700480, 100590};
                const Grid fast = kde(inc, o);
                o.method = KdeMethod::brute_force;
                const Grid slow = kde(inc, o);
                EXPECT_LE(max_relative_difference(fast, slow), 1e-6);
                if (normalisation == KdeNormalisation::discrete && !explicit_bounds) {
                    EXPECT_NEAR(fast.integral(true), total_weight(inc), 1e-9 * std::abs(total_weight(inc)));
                }
            }
        }
    }
}

TEST(KdeExact, MatchesBruteForceWithTheBandwidthBelowTheCellSize) {
    // Supports of 0.3 to 1 cell: many hold one or two centres, some none (their weight goes to the
    // cell containing the incident, in both methods).
    const Incidents inc = uniform(300, 5, 400000, 300000, 500);
    for (const Kernel k : all_kernels) {
        for (const double h : {4.0, 9.0, 20.0}) {
            SCOPED_TRACE(std::string(to_string(k)) + " h=" + std::to_string(h));
            KdeOptions o = with(k, k == Kernel::gaussian ? h / 8 : h, 20);
            const Grid fast = kde(inc, o);
            o.method = KdeMethod::brute_force;
            const Grid slow = kde(inc, o);
            EXPECT_LE(max_relative_difference(fast, slow), 1e-6);
            EXPECT_NEAR(fast.integral(true), total_weight(inc), 1e-9 * total_weight(inc));
        }
    }
}

TEST(KdeExact, MatchesBruteForceOnCellCornersAndExactBoundaries) {
    // A bandwidth of exactly 10 cells around points on a cell centre and on a cell corner: many
    // centres lie exactly on the support's edge ((6, 8, 10) triangles), which both methods exclude.
    const Incidents inc = make_incidents({451012.5, 451300.0, 451300.0}, {206987.5, 207000.0, 207000.0}, {1, 2, 0.5});
    for (const Kernel k : all_kernels) {
        SCOPED_TRACE(std::string(to_string(k)));
        KdeOptions o = with(k, k == Kernel::gaussian ? 31.25 : 250, 25);
        const Grid fast = kde(inc, o);
        o.method = KdeMethod::brute_force;
        const Grid slow = kde(inc, o);
        EXPECT_LE(max_relative_difference(fast, slow), 1e-6);
    }
}

TEST(KdeExact, MatchesBruteForceOnGridsOneCellWideOrTall) {
    // Rows shorter than the vector width, and no room to pad them.
    const Incidents inc = uniform(50, 13, 600000, 300000, 400);
    for (const Bounds& b : {Bounds{600190, 300000, 600210, 300400}, Bounds{600000, 300190, 600400, 300210},
                            Bounds{600190, 300190, 600210, 300210}, Bounds{600170, 300000, 600230, 300400}}) {
        for (const Kernel k : all_kernels) {
            SCOPED_TRACE(std::string(to_string(k)));
            KdeOptions o = with(k, k == Kernel::gaussian ? 20 : 120, 20);
            o.bounds = b;
            const Grid fast = kde(inc, o);
            o.method = KdeMethod::brute_force;
            const Grid slow = kde(inc, o);
            EXPECT_LE(max_relative_difference(fast, slow), 1e-6);
            EXPECT_GT(max_abs(slow.values), 0.0);
        }
    }
}

TEST(KdeExact, AnIncidentWhoseSupportHoldsNoCentreGoesToItsCell) {
    // h = 2 m around a point 7 m from the nearest centre of 25 m cells.
    const Incidents inc = make_incidents({100007.0}, {200003.0}, {3.0});
    for (const auto method : {KdeMethod::exact, KdeMethod::brute_force}) {
        KdeOptions o = with(Kernel::quartic, 2, 25);
        o.method = method;
        const Grid g = kde(inc, o);
        const GridSummary s = summarize(g);
        EXPECT_EQ(s.nonzero_cells, 1u);
        EXPECT_DOUBLE_EQ(s.max, 3.0 / 625.0 * 1e6);
        EXPECT_LE(std::abs(s.max_x - 100007.0), 12.5);
        EXPECT_LE(std::abs(s.max_y - 200003.0), 12.5);
    }
}

// ---------------------------------------------------------------------------------------------
// Invariants

TEST(KdeExact, DiscreteNormalisationConservesTheTotalWeight) {
    const Incidents inc = clustered(3000, 6, 250000, 650000, 4000, true);
    const double total = total_weight(inc);
    for (const Kernel k : all_kernels) {
        for (const double h : {100.0, 333.0}) {
            SCOPED_TRACE(std::string(to_string(k)) + " h=" + std::to_string(h));
            KdeOptions o = with(k, k == Kernel::gaussian ? h / 4 : h, 25);
            const Grid density = kde(inc, o);
            EXPECT_NEAR(sum(density) * density.cell_area_m2() * 1e-6, total, 1e-9 * std::abs(total));
            EXPECT_NEAR(density.integral(true), total, 1e-9 * std::abs(total));
            o.output = KdeOutput::count_per_cell;
            EXPECT_NEAR(sum(kde(inc, o)), total, 1e-9 * std::abs(total));
        }
    }
}

TEST(KdeExact, CountPerCellIsDensityTimesCellArea) {
    const Incidents inc = clustered(2000, 7, 250000, 650000, 3000, true);
    for (const auto normalisation : {KdeNormalisation::discrete, KdeNormalisation::continuous}) {
        KdeOptions o = with(Kernel::quartic, 200, 20, normalisation);
        const Grid density = kde(inc, o);
        o.output = KdeOutput::count_per_cell;
        const Grid count = kde(inc, o);
        ASSERT_EQ(density.values.size(), count.values.size());
        const double area_km2 = density.cell_area_m2() * 1e-6;
        const double scale = max_abs(count.values);
        for (std::size_t i = 0; i < count.values.size(); ++i)
            ASSERT_NEAR(count.values[i], density.values[i] * area_km2, 1e-12 * scale) << "cell " << i;
        EXPECT_EQ(density.units, "incidents per km2");
        EXPECT_EQ(count.units, "incidents per cell");
    }
}

TEST(KdeExact, SameBytesForAnyThreadCount) {
    const Incidents inc = clustered(15000, 8, 300000, 400000, 8000, true);
    for (const Kernel k : {Kernel::quartic, Kernel::gaussian, Kernel::triangular}) {
        for (const auto normalisation : {KdeNormalisation::discrete, KdeNormalisation::continuous}) {
            SCOPED_TRACE(std::string(to_string(k)));
            const KdeOptions o = with(k, k == Kernel::gaussian ? 40 : 250, 25, normalisation);
            std::vector<Grid> grids;
            for (const int threads : {1, 2, 4}) {
                Context context;
                context.threads = threads;
                grids.push_back(kde(inc, o, context));
            }
            for (std::size_t t = 1; t < grids.size(); ++t) {
                ASSERT_EQ(grids[t].values.size(), grids[0].values.size());
                EXPECT_EQ(std::memcmp(grids[t].values.data(), grids[0].values.data(),
                                      grids[0].values.size() * sizeof(double)),
                          0)
                    << "thread count " << t;
            }
        }
    }
}

TEST(KdeExact, SameBytesWithoutTheAvx2InnerLoops) {
    // On x86-64 the inner loops run as AVX2 when the CPU has it; the portable build of them must
    // give the same bytes (the same IEEE operations on each element).
    const Incidents inc = clustered(6000, 9, 300000, 400000, 6000, true);
    for (const Kernel k : all_kernels) {
        SCOPED_TRACE(std::string(to_string(k)));
        // The Gaussian's support of 32 cells takes the closed-form lattice sums.
        const KdeOptions o = with(k, k == Kernel::gaussian ? 100 : 200, 25);
        const Grid dispatched = kde(inc, o);
        ::setenv("STREETSAFE_KDE_NO_AVX2", "1", 1);
        const Grid portable = kde(inc, o);
        ::unsetenv("STREETSAFE_KDE_NO_AVX2");
        ASSERT_EQ(dispatched.values.size(), portable.values.size());
        EXPECT_EQ(std::memcmp(dispatched.values.data(), portable.values.data(),
                              portable.values.size() * sizeof(double)),
                  0);
    }
}

TEST(KdeExact, InputOrderDoesNotMatter) {
    const Incidents inc = clustered(20000, 10, 300000, 400000, 6000, true);
    Incidents shuffled = inc;
    std::vector<std::size_t> order(inc.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937_64(11));
    for (std::size_t i = 0; i < order.size(); ++i) {
        shuffled.x[i] = inc.x[order[i]];
        shuffled.y[i] = inc.y[order[i]];
        shuffled.weight[i] = inc.weight[order[i]];
    }
    for (const Kernel k : {Kernel::quartic, Kernel::uniform, Kernel::gaussian}) {
        SCOPED_TRACE(std::string(to_string(k)));
        const KdeOptions o = with(k, k == Kernel::gaussian ? 50 : 250, 25);
        const Grid a = kde(inc, o), b = kde(shuffled, o);
        // Documented bound: 1e-12 relative. The incidents are sorted on their values, so in fact
        // the bytes are the same.
        EXPECT_LE(max_relative_difference(b, a), 1e-12);
        EXPECT_EQ(std::memcmp(a.values.data(), b.values.data(), a.values.size() * sizeof(double)), 0);
    }
}

// ---------------------------------------------------------------------------------------------
// The kernels themselves

TEST(KernelValue, IntegratesToOneOverThePlane) {
    // ∬ K dx dy in polar coordinates: the composite midpoint rule in r over the support (each kernel
    // is smooth in r inside it, and the midpoints never touch the uniform kernel's edge), the angle
    // integrating to 2π exactly by symmetry. Independent of the constants in kde.cpp: only
    // kernel_value() is called.
    for (const Kernel k : all_kernels) {
        for (const double h : {1.0, 37.5, 250.0}) {
            const double radius = support_radius(k, h);
            const int intervals = 100000;
            const double dr = radius / intervals;
            double s = 0;
            for (int i = 0; i < intervals; ++i) {
                const double r = (i + 0.5) * dr;
                s += 2 * std::numbers::pi * r * kernel_value(k, r * r, h);
            }
            EXPECT_NEAR(s * dr, 1.0, 1e-6) << to_string(k) << " h=" << h;
        }
    }
}

TEST(KernelValue, IntegratesToOneOnACartesianGrid) {
    // The same on a fine Cartesian midpoint grid of 0.002 h: a second, cruder check that also covers
    // the angular part. The uniform kernel's edge limits this one to about 1e-4.
    for (const Kernel k : all_kernels) {
        const double h = 10.0;
        const double radius = support_radius(k, h);
        const int n = 2000;
        const double step = 2 * radius / n;
        double s = 0;
        for (int i = 0; i < n; ++i) {
            const double x = -radius + (i + 0.5) * step;
            for (int j = 0; j < n; ++j) {
                const double y = -radius + (j + 0.5) * step;
                s += kernel_value(k, x * x + y * y, h);
            }
        }
        EXPECT_NEAR(s * step * step, 1.0, k == Kernel::uniform ? 2e-4 : 1e-5) << to_string(k);
    }
}

TEST(KernelValue, KnownValues) {
    const double h = 100;
    EXPECT_DOUBLE_EQ(kernel_value(Kernel::quartic, 0, h), 3 / (std::numbers::pi * h * h));
    EXPECT_DOUBLE_EQ(kernel_value(Kernel::quartic, 50 * 50, h), 3 / (std::numbers::pi * h * h) * 0.75 * 0.75);
    EXPECT_DOUBLE_EQ(kernel_value(Kernel::epanechnikov, 50 * 50, h), 2 / (std::numbers::pi * h * h) * 0.75);
    EXPECT_DOUBLE_EQ(kernel_value(Kernel::triangular, 50 * 50, h), 3 / (std::numbers::pi * h * h) * 0.5);
    EXPECT_DOUBLE_EQ(kernel_value(Kernel::uniform, 99 * 99, h), 1 / (std::numbers::pi * h * h));
    EXPECT_DOUBLE_EQ(kernel_value(Kernel::gaussian, 100 * 100, h),
                     1 / (2 * std::numbers::pi * h * h) * std::exp(-0.5));
    for (const Kernel k : {Kernel::quartic, Kernel::epanechnikov, Kernel::triangular, Kernel::uniform}) {
        EXPECT_EQ(kernel_value(k, h * h, h), 0.0) << to_string(k);
        EXPECT_EQ(kernel_value(k, 2 * h * h, h), 0.0) << to_string(k);
    }
    EXPECT_GT(kernel_value(Kernel::gaussian, 7.9 * 7.9 * h * h, h), 0.0);
    EXPECT_EQ(kernel_value(Kernel::gaussian, 8 * 8 * h * h, h), 0.0);
    EXPECT_EQ(support_radius(Kernel::quartic, 250), 250);
    EXPECT_EQ(support_radius(Kernel::gaussian, 250), 2000);
}

TEST(KdeExact, CentreCellOfASinglePointHasTheKernelsPeak) {
    // One incident at a cell centre: with continuous normalisation that cell holds K(0) per m²
    // (× 1e6 per km²); with discrete normalisation, K(0) divided by the lattice sum of the kernel ×
    // cell area, which for these bandwidths (10 cells; sigma 2.5 cells) is within 2e-3 of 1.
    const double cx = 451012.5, cy = 206987.5; // the centre of a 25 m cell
    const Incidents inc = make_incidents({cx}, {cy}, {2.0});
    for (const Kernel k : all_kernels) {
        SCOPED_TRACE(std::string(to_string(k)));
        const double h = k == Kernel::gaussian ? 62.5 : 250;
        const double peak = 2.0 * kernel_value(k, 0, h) * 1e6;
        for (const auto normalisation : {KdeNormalisation::continuous, KdeNormalisation::discrete}) {
            const Grid g = kde(inc, with(k, h, 25, normalisation));
            const auto r = std::size_t((g.origin_y - cy) / 25), c = std::size_t((cx - g.origin_x) / 25);
            ASSERT_EQ(g.centre_x(c), cx);
            ASSERT_EQ(g.centre_y(r), cy);
            const GridSummary s = summarize(g);
            EXPECT_EQ(g.at(r, c), s.max); // the uniform kernel's flat top has other maxima too
            if (normalisation == KdeNormalisation::continuous) {
                EXPECT_NEAR(g.at(r, c), peak, 1e-12 * peak);
            } else if (k == Kernel::uniform) {
                // 305 centres lie strictly within 10 cells of a centre (317 within or on the circle,
                // less the 12 on it: (±10, 0), (0, ±10), (±6, ±8), (±8, ±6)).
                EXPECT_NEAR(g.at(r, c), 2.0 / (305 * 625e-6), 1e-12 * peak);
            } else {
                EXPECT_NEAR(g.at(r, c), peak, 2e-3 * peak);
            }
            if (normalisation == KdeNormalisation::discrete) {
                EXPECT_NEAR(s.sum * 625e-6, 2.0, 1e-12);
            }
        }
    }
}

TEST(KdeExact, QuarticPeakMatchesTheLatticeSumByHand) {
    // Quartic, h = 2 cells, a point at a centre: the centres inside the support are (0,0), the 4 at
    // distance 1 and the 4 at √2 (distance 2 is on the boundary, value 0), so the lattice sum of
    // (1 − d²/h²)² is 1 + 4 (3/4)² + 4 (1/2)² = 4.25, and the peak is w / (4.25 × cell area).
    const Incidents inc = make_incidents({1012.5}, {2012.5});
    const Grid g = kde(inc, with(Kernel::quartic, 50, 25));
    EXPECT_NEAR(summarize(g).max, 1e6 / (4.25 * 625), 1e-9);
}

// ---------------------------------------------------------------------------------------------
// Grid, metadata, options and errors

TEST(Kde, GridCoversThePaddedExtentAndCarriesMetadata) {
    Incidents inc = make_incidents({500010, 501990}, {200020, 200980}, {1, 2});
    inc.crs = resolve_crs("EPSG:27700");
    const Grid g = kde(inc, with(Kernel::quartic, 250, 25));
    const Bounds b = g.bounds();
    EXPECT_LE(b.min_x, 500010 - 250);
    EXPECT_GE(b.max_x, 501990 + 250);
    EXPECT_LE(b.min_y, 200020 - 250);
    EXPECT_GE(b.max_y, 200980 + 250);
    EXPECT_EQ(std::fmod(g.origin_x, 25.0), 0.0);
    EXPECT_EQ(std::fmod(g.origin_y, 25.0), 0.0);
    EXPECT_EQ(g.crs_wkt, inc.crs.wkt);
    EXPECT_EQ(g.units, "incidents per km2");
    auto meta = [&](const std::string& key) {
        for (const auto& [k, v] : g.metadata)
            if (k == key) return v;
        return std::string("<missing>");
    };
    EXPECT_EQ(meta("kernel"), "quartic");
    EXPECT_EQ(meta("bandwidth_m"), "250");
    EXPECT_EQ(meta("cell_m"), "25");
    EXPECT_EQ(meta("output"), "density_per_km2");
    EXPECT_EQ(meta("normalisation"), "discrete");
    EXPECT_EQ(meta("incidents"), "2");
    EXPECT_EQ(meta("total_weight"), "3");
}

TEST(Kde, EmptySelectionIsRefused) {
    const Incidents empty = make_incidents({}, {});
    try {
        kde(empty);
        FAIL() << "expected InvalidInput";
    } catch (const InvalidInput& e) {
        EXPECT_STREQ(e.what(), "no incidents to estimate a density from: the selection is empty");
    }
}

TEST(Kde, NonFiniteCoordinateNamesTheIncident) {
    const Incidents inc = make_incidents({1000, 1100, std::nan("")}, {2000, 2100, 2200});
    try {
        kde(inc);
        FAIL() << "expected InvalidInput";
    } catch (const InvalidInput& e) {
        EXPECT_NE(std::string(e.what()).find("incident 2"), std::string::npos) << e.what();
    }
    const Incidents bad_weight = make_incidents({1000, 1100}, {2000, 2100}, {1, INFINITY});
    EXPECT_THROW(kde(bad_weight), InvalidInput);
}

TEST(Kde, BillionCellGridIsRefusedBeforeAllocating) {
    const Incidents inc = make_incidents({1000}, {2000});
    KdeOptions o = with(Kernel::quartic, 250, 1);
    o.bounds = Bounds{0, 0, 100000, 10000}; // 10,000 rows × 100,000 columns of 1 m
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    const auto start = std::chrono::steady_clock::now();
    try {
        kde(inc, o);
        FAIL() << "expected InvalidInput";
    } catch (const InvalidInput& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("10000 rows"), std::string::npos) << what;
        EXPECT_NE(what.find("100000 columns"), std::string::npos) << what;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rusage after{};
    getrusage(RUSAGE_SELF, &after);
    EXPECT_LT(seconds, 0.5);
    EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 100 * 1024); // KiB: far below the 8 GB asked for
    // The limit can be raised or lowered per call.
    o.max_cells = 1000;
    o.bounds = Bounds{0, 0, 100, 100};
    EXPECT_THROW(kde(inc, o), InvalidInput);
}

TEST(KdeOptions, ValidateNamesTheField) {
    auto message = [](const KdeOptions& o) {
        try {
            o.validate();
        } catch (const InvalidInput& e) {
            return std::string(e.what());
        }
        return std::string("<no error>");
    };
    EXPECT_EQ(message(KdeOptions{}), "<no error>");
    KdeOptions o;
    for (const double bad : {0.0, -5.0, std::nan(""), double(INFINITY)}) {
        o = {};
        o.bandwidth_m = bad;
        EXPECT_NE(message(o).find("bandwidth_m"), std::string::npos) << message(o);
        o = {};
        o.cell_m = bad;
        EXPECT_NE(message(o).find("cell_m"), std::string::npos) << message(o);
    }
    o = {};
    o.bounds = Bounds{10, 10, 5, 20};
    EXPECT_NE(message(o).find("bounds"), std::string::npos) << message(o);
    o.bounds = Bounds{0, 0, std::nan(""), 20};
    EXPECT_NE(message(o).find("bounds"), std::string::npos) << message(o);
    o = {};
    o.bandwidth_m = 3e6; // a support of 120,000 cells of 25 m: a mistake of units
    EXPECT_NE(message(o).find("bandwidth_m"), std::string::npos) << message(o);
    o = {};
    o.max_cells = 0;
    EXPECT_NE(message(o).find("max_cells"), std::string::npos) << message(o);
    // kde() validates too.
    o = {};
    o.cell_m = -1;
    EXPECT_THROW(kde(make_incidents({1}, {1}), o), InvalidInput);
}

TEST(KernelNames, ParseAndPrint) {
    for (const Kernel k : all_kernels) EXPECT_EQ(parse_kernel(to_string(k)), k);
    EXPECT_EQ(parse_kernel("biweight"), Kernel::quartic);
    EXPECT_EQ(parse_kernel("Gaussian"), Kernel::gaussian);
    try {
        parse_kernel("cosine");
        FAIL() << "expected InvalidInput";
    } catch (const InvalidInput& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("cosine"), std::string::npos);
        EXPECT_NE(what.find("quartic"), std::string::npos);
    }
}

TEST(Kde, ReportsProgressAndHonoursCancellation) {
    const Incidents inc = clustered(5000, 12, 300000, 400000, 5000, false);
    std::vector<double> fractions;
    Context context;
    context.progress = [&](double f, std::string_view) { fractions.push_back(f); };
    kde(inc, with(Kernel::quartic, 250, 25), context);
    ASSERT_GE(fractions.size(), 3u);
    EXPECT_TRUE(std::is_sorted(fractions.begin(), fractions.end()));
    EXPECT_EQ(fractions.back(), 1.0);

    std::atomic<bool> cancel{false};
    Context cancelling;
    cancelling.cancel = &cancel;
    cancelling.progress = [&](double f, std::string_view) {
        if (f > 0) cancel = true;
    };
    EXPECT_THROW(kde(inc, with(Kernel::quartic, 250, 25), cancelling), Cancelled);
    cancel = false;
    KdeOptions brute = with(Kernel::quartic, 250, 100);
    brute.method = KdeMethod::brute_force;
    EXPECT_THROW(kde(inc, brute, cancelling), Cancelled);
}

TEST(Kde, ZeroWeightsAddNothing) {
    const Incidents a = make_incidents({1000, 1500, 1700}, {2000, 2100, 2500}, {1, 0, 2});
    const Incidents b = make_incidents({1000, 1700}, {2000, 2500}, {1, 2});
    KdeOptions o = with(Kernel::quartic, 250, 25);
    o.bounds = Bounds{500, 1500, 2500, 3000};
    const Grid ga = kde(a, o), gb = kde(b, o);
    EXPECT_EQ(std::memcmp(ga.values.data(), gb.values.data(), ga.values.size() * sizeof(double)), 0);
}
