// Knox near-repeat test and ST-DBSCAN: against brute-force oracles, on implanted and null
// patterns, across thread counts, and on the St. Louis assaults and robberies.

#include "streetsafe/clusters.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <random>
#include <set>

#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogrsf_frmts.h>

#include "streetsafe/error.hpp"
#include "support.hpp"

using namespace streetsafe;

namespace {

constexpr LocalSeconds day = 86400;
const LocalSeconds t0 = local_seconds(2020, 1, 1);

Incidents make_incidents(const std::vector<double>& x, const std::vector<double>& y,
                         const std::vector<LocalSeconds>& t) {
    Incidents inc;
    inc.x = x;
    inc.y = y;
    inc.time = t;
    inc.time_end = t;
    inc.precision.assign(x.size(), TimePrecision::minute);
    inc.category.assign(x.size(), -1);
    inc.weight.assign(x.size(), 1.0);
    inc.source_row.resize(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) inc.source_row[i] = std::int64_t(i);
    return inc;
}

/// Uniform random incidents in a square of `side_m` over `span_days`, times to the minute.
Incidents random_incidents(std::size_t n, double side_m, double span_days, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> pos(0.0, side_m);
    std::uniform_int_distribution<LocalSeconds> minute(0, LocalSeconds(span_days * 1440) - 1);
    std::vector<double> x(n), y(n);
    std::vector<LocalSeconds> t(n);
    for (std::size_t i = 0; i < n; ++i) {
        x[i] = std::round(pos(rng));
        y[i] = std::round(pos(rng));
        t[i] = t0 + minute(rng) * 60;
    }
    return make_incidents(x, y, t);
}

// ---- Knox brute force: every pair, every replicate ---------------------------------------------

struct BruteKnox {
    std::vector<std::int64_t> observed;
    std::vector<double> expected, p;
};

BruteKnox brute_knox(const Incidents& inc, const std::vector<double>& dedges, const std::vector<double>& tedges,
                     int reps, std::uint64_t seed) {
    const std::size_t n = inc.size(), nd = dedges.size() - 1, nt = tedges.size() - 1;
    auto cell_counts = [&](const std::vector<LocalSeconds>& t) {
        std::vector<std::int64_t> c(nd * nt, 0);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = i + 1; j < n; ++j) {
                const double d = std::hypot(inc.x[i] - inc.x[j], inc.y[i] - inc.y[j]);
                const double dt = double(std::llabs(t[i] - t[j])) / 86400.0;
                for (std::size_t a = 0; a < nd; ++a)
                    for (std::size_t b = 0; b < nt; ++b)
                        if (d >= dedges[a] && d < dedges[a + 1] && dt >= tedges[b] && dt < tedges[b + 1])
                            ++c[a * nt + b];
            }
        return c;
    };
    BruteKnox out;
    out.observed = cell_counts(inc.time);
    std::vector<std::int64_t> ge(nd * nt, 0), sum(nd * nt, 0);
    for (int r = 0; r < reps; ++r) {
        const auto perm = knox_permutation(n, seed, std::uint64_t(r));
        std::vector<LocalSeconds> t(n);
        for (std::size_t i = 0; i < n; ++i) t[i] = inc.time[perm[i]];
        const auto c = cell_counts(t);
        for (std::size_t k = 0; k < c.size(); ++k) {
            sum[k] += c[k];
            ge[k] += c[k] >= out.observed[k];
        }
    }
    for (std::size_t k = 0; k < nd * nt; ++k) {
        out.expected.push_back(double(sum[k]) / reps);
        out.p.push_back(double(1 + ge[k]) / (reps + 1));
    }
    return out;
}

} // namespace

TEST(Knox, PermutationIsAPermutationAndSeeded) {
    const auto a = knox_permutation(1000, 7, 3);
    auto sorted = a;
    std::sort(sorted.begin(), sorted.end());
    for (std::uint32_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[i], i);
    EXPECT_EQ(a, knox_permutation(1000, 7, 3));
    EXPECT_NE(a, knox_permutation(1000, 7, 4));
    EXPECT_NE(a, knox_permutation(1000, 8, 3));
}

