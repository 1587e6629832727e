#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogr_geometry.h>
#include <ogrsf_frmts.h>

#include "streetsafe/error.hpp"
#include "streetsafe/evaluate.hpp"
#include "streetsafe/hotspots.hpp"
#include "support.hpp"

using namespace streetsafe;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Grid make_grid(std::size_t rows, std::size_t cols, double cell_m = 25, double origin_x = 530000,
               double origin_y = 180000) {
    Grid g;
    g.origin_x = origin_x;
    g.origin_y = origin_y;
    g.cell_m = cell_m;
    g.rows = rows;
    g.cols = cols;
    g.values.assign(rows * cols, 0.0);
    g.crs_wkt = "EPSG:27700";
    return g;
}

Incidents make_incidents(std::vector<double> x, std::vector<double> y, std::vector<double> w = {}) {
    Incidents inc;
    inc.x = std::move(x);
    inc.y = std::move(y);
    inc.weight = w.empty() ? std::vector<double>(inc.x.size(), 1.0) : std::move(w);
    return inc;
}

/// A random grid of counts 0 … 9 with a fraction of nodata cells.
Grid random_counts(std::size_t rows, std::size_t cols, double nodata_fraction, unsigned seed) {
    Grid g = make_grid(rows, cols);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> count(0, 9);
    std::uniform_real_distribution<double> u(0, 1);
    for (double& v : g.values)
        v = u(rng) < nodata_fraction ? kNaN : double(count(rng));
    return g;
}

// ---------------------------------------------------------------------------------------------
// Brute-force Gi*, O(n²), straight from Ord & Getis (1995) as ArcGIS documents it.

struct BruteFeature {
    double x, y, value;
};

struct BruteGi {
    std::vector<double> z;
    std::vector<int> neighbours;
};

BruteGi brute_gi(const std::vector<BruteFeature>& f, double band_m, int k) {
    const std::size_t n = f.size();
    double sum = 0, sum2 = 0;
    for (const auto& a : f) {
        sum += a.value;
        sum2 += a.value * a.value;
    }
    const double mean = sum / double(n);
    const double s = std::sqrt(sum2 / double(n) - mean * mean);
    BruteGi out;
    for (std::size_t i = 0; i < n; ++i) {
        std::vector<char> w(n, 0);
        w[i] = 1;
        if (k > 0) {
            std::vector<std::pair<double, std::size_t>> others;
            for (std::size_t j = 0; j < n; ++j)
                if (j != i) {
                    const double dx = f[j].x - f[i].x, dy = f[j].y - f[i].y;
                    others.emplace_back(dx * dx + dy * dy, j);
                }
            std::sort(others.begin(), others.end());
            for (int t = 0; t < k; ++t)
                w[others[std::size_t(t)].second] = 1;
        } else {
            for (std::size_t j = 0; j < n; ++j)
                if (std::hypot(f[j].x - f[i].x, f[j].y - f[i].y) <= band_m * (1 + 1e-9)) w[j] = 1;
        }
        double wx = 0, wsum = 0, w2 = 0;
        for (std::size_t j = 0; j < n; ++j) {
            wx += w[j] * f[j].value;
            wsum += w[j];
            w2 += w[j] * w[j];
        }
        const double denominator = s * std::sqrt((double(n) * w2 - wsum * wsum) / double(n - 1));
        out.z.push_back(wsum == double(n) ? 0.0 : (wx - mean * wsum) / denominator);
        out.neighbours.push_back(int(wsum));
    }
    return out;
}

/// The valid cells of a grid as features, in row-major order, and their cell indices.
std::vector<BruteFeature> grid_features(const Grid& g, std::vector<std::size_t>& cells) {
    std::vector<BruteFeature> f;
    cells.clear();
    for (std::size_t r = 0; r < g.rows; ++r)
        for (std::size_t c = 0; c < g.cols; ++c)
            if (!std::isnan(g.at(r, c))) {
                f.push_back({g.centre_x(c), g.centre_y(r), g.at(r, c)});
                cells.push_back(r * g.cols + c);
            }
    return f;
}

void expect_grid_matches_brute(const Grid& g, const GiStarOptions& options) {
    SCOPED_TRACE("band " + std::to_string(options.distance_band_m) + " k " +
                 std::to_string(options.k_neighbours));
    const GridGiStar got = gi_star(g, options);
    std::vector<std::size_t> cells;
    const std::vector<BruteFeature> f = grid_features(g, cells);
    const BruteGi want = brute_gi(f, options.distance_band_m, options.k_neighbours);
    ASSERT_EQ(got.stats.features, f.size());
    std::vector<double> p(f.size());
    for (std::size_t i = 0; i < f.size(); ++i)
        p[i] = two_sided_p(want.z[i]);
    const std::vector<double> q = fdr_adjust(p);
    for (std::size_t i = 0; i < f.size(); ++i) {
        const std::size_t cell = cells[i];
        ASSERT_NEAR(got.stats.z[cell], want.z[i], 1e-9) << "cell " << cell;
        ASSERT_NEAR(got.stats.p[cell], p[i], 1e-9) << "cell " << cell;
        ASSERT_NEAR(got.stats.p_fdr[cell], q[i], 1e-9) << "cell " << cell;
        ASSERT_EQ(got.stats.neighbours[cell], want.neighbours[i]) << "cell " << cell;
        ASSERT_EQ(got.stats.gi_bin[cell], gi_bin(want.z[i], p[i])) << "cell " << cell;
        ASSERT_EQ(got.stats.gi_bin_fdr[cell], gi_bin(want.z[i], q[i])) << "cell " << cell;
        ASSERT_EQ(got.z.values[cell], got.stats.z[cell]);
        ASSERT_EQ(got.classes.values[cell],
                  double(options.fdr ? got.stats.gi_bin_fdr[cell] : got.stats.gi_bin[cell]));
    }
    for (std::size_t cell = 0; cell < g.size(); ++cell)
        if (std::isnan(g.values[cell])) {
            ASSERT_TRUE(std::isnan(got.stats.z[cell]));
            ASSERT_TRUE(std::isnan(got.z.values[cell]));
            ASSERT_TRUE(std::isnan(got.classes.values[cell]));
            ASSERT_EQ(got.stats.gi_bin[cell], 0);
            ASSERT_EQ(got.stats.neighbours[cell], 0);
        }
}

// ---------------------------------------------------------------------------------------------
// Geometry helpers (OGR, whose predicates are GEOS')

std::unique_ptr<OGRGeometry> from_wkb(const std::vector<unsigned char>& wkb) {
    OGRGeometry* g = nullptr;
    EXPECT_EQ(OGRGeometryFactory::createFromWkb(wkb.data(), nullptr, &g, wkb.size(), wkbVariantIso),
              OGRERR_NONE);
    return std::unique_ptr<OGRGeometry>(g);
}