TEST(Knox, MatchesBruteForce) {
    for (std::uint32_t seed : {1u, 2u, 3u}) {
        const Incidents inc = random_incidents(250, 1500, 90, seed);
        KnoxOptions opt{.distance_edges_m = {0, 100, 200, 400}, .time_edges_days = {0, 3, 7, 14},
                        .permutations = 49, .seed = 100 + seed};
        const KnoxResult r = knox_test(inc, opt, {.threads = 2});
        const BruteKnox b = brute_knox(inc, opt.distance_edges_m, opt.time_edges_days, 49, opt.seed);
        EXPECT_EQ(r.observed, b.observed);
        ASSERT_EQ(r.p_value.size(), b.p.size());
        for (std::size_t k = 0; k < b.p.size(); ++k) {
            EXPECT_EQ(r.p_value[k], b.p[k]) << k;
            EXPECT_DOUBLE_EQ(r.expected[k], b.expected[k]) << k;
        }
        EXPECT_EQ(r.eligibility.used, 250u);
    }
}

TEST(Knox, SameLocationBandSplitsTheFirstBand) {
    Incidents inc = random_incidents(200, 800, 60, 11);
    for (std::size_t i = 0; i < 40; ++i) { // stack some on a few addresses
        inc.x[i] = 100.0 * double(i % 4);
        inc.y[i] = 50.0;
    }
    const KnoxResult r = knox_test(inc, {.distance_edges_m = {0, 100, 200}, .time_edges_days = {0, 7, 14},
                                         .same_location_m = 1, .permutations = 19});
    ASSERT_EQ(r.distance_bands(), 3u);
    EXPECT_EQ(r.distance_labels[0], "[0, 1) m");
    EXPECT_EQ(r.distance_labels[1], "[1, 100) m");
    EXPECT_EQ(r.time_labels[1], "[7, 14) days");
    const BruteKnox b = brute_knox(inc, {0, 1, 100, 200}, {0, 7, 14}, 19, r.seed);
    EXPECT_EQ(r.observed, b.observed);
    EXPECT_EQ(r.p_value, b.p);
}

TEST(Knox, HalfOpenBands) {
    // Distances exactly on an edge go to the upper band; so do time differences.
    const Incidents inc = make_incidents({0, 100, 0}, {0, 0, 300}, {t0, t0 + 7 * day, t0 + 1});
    const KnoxResult r = knox_test(inc, {.distance_edges_m = {0, 100, 200}, .time_edges_days = {0, 7, 14},
                                         .permutations = 9});
    EXPECT_EQ(r.observed[r.cell(1, 1)], 1); // 100 m, 7 days
    EXPECT_EQ(r.close_pairs, 1u);            // the others are 300 m and 316 m apart
}

TEST(Knox, DetectsImplantedNearRepeats) {
    std::mt19937 rng(5);
    Incidents base = random_incidents(500, 5000, 365, 5);
    std::uniform_real_distribution<double> off(-40, 40);
    std::uniform_int_distribution<LocalSeconds> lag(0, 3 * 1440);
    for (std::size_t i = 0; i < 60; ++i) { // a repeat within 60 m and 3 days of 60 incidents
        base.x.push_back(base.x[i] + off(rng));
        base.y.push_back(base.y[i] + off(rng));
        base.time.push_back(base.time[i] + lag(rng) * 60);
    }
    const Incidents inc = make_incidents(base.x, base.y, base.time);
    const KnoxResult r = knox_test(inc, {.distance_edges_m = {0, 100, 200, 300},
                                         .time_edges_days = {0, 7, 14, 21}, .permutations = 199});
    EXPECT_LT(r.p_value[r.cell(0, 0)], 0.01);
    EXPECT_GT(r.ratio[r.cell(0, 0)], 2.0);
    // Far cells show nothing special.
    EXPECT_GT(r.p_value[r.cell(2, 2)], 0.01);
}