template <class T> const std::vector<T>& column(const FeatureTable& t, const std::string& name) {
    for (const auto& c : t.columns)
        if (c.name == name) return std::get<std::vector<T>>(c.values);
    throw std::runtime_error("no column " + name);
}

/// Sets the cells of rows [r0, r1) × columns [c0, c1) to v.
void fill(Grid& g, std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1, double v) {
    for (std::size_t r = r0; r < r1; ++r)
        for (std::size_t c = c0; c < c1; ++c)
            g.at(r, c) = v;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// FDR and classes

TEST(FdrAdjust, HandWorkedBenjaminiHochberg) {
    // Sorted: 0.005 (rank 1), 0.01 (2), 0.03 (3), 0.04 (4); m p / rank = 0.02, 0.02, 0.04, 0.04; the
    // running minimum from the top keeps them. At q = 0.05 all four are discoveries (0.04 <= 4/4 × 0.05),
    // at q = 0.01 none (0.005 > 1/4 × 0.01).
    const std::vector<double> q = fdr_adjust(std::vector<double>{0.01, 0.04, 0.03, 0.005});
    ASSERT_EQ(q.size(), 4u);
    EXPECT_NEAR(q[0], 0.02, 1e-15);
    EXPECT_NEAR(q[1], 0.04, 1e-15);
    EXPECT_NEAR(q[2], 0.04, 1e-15);
    EXPECT_NEAR(q[3], 0.02, 1e-15);
    for (const double v : q)
        EXPECT_LE(v, 0.05);
    for (const double v : q)
        EXPECT_GT(v, 0.01);
}

TEST(FdrAdjust, RunningMinimumNaNAndCap) {
    // m = 5 (the NaN does not count): sorted 0.005, 0.01, 0.03, 0.04, 0.2 → m p / rank = 0.025, 0.025,
    // 0.05, 0.05, 0.2.
    const std::vector<double> q = fdr_adjust(std::vector<double>{0.01, kNaN, 0.04, 0.03, 0.005, 0.2});
    EXPECT_NEAR(q[0], 0.025, 1e-15);
    EXPECT_TRUE(std::isnan(q[1]));
    EXPECT_NEAR(q[2], 0.05, 1e-15);
    EXPECT_NEAR(q[3], 0.05, 1e-15);
    EXPECT_NEAR(q[4], 0.025, 1e-15);
    EXPECT_NEAR(q[5], 0.2, 1e-15);
    // A later smaller ratio pulls earlier ones down; q never exceeds 1.
    const std::vector<double> r = fdr_adjust(std::vector<double>{0.9, 0.5, 0.95});
    EXPECT_NEAR(r[1], 0.95, 1e-15); // 0.5 × 3 / 1 = 1.5, capped by the running minimum 0.95
    EXPECT_NEAR(r[0], 0.95, 1e-15);
    EXPECT_NEAR(r[2], 0.95, 1e-15);
    EXPECT_TRUE(fdr_adjust(std::vector<double>{}).empty());
    EXPECT_THROW(fdr_adjust(std::vector<double>{0.5, 1.5}), InvalidInput);
    EXPECT_THROW(fdr_adjust(std::vector<double>{-0.1}), InvalidInput);
}

TEST(GiBin, ArcGisConfidenceClasses) {
    EXPECT_NEAR(two_sided_p(1.959963984540054), 0.05, 1e-12);
    EXPECT_NEAR(two_sided_p(-2.5758293035489), 0.01, 1e-12);
    EXPECT_NEAR(two_sided_p(0), 1.0, 1e-15);
    EXPECT_EQ(gi_bin(2.7, two_sided_p(2.7)), 3);
    EXPECT_EQ(gi_bin(2.0, two_sided_p(2.0)), 2);
    EXPECT_EQ(gi_bin(1.7, two_sided_p(1.7)), 1);
    EXPECT_EQ(gi_bin(1.6, two_sided_p(1.6)), 0);
    EXPECT_EQ(gi_bin(-1.7, two_sided_p(-1.7)), -1);
    EXPECT_EQ(gi_bin(-2.0, two_sided_p(-2.0)), -2);
    EXPECT_EQ(gi_bin(-3.0, two_sided_p(-3.0)), -3);
    EXPECT_EQ(gi_bin(3.0, 0.2), 0); // an FDR-adjusted p decides
    EXPECT_EQ(gi_bin(kNaN, kNaN), 0);
}

// ---------------------------------------------------------------------------------------------
// Gi* on grids

TEST(GiStarGrid, MatchesBruteForceDistanceBand) {
    const Grid g = random_counts(23, 31, 0.2, 7);
    // 25: the 4 edge neighbours; 35.36: the 8 of a queen; 50 (a lattice distance, included); 62.5
    // (between lattice distances); 175 (7 cells); 2000: every cell, so every z is 0.
    for (const double band : {25.0, 25.0 * std::sqrt(2.0), 50.0, 62.5, 175.0, 2000.0, 1e300})
        expect_grid_matches_brute(g, {.distance_band_m = band});
    expect_grid_matches_brute(g, {.distance_band_m = 50.0, .fdr = false});
    // A band under a cell: every cell is alone with itself.
    const GridGiStar alone = gi_star(g, {.distance_band_m = 10});
    EXPECT_EQ(alone.stats.isolated, alone.stats.features);
}

TEST(GiStarGrid, MatchesBruteForceNearestNeighbours) {
    const Grid g = random_counts(19, 27, 0.25, 11);
    for (const int k : {1, 4, 5, 8, 13, 40})
        expect_grid_matches_brute(g, {.k_neighbours = k});
    // Large nodata regions make cells search far: a grid that is mostly nodata.
    const Grid sparse = random_counts(30, 30, 0.95, 3);
    expect_grid_matches_brute(sparse, {.k_neighbours = 6});
}

TEST(GiStarGrid, BlockInFlatBackground) {
    // 41 × 41 cells of 1 with a 5 × 5 block of 20 in the middle; band 50 m (13 cells at 25 m).
    Grid g = make_grid(41, 41);
    std::fill(g.values.begin(), g.values.end(), 1.0);
    fill(g, 18, 23, 18, 23, 20.0);
    for (const bool fdr : {true, false}) {
        const GridGiStar gi = gi_star(g, {.distance_band_m = 50, .fdr = fdr});
        const std::size_t centre = 20 * 41 + 20;
        const auto max = std::max_element(gi.stats.z.begin(), gi.stats.z.end());
        EXPECT_EQ(std::size_t(max - gi.stats.z.begin()), centre);
        for (std::size_t i = 0; i < g.size(); ++i)
            if (i != centre) {
                EXPECT_LT(gi.stats.z[i], gi.stats.z[centre]);
            }
        EXPECT_EQ(gi.classes.at(20, 20), 3.0);
        EXPECT_EQ(gi.stats.neighbours[centre], 13);
        // Far from the block: not significant either way.
        for (const auto& [r, c] : {std::pair{0, 0}, {0, 40}, {40, 0}, {40, 40}, {5, 20}, {20, 35}}) {
            EXPECT_EQ(gi.classes.at(std::size_t(r), std::size_t(c)), 0.0) << r << "," << c;
            EXPECT_LT(std::abs(gi.z.at(std::size_t(r), std::size_t(c))), 1.0);
        }
    }
    // The known value at the centre: all 13 neighbours hold 20.
    const double n = 41 * 41, mean = (20.0 * 25 + (n - 25)) / n;
    const double s = std::sqrt((400.0 * 25 + (n - 25)) / n - mean * mean);
    const double z = (13 * 20.0 - mean * 13) / (s * std::sqrt((n * 13 - 169) / (n - 1)));
    EXPECT_NEAR(gi_star(g, {.distance_band_m = 50}).z.at(20, 20), z, 1e-12);
}

TEST(GiStarGrid, UniformPoissonHasNoFdrHotSpots) {
    Grid g = make_grid(100, 100);
    std::mt19937 rng(20240601);
    std::poisson_distribution<int> poisson(5.0);
    for (double& v : g.values)
        v = poisson(rng);
    const GridGiStar gi = gi_star(g, {.distance_band_m = 75});
    std::size_t raw = 0, fdr = 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
        raw += std::abs(gi.stats.gi_bin[i]) >= 2;
        fdr += std::abs(gi.stats.gi_bin_fdr[i]) >= 2;
    }
    // Under the null about 5% of cells are "significant" at 95% without correction, and with FDR at
    // 5% the expected share of false discoveries is at most 5% (and here, all being false, the chance of
    // any at all is about 5%).
    EXPECT_LE(double(fdr), 0.05 * double(g.size()));
    EXPECT_LE(fdr, 5u);
    EXPECT_GT(double(raw), 0.01 * double(g.size()));
    EXPECT_LT(double(raw), 0.10 * double(g.size()));
}

TEST(GiStarGrid, SameAsPointsAtCellCentresIncludingAutomaticBand) {
    const Grid g = random_counts(17, 21, 0.3, 5);
    std::vector<std::size_t> cells;
    const std::vector<BruteFeature> f = grid_features(g, cells);
    std::vector<double> x, y, v;
    for (const auto& a : f) {
        x.push_back(a.x);
        y.push_back(a.y);
        v.push_back(a.value);
    }
    for (const GiStarOptions& o :
         {GiStarOptions{}, GiStarOptions{.k_neighbours = 7}, GiStarOptions{.distance_band_m = 60}}) {
        const GridGiStar grid = gi_star(g, o);
        const GiStar points = gi_star_points(x, y, v, o);
        EXPECT_NEAR(grid.stats.distance_band_m, points.distance_band_m, 1e-9);
        EXPECT_EQ(grid.stats.k_neighbours, points.k_neighbours);
        for (std::size_t i = 0; i < f.size(); ++i) {
            ASSERT_NEAR(grid.stats.z[cells[i]], points.z[i], 1e-9);
            ASSERT_EQ(grid.stats.neighbours[cells[i]], points.neighbours[i]);
        }
    }
}

TEST(GiStarGrid, AutomaticBandFollowsTheDocumentedRule) {
    // A full 40 × 40 grid: n = 1600, K = min(30, 80) = 30; the 30th nearest cell of an interior cell
    // is at √10 cells; the band is the mean over all cells of their 30th-nearest distance.
    const Grid g = random_counts(40, 40, 0.0, 9);
    const GridGiStar gi = gi_star(g);
    std::vector<std::size_t> cells;
    const std::vector<BruteFeature> f = grid_features(g, cells);
    double sum = 0;
    for (std::size_t i = 0; i < f.size(); ++i) {
        std::vector<double> d;
        for (std::size_t j = 0; j < f.size(); ++j)
            if (j != i) d.push_back(std::hypot(f[j].x - f[i].x, f[j].y - f[i].y));
        std::nth_element(d.begin(), d.begin() + 29, d.end());
        sum += d[29];
    }
    EXPECT_NEAR(gi.stats.distance_band_m, sum / double(f.size()), 1e-9);
    EXPECT_GT(gi.stats.distance_band_m, std::sqrt(10.0) * 25 - 1e-9);
    expect_grid_matches_brute(g, {.distance_band_m = gi.stats.distance_band_m});
    // Few features: K is clamped to 3 (and to n − 1).
    Grid tiny = make_grid(1, 4);
    tiny.values = {1, 2, 3, 5};
    EXPECT_NEAR(gi_star(tiny).stats.distance_band_m, (75.0 + 50 + 50 + 75) / 4, 1e-9);
}

TEST(GiStarGrid, SameBytesForAnyThreadCount) {
    const Grid g = random_counts(200, 150, 0.1, 13);
    for (const GiStarOptions& o :
         {GiStarOptions{.distance_band_m = 130}, GiStarOptions{.k_neighbours = 9}, GiStarOptions{}}) {
        const GridGiStar one = gi_star(g, o, Context{.threads = 1});
        const GridGiStar two = gi_star(g, o, Context{.threads = 2});
        const GridGiStar many = gi_star(g, o, Context{}); // all hardware threads
        ASSERT_EQ(std::memcmp(one.z.values.data(), two.z.values.data(), g.size() * sizeof(double)), 0);
        ASSERT_EQ(std::memcmp(one.z.values.data(), many.z.values.data(), g.size() * sizeof(double)), 0);
        ASSERT_EQ(one.stats.gi_bin_fdr, many.stats.gi_bin_fdr);
        ASSERT_EQ(one.stats.distance_band_m, many.stats.distance_band_m);
    }
}

TEST(GiStarGrid, OutputGridsKeepGeotransformAndCrs) {
    Grid g = random_counts(8, 9, 0.1, 1);
    g.origin_x = 123456.5;
    g.origin_y = 654321.25;
    g.cell_m = 12.5;
    const GridGiStar gi = gi_star(g, {.distance_band_m = 30});
    for (const Grid* out : {&gi.z, &gi.classes}) {
        EXPECT_EQ(out->geotransform(), g.geotransform());
        EXPECT_EQ(out->rows, g.rows);
        EXPECT_EQ(out->cols, g.cols);
        EXPECT_EQ(out->crs_wkt, g.crs_wkt);
        EXPECT_TRUE(std::isnan(out->nodata));
    }
    EXPECT_EQ(gi.stats.distance_band_m, 30.0);
    EXPECT_EQ(gi.stats.k_neighbours, 0);
}