TEST(Knox, NullPatternDoesNotOverReject) {
    int rejected = 0;
    const int datasets = 40;
    for (int s = 0; s < datasets; ++s) {
        const Incidents inc = random_incidents(300, 3000, 180, 1000u + unsigned(s));
        const KnoxResult r = knox_test(inc, {.distance_edges_m = {0, 200, 400}, .time_edges_days = {0, 14, 28},
                                             .permutations = 99, .seed = std::uint64_t(s)});
        rejected += r.p_value[r.cell(0, 0)] <= 0.05;
    }
    // Expected 2 of 40 at the 5% level; 7 or more has probability below 0.5% under the null.
    EXPECT_LE(rejected, 6);
}

TEST(Knox, IdenticalAcrossThreadCounts) {
    const Incidents inc = random_incidents(2000, 4000, 365, 21);
    const KnoxOptions opt{.permutations = 199};
    const KnoxResult one = knox_test(inc, opt, {.threads = 1});
    const KnoxResult two = knox_test(inc, opt, {.threads = 2});
    EXPECT_EQ(one.observed, two.observed);
    EXPECT_EQ(one.expected, two.expected);
    EXPECT_EQ(one.p_value, two.p_value);
    EXPECT_EQ(one.sim_min, two.sim_min);
    EXPECT_EQ(one.sim_max, two.sim_max);
}

TEST(Knox, UsesOnlyExactTimes) {
    Incidents inc = random_incidents(10, 500, 30, 4);
    inc.precision[0] = TimePrecision::month;
    inc.precision[1] = TimePrecision::day;
    inc.precision[2] = TimePrecision::none;
    inc.time[2] = no_time;
    inc.time_end[3] = inc.time[3] + 3600; // a from/to range
    inc.x[4] = std::numeric_limits<double>::quiet_NaN();
    const KnoxResult r = knox_test(inc, {.permutations = 9});
    EXPECT_EQ(r.eligibility.used, 5u);
    EXPECT_EQ(r.eligibility.coarse_time, 2u);
    EXPECT_EQ(r.eligibility.no_time, 1u);
    EXPECT_EQ(r.eligibility.time_range, 1u);
    EXPECT_EQ(r.eligibility.bad_coordinate, 1u);
    const KnoxResult s = knox_test(inc, {.permutations = 9, .use_range_start = true});
    EXPECT_EQ(s.eligibility.used, 6u);
}

TEST(Knox, RejectsBadOptions) {
    const Incidents inc = random_incidents(10, 500, 30, 4);
    EXPECT_THROW(knox_test(inc, {.distance_edges_m = {10, 100}}), InvalidInput);
    EXPECT_THROW(knox_test(inc, {.distance_edges_m = {0, 100, 100}}), InvalidInput);
    EXPECT_THROW(knox_test(inc, {.time_edges_days = {0}}), InvalidInput);
    EXPECT_THROW(knox_test(inc, {.time_edges_days = {0, 1e300}}), InvalidInput);
    EXPECT_THROW(knox_test(inc, {.same_location_m = 100}), InvalidInput);
    EXPECT_THROW(knox_test(inc, {.permutations = 0}), InvalidInput);
    EXPECT_THROW(knox_test(make_incidents({0}, {0}, {t0}), {}), InvalidInput);
}

// Run with --gtest_also_run_disabled_tests to measure the 10k × 999 speed goal.
TEST(Knox, DISABLED_Speed10kBy999) {
    const Incidents inc = random_incidents(10000, 10000, 730, 99);
    const auto start = std::chrono::steady_clock::now();
    const KnoxResult r = knox_test(inc, {.permutations = 999});
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("10k incidents x 999 permutations: %.2f s, %zu close pairs\n", s, r.close_pairs);
    EXPECT_LT(s, 10.0);
}