TEST(GiStarGrid, GridsRoundTripThroughGeoTiff) {
    const Grid g = random_counts(30, 40, 0.15, 8);
    const GridGiStar gi = gi_star(g, {.distance_band_m = 60});
    const auto dir = streetsafe::test::scratch_dir("gi_star_geotiff");
    for (const Grid* out : {&gi.z, &gi.classes}) {
        const std::string path = (dir / (out == &gi.z ? "z.tif" : "classes.tif")).string();
        write_geotiff(*out, path);
        const Grid back = read_raster(path);
        ASSERT_EQ(back.values.size(), out->values.size());
        EXPECT_EQ(back.geotransform(), out->geotransform());
        for (std::size_t i = 0; i < back.values.size(); ++i) {
            if (std::isnan(out->values[i])) {
                ASSERT_TRUE(std::isnan(back.values[i]));
            } else {
                ASSERT_EQ(back.values[i], out->values[i]);
            }
        }
    }
}

TEST(GiStarGrid, NodataValueIsHonoured) {
    Grid g = random_counts(10, 12, 0.0, 21);
    g.nodata = -9999;
    fill(g, 0, 3, 0, 12, -9999);
    const GridGiStar gi = gi_star(g, {.distance_band_m = 40});
    EXPECT_EQ(gi.stats.features, 7u * 12u);
    EXPECT_TRUE(std::isnan(gi.z.at(1, 1)));
    EXPECT_FALSE(std::isnan(gi.z.at(5, 5)));
}

TEST(GiStarGrid, ProgressAndCancellation) {
    const Grid g = random_counts(60, 60, 0.0, 2);
    double last = -1;
    bool monotone = true;
    Context context;
    context.progress = [&](double f, std::string_view) {
        monotone = monotone && f >= last - 1e-12;
        last = f;
    };
    gi_star(g, {.distance_band_m = 80}, context);
    EXPECT_TRUE(monotone);
    EXPECT_EQ(last, 1.0);
    std::atomic<bool> cancel{true};
    EXPECT_THROW(gi_star(g, {.distance_band_m = 80}, Context{.cancel = &cancel}), Cancelled);
    EXPECT_THROW(gi_star(g, {.k_neighbours = 4}, Context{.cancel = &cancel}), Cancelled);
}

TEST(GiStarGrid, Errors) {
    const Grid ok = random_counts(5, 5, 0.0, 4);
    EXPECT_THROW(gi_star(Grid{}), InvalidInput);
    Grid inconsistent = ok;
    inconsistent.values.pop_back();
    EXPECT_THROW(gi_star(inconsistent), InvalidInput);
    Grid flat = make_grid(5, 5);
    std::fill(flat.values.begin(), flat.values.end(), 3.0);
    try {
        gi_star(flat, {.distance_band_m = 50});
        ADD_FAILURE() << "no exception";
    } catch (const InvalidInput& e) {
        EXPECT_NE(std::string(e.what()).find("equal"), std::string::npos) << e.what();
    }
    Grid two = make_grid(1, 5);
    two.values = {1, 2, kNaN, kNaN, kNaN};
    EXPECT_THROW(gi_star(two, {.distance_band_m = 50}), InvalidInput);
    Grid infinite = ok;
    infinite.values[3] = std::numeric_limits<double>::infinity();
    EXPECT_THROW(gi_star(infinite, {.distance_band_m = 50}), InvalidInput);
    EXPECT_THROW(gi_star(ok, {.k_neighbours = 25}), InvalidInput); // 25 cells: at most 24
    EXPECT_NO_THROW(gi_star(ok, {.k_neighbours = 24}));
    auto message = [&](const GiStarOptions& o) {
        try {
            gi_star(ok, o);
        } catch (const InvalidInput& e) {
            return std::string(e.what());
        }
        return std::string("no exception");
    };
    EXPECT_NE(message({.distance_band_m = -1}).find("distance_band_m"), std::string::npos);
    EXPECT_NE(message({.distance_band_m = kNaN}).find("distance_band_m"), std::string::npos);
    EXPECT_NE(message({.k_neighbours = -2}).find("k_neighbours"), std::string::npos);
    const std::string both = message({.distance_band_m = 50, .k_neighbours = 3});
    EXPECT_NE(both.find("distance_band_m"), std::string::npos);
    EXPECT_NE(both.find("k_neighbours"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Gi* on points and areas

TEST(GiStarPoints, MatchesBruteForceWithTiesAndNaN) {
    // Points on a coarse lattice (many equal distances: the tie-break is exercised), some
    // duplicates, and values with NaN (not features).
    std::mt19937 rng(17);
    std::uniform_int_distribution<int> lattice(0, 14);
    std::uniform_real_distribution<double> value(0, 50);
    std::vector<double> x, y, v;
    for (int i = 0; i < 300; ++i) {
        x.push_back(400000 + 20.0 * lattice(rng));
        y.push_back(300000 + 20.0 * lattice(rng));
        v.push_back(i % 17 == 0 ? kNaN : std::round(value(rng)));
    }
    std::vector<BruteFeature> f;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < v.size(); ++i)
        if (!std::isnan(v[i])) {
            f.push_back({x[i], y[i], v[i]});
            index.push_back(i);
        }
    for (const GiStarOptions& o : {GiStarOptions{.distance_band_m = 20}, GiStarOptions{.distance_band_m = 45},
                                   GiStarOptions{.k_neighbours = 1}, GiStarOptions{.k_neighbours = 6},
                                   GiStarOptions{.k_neighbours = 30}}) {
        const GiStar got = gi_star_points(x, y, v, o);
        const BruteGi want = brute_gi(f, o.distance_band_m, o.k_neighbours);
        ASSERT_EQ(got.features, f.size());
        for (std::size_t i = 0; i < f.size(); ++i) {
            ASSERT_NEAR(got.z[index[i]], want.z[i], 1e-9) << "feature " << index[i];
            ASSERT_EQ(got.neighbours[index[i]], want.neighbours[i]);
        }
        for (std::size_t i = 0; i < v.size(); ++i)
            if (std::isnan(v[i])) {
                ASSERT_TRUE(std::isnan(got.z[i]));
            }
        // Shuffle-free determinism across threads.
        const GiStar one = gi_star_points(x, y, v, o, Context{.threads = 1});
        ASSERT_EQ(std::memcmp(one.z.data(), got.z.data(), v.size() * sizeof(double)), 0);
    }
}

TEST(GiStarAreas, CentroidsAndTable) {
    AreaLayer areas;
    const std::vector<double> values = {10, 12, 11, 30, 35, 33, 2, 1, 3, 0};
    for (std::size_t i = 0; i < values.size(); ++i) {
        areas.ids.push_back("E0100000" + std::to_string(i));
        areas.names.push_back("Area " + std::to_string(i));
        areas.population.push_back(1500);
        const double x0 = 500000 + 1000.0 * double(i % 5), y0 = 200000 + 1000.0 * double(i / 5);
        OGRPolygon square;
        OGRLinearRing ring;
        ring.addPoint(x0, y0);
        ring.addPoint(x0 + 1000, y0);
        ring.addPoint(x0 + 1000, y0 + 1000);
        ring.addPoint(x0, y0 + 1000);
        ring.closeRings();
        square.addRing(&ring);
        std::vector<unsigned char> wkb(std::size_t(square.WkbSize()));
        square.exportToWkb(wkbNDR, wkb.data(), wkbVariantIso);
        areas.wkb.push_back(wkb);
        areas.area_m2.push_back(1e6);
        areas.centroid_x.push_back(x0 + 500);
        areas.centroid_y.push_back(y0 + 500);
    }
    const GiStar gi = gi_star(areas, values, {.distance_band_m = 1000});
    std::vector<BruteFeature> f;
    for (std::size_t i = 0; i < values.size(); ++i)
        f.push_back({areas.centroid_x[i], areas.centroid_y[i], values[i]});
    const BruteGi want = brute_gi(f, 1000, 0);
    for (std::size_t i = 0; i < values.size(); ++i)
        EXPECT_NEAR(gi.z[i], want.z[i], 1e-12);
    EXPECT_EQ(gi.neighbours[0], 3); // itself, east and north
    EXPECT_EQ(gi.neighbours[6], 4);

    const FeatureTable table = gi_star_table(areas, values, gi);
    EXPECT_EQ(table.wkb.size(), values.size());
    EXPECT_EQ(column<std::string>(table, "id")[3], "E01000003");
    EXPECT_EQ(column<std::string>(table, "name")[3], "Area 3");
    EXPECT_EQ(column<double>(table, "z")[4], gi.z[4]);
    EXPECT_EQ(column<std::int64_t>(table, "gi_bin_fdr")[4], gi.gi_bin_fdr[4]);
    EXPECT_EQ(column<std::int64_t>(table, "neighbours")[6], 4);
    const LayerStyle style = gi_bin_style();
    EXPECT_EQ(style.kind, LayerStyle::Kind::categorized);
    EXPECT_EQ(style.field, "gi_bin_fdr");
    EXPECT_EQ(style.values.size(), 7u);
    EXPECT_EQ(style.colours.size(), 7u);
    EXPECT_EQ(style.labels.size(), 7u);

    // The table and style are what write_gpkg_layer accepts.
    const std::string path = (streetsafe::test::scratch_dir("gi_star_areas") / "gi.gpkg").string();
    write_gpkg_layer(path, "gi_star", table, gi_bin_style());
    {
        GDALAllRegister();
        std::unique_ptr<GDALDataset> ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR));
        ASSERT_TRUE(ds);
        OGRLayer* layer = ds->GetLayerByName("gi_star");
        ASSERT_NE(layer, nullptr);
        EXPECT_EQ(layer->GetFeatureCount(), 10);
    }

    EXPECT_THROW(gi_star(areas, std::vector<double>{1, 2, 3}), InvalidInput);
    std::vector<double> bad_x = {1, 2, kNaN}, y3 = {1, 2, 3}, v3 = {1, 2, 4};
    EXPECT_THROW(gi_star_points(bad_x, y3, v3, {.distance_band_m = 5}), InvalidInput);
    EXPECT_THROW(gi_star_points(y3, y3, std::vector<double>{1, 2}, {.distance_band_m = 5}), InvalidInput);
}

// ---------------------------------------------------------------------------------------------
// Counts

TEST(CountGrid, AlignedWithMaskEdgesAndWeights) {
    Grid like = make_grid(4, 5, 10, 1000, 2000);
    like.at(3, 4) = kNaN; // outside the study area
    const Incidents inc =
        make_incidents({1005, 1005, 1010, 1049.999, 1045, 995, 1020, 1000, 1025},
                       {1995, 1995, 1990, 1961, 1965, 1995, 2001, 2000, 1960}, {1, 2, 1, 0.5, 7, 1, 1, 1, 1});
    const Grid counts = count_grid(inc, like);
    EXPECT_EQ(counts.geotransform(), like.geotransform());
    EXPECT_EQ(counts.crs_wkt, like.crs_wkt);
    EXPECT_EQ(counts.at(0, 0), 1.0 + 2.0 + 1.0); // two inside, and (1000, 2000) on its north-west corner
    EXPECT_EQ(counts.at(1, 1), 1.0);             // (1010, 1990): on a corner, goes east and south
    EXPECT_TRUE(std::isnan(counts.at(3, 4)));    // nodata: the 0.5 and the 7 there are not counted
    EXPECT_EQ(counts.at(3, 2), 0.0);             // (1025, 1960) is on the grid's south edge: outside
    double total = 0;
    for (const double v : counts.values)
        if (!std::isnan(v)) total += v;
    // Not counted: two in the nodata cell, (995, 1995) west of the grid, (1020, 2001) north of it,
    // (1025, 1960) south of it.
    EXPECT_EQ(total, 5.0);
}

TEST(CountGrid, CoveringAllIncidents) {
    const Incidents inc =
        make_incidents({530000, 530100, 530250, 530250}, {180000, 180400, 180000, 180400}, {1, 1, 2, 0.5});
    const Grid g = count_grid(inc, 50.0);
    EXPECT_EQ(g.cell_m, 50.0);
    EXPECT_EQ(std::fmod(g.origin_x, 50.0), 0.0);
    double total = 0;
    for (const double v : g.values)
        total += v;
    EXPECT_EQ(total, 4.5); // points on the extent's edges are inside
    const Grid bounded = count_grid(inc, 100.0, Bounds{530000, 180000, 530200, 180200});
    EXPECT_EQ(bounded.rows, 2u);
    EXPECT_EQ(bounded.cols, 2u);
    EXPECT_THROW(count_grid(inc, 0.0), InvalidInput);
    EXPECT_THROW(count_grid(Incidents{}, 10.0), InvalidInput);
    EXPECT_THROW(count_grid(inc, Grid{}), InvalidInput);
}

// ---------------------------------------------------------------------------------------------
// Hotspot polygons