// ---- ST-DBSCAN brute force ----------------------------------------------------------------------

namespace {

std::vector<std::int32_t> brute_st_dbscan(const Incidents& inc, const StDbscanOptions& o, std::vector<bool>& core) {
    const std::size_t n = inc.size();
    auto near = [&](std::size_t i, std::size_t j) {
        double dt;
        if (o.metric == TimeMetric::linear) {
            dt = double(std::llabs(inc.time[i] - inc.time[j])) / 86400.0;
            if (dt > o.eps_days) return false;
        } else {
            const auto a = ((inc.time[i] % day) + day) % day, b = ((inc.time[j] % day) + day) % day;
            dt = double(std::min(std::llabs(a - b), day - std::llabs(a - b))) / 60.0;
            if (dt > o.eps_minutes_of_day) return false;
        }
        return std::hypot(inc.x[i] - inc.x[j], inc.y[i] - inc.y[j]) <= o.eps_m;
    };
    core.assign(n, false);
    for (std::size_t i = 0; i < n; ++i) {
        int c = 0;
        for (std::size_t j = 0; j < n; ++j) c += near(i, j);
        core[i] = c >= o.min_points;
    }
    std::vector<std::int32_t> label(n, -1);
    std::int32_t next = 0;
    for (std::size_t i = 0; i < n; ++i) { // lowest-index unlabelled core starts the next cluster
        if (!core[i] || label[i] >= 0) continue;
        std::vector<std::size_t> stack{i};
        label[i] = next;
        while (!stack.empty()) {
            const std::size_t a = stack.back();
            stack.pop_back();
            for (std::size_t j = 0; j < n; ++j)
                if (core[j] && label[j] < 0 && near(a, j)) {
                    label[j] = next;
                    stack.push_back(j);
                }
        }
        ++next;
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (core[i]) continue;
        for (std::size_t j = 0; j < n; ++j)
            if (core[j] && near(i, j) && (label[i] < 0 || label[j] < label[i])) label[i] = label[j];
    }
    return label;
}

} // namespace

TEST(StDbscan, MatchesBruteForce) {
    for (std::uint32_t seed : {1u, 2u, 3u, 4u}) {
        const Incidents inc = random_incidents(400, 2000, 60, seed);
        for (TimeMetric metric : {TimeMetric::linear, TimeMetric::time_of_day}) {
            const StDbscanOptions o{.eps_m = 150, .eps_days = 6, .eps_minutes_of_day = 90, .min_points = 4,
                                    .metric = metric};
            std::vector<bool> core;
            const auto expected = brute_st_dbscan(inc, o, core);
            const StDbscanResult r = st_dbscan(inc, o, {.threads = 2});
            EXPECT_EQ(r.core, core) << seed;
            EXPECT_EQ(r.labels, expected) << seed;
            const auto clusters = *std::max_element(expected.begin(), expected.end()) + 1;
            EXPECT_GT(clusters, 1) << "test data should form clusters";
            ASSERT_EQ(r.clusters.size(), std::size_t(clusters));
            for (const StCluster& c : r.clusters)
                EXPECT_EQ(c.count, std::size_t(std::count(expected.begin(), expected.end(), c.id)));
        }
    }
}