TEST(HotspotPolygons, TwoBlocksExactAreasCountsAndPai) {
    // 20 × 20 cells of 10 m from (1000, 2000): block A rows 2–4 × columns 3–6 (12 cells), block B
    // rows 12–13 × columns 14–15 (4 cells).
    Grid s = make_grid(20, 20, 10, 1000, 2000);
    fill(s, 2, 5, 3, 7, 10.0);
    fill(s, 12, 14, 14, 16, 5.0);
    std::vector<double> x, y;
    auto at_cell = [&](std::size_t r, std::size_t c, int n) {
        for (int i = 0; i < n; ++i) {
            x.push_back(1000 + 10.0 * double(c) + 2 + i);
            y.push_back(2000 - 10.0 * double(r) - 3 - i);
        }
    };
    at_cell(2, 3, 4);   // A
    at_cell(4, 6, 3);   // A
    at_cell(12, 15, 3); // B
    at_cell(0, 0, 6);   // elsewhere
    at_cell(19, 19, 4); // elsewhere
    const Incidents inc = make_incidents(x, y);
    HotspotSummary summary;
    const FeatureTable t =
        hotspot_polygons(s, inc, {.selection = HotspotSelection::at_least, .threshold = 1}, &summary);
    ASSERT_EQ(t.wkb.size(), 2u);
    EXPECT_EQ(column<std::int64_t>(t, "rank"), (std::vector<std::int64_t>{1, 2}));
    EXPECT_EQ(column<std::int64_t>(t, "cells"), (std::vector<std::int64_t>{12, 4}));
    EXPECT_EQ(column<double>(t, "incidents"), (std::vector<double>{7, 3}));
    EXPECT_NEAR(column<double>(t, "area_km2")[0], 0.0012, 1e-15);
    EXPECT_NEAR(column<double>(t, "area_km2")[1], 0.0004, 1e-15);
    EXPECT_NEAR(column<double>(t, "incidents_pct")[0], 35.0, 1e-12);
    EXPECT_NEAR(column<double>(t, "incidents_pct")[1], 15.0, 1e-12);
    EXPECT_NEAR(column<double>(t, "cum_incidents_pct")[1], 50.0, 1e-12);
    EXPECT_NEAR(column<double>(t, "area_pct")[0], 3.0, 1e-12);
    EXPECT_NEAR(column<double>(t, "area_pct")[1], 1.0, 1e-12);
    EXPECT_NEAR(column<double>(t, "pai")[0], 35.0 / 3.0, 1e-12);
    EXPECT_NEAR(column<double>(t, "pai")[1], 15.0, 1e-12);
    EXPECT_NEAR(column<double>(t, "incidents_per_km2")[0], 7 / 0.0012, 1e-6);
    EXPECT_EQ(column<double>(t, "mean_value"), (std::vector<double>{10, 5}));
    EXPECT_EQ(summary.polygons, 2u);
    EXPECT_EQ(summary.selected_cells, 16u);
    EXPECT_EQ(summary.study_cells, 400u);
    EXPECT_EQ(summary.incidents_study, 20.0);
    EXPECT_EQ(summary.incidents_selected, 10.0);
    EXPECT_EQ(summary.incidents_outside, 0.0);
    EXPECT_EQ(t.crs_wkt, s.crs_wkt);

    const auto a = from_wkb(t.wkb[0]);
    ASSERT_EQ(wkbFlatten(a->getGeometryType()), wkbPolygon);
    EXPECT_TRUE(a->IsValid());
    EXPECT_DOUBLE_EQ(a->toPolygon()->get_Area(), 1200.0);
    OGREnvelope e;
    a->getEnvelope(&e);
    EXPECT_EQ(e.MinX, 1030.0);
    EXPECT_EQ(e.MaxX, 1070.0);
    EXPECT_EQ(e.MinY, 1950.0);
    EXPECT_EQ(e.MaxY, 1980.0);
    const OGRLinearRing* shell = a->toPolygon()->getExteriorRing();
    EXPECT_EQ(shell->getNumPoints(), 5); // a rectangle: collinear cell corners removed
    EXPECT_FALSE(shell->isClockwise());
    const auto b = from_wkb(t.wkb[1]);
    EXPECT_DOUBLE_EQ(b->toPolygon()->get_Area(), 400.0);
}

TEST(HotspotPolygons, HoleKeptAndIncidentsInTheHoleNotCounted) {
    // A 3 × 3 ring of cells around an unselected centre, and a pinched ring (a corner cell missing,
    // so the hole touches the outside at one point).
    Grid s = make_grid(12, 12, 10, 0, 120);
    fill(s, 1, 4, 1, 4, 1.0);
    s.at(2, 2) = 0;
    fill(s, 6, 9, 6, 9, 1.0);
    s.at(7, 7) = 0;
    s.at(6, 8) = 0;
    const Incidents inc = make_incidents({25, 15, 75, 85}, {95, 105, 45, 35}); // hole, ring, hole, ring
    const FeatureTable t =
        hotspot_polygons(s, inc, {.selection = HotspotSelection::at_least, .threshold = 0.5});
    ASSERT_EQ(t.wkb.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        const auto g = from_wkb(t.wkb[i]);
        ASSERT_EQ(wkbFlatten(g->getGeometryType()), wkbPolygon);
        EXPECT_TRUE(g->IsValid()) << i;
        const OGRPolygon* p = g->toPolygon();
        EXPECT_EQ(p->getNumInteriorRings(), 1) << i;
        EXPECT_TRUE(p->getInteriorRing(0)->isClockwise());
        EXPECT_EQ(p->getInteriorRing(0)->getNumPoints(), 5);
        const double cells = double(column<std::int64_t>(t, "cells")[i]);
        EXPECT_DOUBLE_EQ(p->get_Area(), cells * 100);
        EXPECT_EQ(column<double>(t, "incidents")[i], 1.0);
    }
    EXPECT_EQ(column<std::int64_t>(t, "cells"), (std::vector<std::int64_t>{8, 7}));
}

TEST(HotspotPolygons, PaiByHandWithNodataAndOutsideIncidents) {
    // 10 × 10 cells of 100 m, 20 of them nodata: the study area is 80 cells = 0.8 km².
    Grid s = make_grid(10, 10, 100, 0, 1000);
    fill(s, 8, 10, 0, 10, kNaN);
    fill(s, 4, 6, 4, 6, 9.0); // the hotspot: 4 cells, 5% of the study area
    std::vector<double> x, y;
    for (int i = 0; i < 10; ++i) { // inside the hotspot
        x.push_back(450 + 5 * i);
        y.push_back(550 - 5 * i);
    }
    for (int i = 0; i < 10; ++i) { // elsewhere in the study area
        x.push_back(50 + 90.0 * i);
        y.push_back(950);
    }
    x.push_back(50); // in a nodata cell
    y.push_back(50);
    x.push_back(-50); // outside the grid
    y.push_back(500);
    HotspotSummary summary;
    const FeatureTable t = hotspot_polygons(
        s, make_incidents(x, y), {.selection = HotspotSelection::at_least, .threshold = 5}, &summary);
    ASSERT_EQ(t.wkb.size(), 1u);
    // Share of incidents 10 / 20 = 50%, share of area 4 / 80 = 5%: PAI = 10.
    EXPECT_NEAR(column<double>(t, "incidents_pct")[0], 50.0, 1e-12);
    EXPECT_NEAR(column<double>(t, "area_pct")[0], 5.0, 1e-12);
    EXPECT_NEAR(column<double>(t, "pai")[0], 10.0, 1e-12);
    EXPECT_NEAR(summary.study_area_km2, 0.8, 1e-12);
    EXPECT_EQ(summary.incidents_study, 20.0);
    EXPECT_EQ(summary.incidents_outside, 2.0);
    EXPECT_EQ(summary.lowest_selected_value, 9.0);
}

TEST(HotspotPolygons, TopPercentCountsTiesAndZeros) {
    // 10 × 10 cells all 1: top 5% is exactly 5 cells, ties broken by row-major index → the first five
    // cells of the top row, one polygon.
    Grid s = make_grid(10, 10, 10, 0, 100);
    std::fill(s.values.begin(), s.values.end(), 1.0);
    const Incidents none;
    HotspotSummary summary;
    FeatureTable t = hotspot_polygons(s, none, {.top_percent = 5}, &summary);
    ASSERT_EQ(t.wkb.size(), 1u);
    EXPECT_EQ(column<std::int64_t>(t, "cells")[0], 5);
    OGREnvelope e;
    from_wkb(t.wkb[0])->getEnvelope(&e);
    EXPECT_EQ(e.MinX, 0.0);
    EXPECT_EQ(e.MaxX, 50.0);
    EXPECT_EQ(e.MinY, 90.0);
    EXPECT_TRUE(std::isnan(column<double>(t, "pai")[0])); // no incidents: PAI undefined
    // ceil: 2.5% of 100 cells is 3 cells.
    t = hotspot_polygons(s, none, {.top_percent = 2.5});
    EXPECT_EQ(column<std::int64_t>(t, "cells")[0], 3);
    // The largest values win over ties; cells at 0 are never hot.
    std::fill(s.values.begin(), s.values.end(), 0.0);
    s.at(9, 9) = 3;
    s.at(0, 0) = 2;
    s.at(5, 5) = 2;
    t = hotspot_polygons(s, none, {.top_percent = 2}, &summary);
    ASSERT_EQ(t.wkb.size(), 2u);
    EXPECT_EQ(summary.selected_cells, 2u); // (9, 9) and the first of the tied 2s, (0, 0)
    EXPECT_EQ(summary.lowest_selected_value, 2.0);
    for (const auto& wkb : t.wkb) { // lone cells: squares
        const auto g = from_wkb(wkb);
        EXPECT_TRUE(g->IsValid());
        EXPECT_DOUBLE_EQ(g->toPolygon()->get_Area(), 100.0);
        EXPECT_FALSE(g->toPolygon()->getExteriorRing()->isClockwise());
        EXPECT_EQ(g->toPolygon()->getExteriorRing()->getNumPoints(), 5);
    }
    from_wkb(t.wkb[1])->getEnvelope(&e); // ranks tie on incidents (0): the higher mean, (9, 9), first
    EXPECT_EQ(e.MinX, 0.0);
    EXPECT_EQ(e.MaxY, 100.0);
    t = hotspot_polygons(s, none, {.top_percent = 50}, &summary);
    EXPECT_EQ(summary.selected_cells, 3u);
    // min_cells drops specks.
    t = hotspot_polygons(s, none, {.top_percent = 50, .min_cells = 2}, &summary);
    EXPECT_EQ(t.wkb.size(), 0u);
    EXPECT_EQ(summary.polygons, 0u);
}

TEST(HotspotPolygons, TopPercentSelectsTheCellsEvaluateRanks) {
    // The polygons cover exactly the cells whose PAI evaluate_hotspots reports, for shares whose
    // cell counts round awkwardly (7% of 100 is 7.000000000000001 in floating point).
    Grid s = random_counts(20, 25, 0.1, 31);
    for (double& v : s.values)
        if (!std::isnan(v)) v += 0.5; // every valid cell positive
    const Incidents none;
    for (const double percent : {0.1, 1.0, 5.0, 7.0, 12.5, 33.3, 100.0}) {
        SCOPED_TRACE(percent);
        std::vector<std::size_t> want = hotspot_cells(s, percent / 100);
        HotspotSummary summary;
        const FeatureTable t = hotspot_polygons(s, none, {.top_percent = percent}, &summary);
        EXPECT_EQ(summary.selected_cells, want.size());
        // Every wanted cell centre lies in exactly one polygon, and the areas add up.
        std::vector<std::unique_ptr<OGRGeometry>> polygons;
        for (const auto& wkb : t.wkb)
            polygons.push_back(from_wkb(wkb));
        for (const std::size_t cell : want) {
            OGRPoint centre(s.centre_x(cell % s.cols), s.centre_y(cell / s.cols));
            int in = 0;
            for (const auto& p : polygons)
                in += p->Contains(&centre) ? 1 : 0;
            ASSERT_EQ(in, 1) << "cell " << cell;
        }
    }
}

TEST(HotspotPolygons, MembershipMatchesGeosPointInPolygonOnRandomShapes) {
    // A random smooth-ish surface and random masks: many components, holes and pinches.
    std::mt19937 rng(99);
    std::uniform_real_distribution<double> u(0, 1);
    for (int trial = 0; trial < 4; ++trial) {
        Grid s = make_grid(40, 50, 25, 530000, 181000);
        for (double& v : s.values)
            v = u(rng);
        if (trial >= 2) { // smooth it: blobs with holes
            Grid smooth = s;
            for (std::size_t r = 0; r < s.rows; ++r)
                for (std::size_t c = 0; c < s.cols; ++c) {
                    double sum = 0;
                    int n = 0;
                    for (std::size_t rr = r > 2 ? r - 2 : 0; rr < std::min(s.rows, r + 3); ++rr)
                        for (std::size_t cc = c > 2 ? c - 2 : 0; cc < std::min(s.cols, c + 3); ++cc, ++n)
                            sum += s.at(rr, cc);
                    smooth.at(r, c) = sum / n;
                }
            s = smooth;
        }
        if (trial % 2 == 1) fill(s, 10, 14, 0, 50, kNaN);
        std::vector<double> x, y, w;
        for (int i = 0; i < 3000; ++i) {
            x.push_back(530000 - 30 + u(rng) * (50 * 25 + 60));
            y.push_back(181000 + 30 - u(rng) * (40 * 25 + 60));
            w.push_back(0.5 + u(rng));
        }
        const Incidents inc = make_incidents(x, y, w);
        HotspotSummary summary;
        const FeatureTable t = hotspot_polygons(s, inc, {.top_percent = 30}, &summary);
        SCOPED_TRACE("trial " + std::to_string(trial) + ": " + std::to_string(t.wkb.size()) + " polygons");
        ASSERT_GT(t.wkb.size(), 3u);
        std::vector<double> contained(t.wkb.size(), 0.0);
        double area = 0;
        int holes = 0;
        for (std::size_t k = 0; k < t.wkb.size(); ++k) {
            const auto g = from_wkb(t.wkb[k]);
            ASSERT_EQ(wkbFlatten(g->getGeometryType()), wkbPolygon);
            ASSERT_TRUE(g->IsValid()) << k;
            const OGRPolygon* p = g->toPolygon();
            ASSERT_FALSE(p->getExteriorRing()->isClockwise());
            holes += p->getNumInteriorRings();
            EXPECT_NEAR(p->get_Area(), double(column<std::int64_t>(t, "cells")[k]) * 625.0, 1e-6);
            area += p->get_Area();
            OGREnvelope e;
            p->getEnvelope(&e);
            for (std::size_t i = 0; i < x.size(); ++i) {
                if (x[i] < e.MinX || x[i] > e.MaxX || y[i] < e.MinY || y[i] > e.MaxY) continue;
                OGRPoint pt(x[i], y[i]);
                if (p->Contains(&pt)) contained[k] += w[i];
            }
        }
        EXPECT_GT(holes, 0);
        EXPECT_NEAR(area, double(summary.selected_cells) * 625.0, 1e-6);
        for (std::size_t k = 0; k < t.wkb.size(); ++k)
            EXPECT_NEAR(column<double>(t, "incidents")[k], contained[k], 1e-9) << "polygon " << k;
        // Ranked by incidents, descending.
        const auto& incidents = column<double>(t, "incidents");
        EXPECT_TRUE(std::is_sorted(incidents.rbegin(), incidents.rend()));
    }
}