TEST(StDbscan, SplitsClustersSeparatedInTime) {
    std::vector<double> x, y;
    std::vector<LocalSeconds> t;
    for (int k = 0; k < 8; ++k) { // same 8 places, 30 days apart
        x.push_back(10.0 * k);
        y.push_back(5.0 * k);
        t.push_back(t0 + k * 3600);
        x.push_back(10.0 * k + 1);
        y.push_back(5.0 * k);
        t.push_back(t0 + 30 * day + k * 3600);
    }
    x.push_back(5000); // a lone incident: noise
    y.push_back(5000);
    t.push_back(t0);
    const Incidents inc = make_incidents(x, y, t);
    const StDbscanResult r = st_dbscan(inc, {.eps_m = 100, .eps_days = 3, .min_points = 4});
    ASSERT_EQ(r.clusters.size(), 2u);
    for (std::size_t i = 0; i < 16; ++i) EXPECT_EQ(r.labels[i], std::int32_t(i % 2)) << i;
    EXPECT_EQ(r.labels[16], StDbscanResult::noise);
    EXPECT_EQ(r.clusters[0].count, 8u);
    EXPECT_EQ(r.clusters[1].first_time, t0 + 30 * day);
    EXPECT_EQ(r.clusters[1].last_time, t0 + 30 * day + 7 * 3600);
    // Without the time radius mattering they merge.
    EXPECT_EQ(st_dbscan(inc, {.eps_m = 100, .eps_days = 40, .min_points = 4}).clusters.size(), 1u);
}

TEST(StDbscan, CircularTimeOfDayJoinsMidnight) {
    std::vector<double> x, y;
    std::vector<LocalSeconds> t;
    for (int k = 0; k < 3; ++k) {
        x.insert(x.end(), {0.0 + k, 20.0 + k});
        y.insert(y.end(), {0.0, 10.0});
        t.push_back(t0 + (10 * k) * day + 23 * 3600 + 50 * 60); // 23:50
        t.push_back(t0 + (10 * k + 4) * day + 10 * 60);         // 00:10
    }
    const Incidents inc = make_incidents(x, y, t);
    const StDbscanResult r = st_dbscan(inc, {.eps_m = 100, .eps_minutes_of_day = 30, .min_points = 6,
                                             .metric = TimeMetric::time_of_day});
    ASSERT_EQ(r.clusters.size(), 1u);
    for (auto l : r.labels) EXPECT_EQ(l, 0);
    EXPECT_EQ(r.clusters[0].peak_hour, 0); // 3 at 23 h, 3 at 0 h: ties go to the earliest hour
    EXPECT_EQ(r.clusters[0].hour_counts[23], 3);
    // 20 minutes apart on the clock; a linear 20-minute radius would see days between them.
    EXPECT_TRUE(st_dbscan(inc, {.eps_m = 100, .eps_days = 0.5, .min_points = 6}).clusters.empty());
}

TEST(StDbscan, HullsAndTable) {
    std::vector<double> x{0, 100, 100, 0, 50, 500, 500, 500, 500};
    std::vector<double> y{0, 0, 100, 100, 50, 500, 500, 500, 500};
    std::vector<LocalSeconds> t(9, t0 + 14 * 3600);
    const Incidents inc = make_incidents(x, y, t);
    const StDbscanResult r = st_dbscan(inc, {.eps_m = 80, .eps_days = 1, .min_points = 4});
    ASSERT_EQ(r.clusters.size(), 2u);
    EXPECT_FALSE(r.clusters[0].hull_degenerate);
    EXPECT_NEAR(r.clusters[0].hull_area_m2, 10000, 1e-6);
    EXPECT_DOUBLE_EQ(r.clusters[0].centroid_x, 50);
    EXPECT_EQ(r.clusters[0].outline_x.front(), r.clusters[0].outline_x.back());
    EXPECT_TRUE(r.clusters[1].hull_degenerate); // four incidents stacked on one address
    EXPECT_EQ(r.clusters[1].count, 4u);
    EXPECT_EQ(r.clusters[1].peak_hour, 14);

    const FeatureTable table = cluster_table(r);
    EXPECT_NO_THROW(table.validate());
    ASSERT_EQ(table.wkb.size(), 2u);
    const LayerStyle style = cluster_style(table);
    EXPECT_EQ(style.field, "count");
    const auto path = (test::scratch_dir("clusters") / "clusters.gpkg").string();
    write_gpkg_layer(path, "clusters", table, style);
    GDALAllRegister();
    std::unique_ptr<GDALDataset> ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR));
    ASSERT_TRUE(ds);
    OGRLayer* layer = ds->GetLayerByName("clusters");
    ASSERT_NE(layer, nullptr);
    EXPECT_EQ(layer->GetFeatureCount(), 2);
    std::unique_ptr<OGRFeature> f(layer->GetNextFeature());
    ASSERT_TRUE(f);
    EXPECT_EQ(f->GetFieldAsInteger64("count"), 5);
    // The outline of the stacked cluster is a circle of the buffer radius (10 m by default).
    const auto& ox = r.clusters[1].outline_x;
    const auto& oy = r.clusters[1].outline_y;
    double twice_area = 0;
    for (std::size_t i = 0; i + 1 < ox.size(); ++i) twice_area += ox[i] * oy[i + 1] - ox[i + 1] * oy[i];
    EXPECT_NEAR(twice_area / 2, M_PI * 100, 5.0); // positive: counter-clockwise
    EXPECT_NO_THROW(cluster_style(cluster_table(StDbscanResult{})));
}