TEST(HotspotPolygons, GiStarSelectionFindsTheCluster) {
    // Background of scattered incidents and a dense cluster around (1250, 1750).
    std::mt19937 rng(5);
    std::uniform_real_distribution<double> u(0, 1);
    std::normal_distribution<double> n(0, 30);
    std::vector<double> x, y;
    for (int i = 0; i < 400; ++i) {
        x.push_back(1000 + 1000 * u(rng));
        y.push_back(1000 + 1000 * u(rng));
    }
    for (int i = 0; i < 200; ++i) {
        x.push_back(1250 + n(rng));
        y.push_back(1750 + n(rng));
    }
    const Incidents inc = make_incidents(x, y);
    const Grid surface = count_grid(inc, 25.0, Bounds{1000, 1000, 2000, 2000});
    HotspotSummary summary;
    double last = -1;
    bool monotone = true;
    Context context;
    context.progress = [&](double f, std::string_view) {
        monotone = monotone && f >= last - 1e-12;
        last = f;
    };
    const FeatureTable t = hotspot_polygons(
        surface, inc, {.selection = HotspotSelection::gi_star, .gi = {.distance_band_m = 75}}, &summary,
        context);
    EXPECT_TRUE(monotone);
    EXPECT_EQ(last, 1.0);
    ASSERT_GE(t.wkb.size(), 1u);
    ASSERT_TRUE(summary.gi.has_value());
    EXPECT_EQ(summary.gi->distance_band_m, 75.0);
    const auto top = from_wkb(t.wkb[0]);
    OGRPoint centre(1250, 1750);
    EXPECT_TRUE(top->Contains(&centre));
    EXPECT_GT(column<double>(t, "incidents")[0], 150.0);
    EXPECT_GT(column<double>(t, "pai")[0], 5.0);
    // Every selected cell is hot at 95%+ with FDR.
    const Grid counts = count_grid(inc, surface);
    const GridGiStar gi = gi_star(counts, {.distance_band_m = 75});
    std::size_t hot = 0;
    for (const std::int8_t b : gi.stats.gi_bin_fdr)
        hot += b >= 2;
    EXPECT_EQ(summary.selected_cells, hot);
}

TEST(HotspotPolygons, Errors) {
    const Incidents inc = make_incidents({1}, {1});
    EXPECT_THROW(hotspot_polygons(Grid{}, inc), InvalidInput);
    Grid all_nodata = make_grid(3, 3);
    std::fill(all_nodata.values.begin(), all_nodata.values.end(), kNaN);
    EXPECT_THROW(hotspot_polygons(all_nodata, inc), InvalidInput);
    const Grid ok = make_grid(3, 3);
    auto message = [&](const HotspotPolygonOptions& o) {
        try {
            hotspot_polygons(ok, inc, o);
        } catch (const InvalidInput& e) {
            return std::string(e.what());
        }
        return std::string("no exception");
    };
    EXPECT_NE(message({.top_percent = 0}).find("top_percent"), std::string::npos);
    EXPECT_NE(message({.top_percent = 101}).find("top_percent"), std::string::npos);
    EXPECT_NE(message({.min_gi_bin = 4}).find("min_gi_bin"), std::string::npos);
    EXPECT_NE(message({.threshold = kNaN}).find("threshold"), std::string::npos);
    EXPECT_NE(message({.min_cells = 0}).find("min_cells"), std::string::npos);
    EXPECT_NE(message({.gi = {.k_neighbours = -1}}).find("HotspotPolygonOptions::gi"), std::string::npos);
    Incidents bad = inc;
    bad.weight = {1, 2};
    EXPECT_THROW(hotspot_polygons(ok, bad), InvalidInput);
}

TEST(HotspotPolygons, WriteGeoPackageStyled) {
    Grid s = make_grid(20, 20, 10, 1000, 2000);
    fill(s, 2, 5, 3, 7, 10.0);
    fill(s, 12, 14, 14, 16, 5.0);
    const Incidents inc = make_incidents({1035, 1045, 1145}, {1975, 1965, 1875});
    const FeatureTable t =
        hotspot_polygons(s, inc, {.selection = HotspotSelection::at_least, .threshold = 1});
    const std::string path = (streetsafe::test::scratch_dir("hotspots_gpkg") / "hotspots.gpkg").string();
    write_hotspots_gpkg(path, "hotspots", t);
    // Without incidents PAI is NaN everywhere: written with a single-colour style.
    write_hotspots_gpkg(
        path, "no_incidents",
        hotspot_polygons(s, Incidents{}, {.selection = HotspotSelection::at_least, .threshold = 1}));
    // No polygons at all.
    write_hotspots_gpkg(path, "empty",
                        hotspot_polygons(s, inc, {.selection = HotspotSelection::at_least, .threshold = 99}));
    EXPECT_THROW(write_hotspots_gpkg(path, "bad", t, "no_such_column"), InvalidInput);
    EXPECT_THROW(write_hotspots_gpkg(path, "bad", t, "pai", 0), InvalidInput);

    GDALAllRegister();
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR));
    ASSERT_TRUE(ds);
    OGRLayer* layer = ds->GetLayerByName("hotspots");
    ASSERT_NE(layer, nullptr);
    EXPECT_EQ(layer->GetFeatureCount(), 2);
    layer->ResetReading();
    std::unique_ptr<OGRFeature> first(layer->GetNextFeature());
    ASSERT_TRUE(first);
    EXPECT_EQ(first->GetFieldAsInteger64("rank"), 1);
    EXPECT_NEAR(first->GetFieldAsDouble("incidents"), 2.0, 1e-12);
    EXPECT_NEAR(first->GetGeometryRef()->toPolygon()->get_Area(), 1200.0, 1e-9);
    OGRLayer* styles = ds->GetLayerByName("layer_styles");
    ASSERT_NE(styles, nullptr);
    EXPECT_EQ(styles->GetFeatureCount(), 3);
    ASSERT_NE(ds->GetLayerByName("no_incidents"), nullptr);
    EXPECT_EQ(ds->GetLayerByName("no_incidents")->GetFeatureCount(), 2);
    ASSERT_NE(ds->GetLayerByName("empty"), nullptr);
    EXPECT_EQ(ds->GetLayerByName("empty")->GetFeatureCount(), 0);
}