TEST(StDbscan, RejectsBadOptions) {
    const Incidents inc = random_incidents(10, 500, 30, 4);
    EXPECT_THROW(st_dbscan(inc, {.eps_m = 0}), InvalidInput);
    EXPECT_THROW(st_dbscan(inc, {.eps_days = -1}), InvalidInput);
    EXPECT_THROW(st_dbscan(inc, {.eps_minutes_of_day = 800, .metric = TimeMetric::time_of_day}), InvalidInput);
    EXPECT_THROW(st_dbscan(inc, {.min_points = 0}), InvalidInput);
}

// ---- real data ----------------------------------------------------------------------------------

TEST(RealData, StLouisNearRepeatViolence) {
    const std::string path = test::shared_data("stlouis/slmpd_crimes_2017_2018.csv.gz");
    STREETSAFE_REQUIRE_SHARED(path);
    ReadOptions opt;
    opt.categories = {"Aggravated Assault", "Other assaults", "Robbery"};
    const Incidents inc = read_incidents(path, opt);
    EXPECT_GT(inc.size(), 14000u);
    const KnoxResult r = knox_test(inc, {.distance_edges_m = {0, 100, 200, 300, 400},
                                         .time_edges_days = {0, 7, 14, 21, 28}, .permutations = 99});
    EXPECT_EQ(r.eligibility.used, inc.size()); // every SLMPD time is to the minute
    for (std::size_t d = 0; d < r.distance_bands(); ++d) { // observed (ratio, p) per time band
        std::printf("%-12s", r.distance_labels[d].c_str());
        for (std::size_t t = 0; t < r.time_bands(); ++t)
            std::printf(" %6lld (%.2f, p=%.2f)", static_cast<long long>(r.observed[r.cell(d, t)]),
                        r.ratio[r.cell(d, t)], r.p_value[r.cell(d, t)]);
        std::printf("\n");
    }
    // The near-repeat finding: same place, short time, more pairs than chance.
    EXPECT_GT(r.ratio[r.cell(0, 0)], 1.0);
    EXPECT_LE(r.p_value[r.cell(0, 0)], 0.05);

    // ST-DBSCAN on the same incidents: 100 m, 7 days, 5 incidents; stacked addresses make clusters.
    const StDbscanResult c = st_dbscan(inc, {.eps_m = 100, .eps_days = 7, .min_points = 5});
    std::printf("ST-DBSCAN: %zu clusters, %zd noise\n", c.clusters.size(),
                std::count(c.labels.begin(), c.labels.end(), StDbscanResult::noise));
    EXPECT_GT(c.clusters.size(), 10u);
    std::size_t members = 0;
    for (const StCluster& cl : c.clusters) {
        members += cl.count;
        EXPECT_GE(cl.count, 5u);
        EXPECT_LE(cl.first_time, cl.last_time);
    }
    EXPECT_EQ(members, std::size_t(std::count_if(c.labels.begin(), c.labels.end(), [](auto l) { return l >= 0; })));
    EXPECT_NO_THROW(cluster_table(c).validate());
}
