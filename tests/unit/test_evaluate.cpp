#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "streetsafe/error.hpp"
#include "streetsafe/evaluate.hpp"
#include "streetsafe/grid.hpp"
#include "streetsafe/incidents.hpp"
#include "streetsafe/time.hpp"

using namespace streetsafe;

namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

/// A grid with origin (0, rows × cell), so that cell (r, c) spans x in [c, c + 1) × cell and
/// y in (rows − r − 1, rows − r] × cell.
Grid make_grid(std::size_t rows, std::size_t cols, double cell, std::vector<double> values) {
    Grid g;
    g.origin_x = 0;
    g.origin_y = double(rows) * cell;
    g.cell_m = cell;
    g.rows = rows;
    g.cols = cols;
    g.values = std::move(values);
    return g;
}

Incidents points(const std::vector<std::pair<double, double>>& xy, std::vector<double> weight = {}) {
    Incidents inc;
    for (const auto& [x, y] : xy) {
        inc.x.push_back(x);
        inc.y.push_back(y);
    }
    inc.weight = std::move(weight);
    return inc;
}

/// `count` points at the centre of cell (r, c) of a grid like make_grid's.
void add_in_cell(std::vector<std::pair<double, double>>& xy, const Grid& g, std::size_t r, std::size_t c,
                 int count) {
    for (int i = 0; i < count; ++i)
        xy.emplace_back(g.centre_x(c), g.centre_y(r));
}

template <class F> std::string invalid_input_message(F&& f) {
    try {
        f();
    } catch (const InvalidInput& e) {
        return e.what();
    } catch (...) {
        return "<another exception>";
    }
    return "<no exception>";
}

} // namespace

// A 4 × 5 surface with distinct values, one nodata cell, test incidents placed by hand: every
// measure follows from counting.
TEST(EvaluateHotspots, PaiOfAHandBuiltSurfaceIsExact) {
    // Values: cell index i has value i, except the top two cells chosen by hand and one nodata.
    std::vector<double> v(20);
    std::iota(v.begin(), v.end(), 0.0);
    v[7] = 100;           // rank 1: (1, 2)
    v[13] = 90;           // rank 2: (2, 3)
    v[19] = not_a_number; // nodata: (3, 4)
    Grid g = make_grid(4, 5, 10.0, v);

    std::vector<std::pair<double, double>> xy;
    add_in_cell(xy, g, 1, 2, 4); // 4 in the top cell
    add_in_cell(xy, g, 2, 3, 1); // 1 in the second
    add_in_cell(xy, g, 0, 0, 3); // 3 in a cold cell
    add_in_cell(xy, g, 3, 0, 2); // 2 in another cold cell
    xy.emplace_back(-5.0, 5.0);  // outside the grid
    xy.emplace_back(500.0, 5.0); // outside the grid
    add_in_cell(xy, g, 3, 4, 1); // in the nodata cell
    const Incidents test = points(xy);

    // 19 valid cells; 10 % of them is 1.9 cells, so the hotspots are the top 2 cells.
    const HotspotEvaluation e = evaluate_hotspots(g, test, 0.10);
    EXPECT_EQ(e.study_cells, 19u);
    EXPECT_EQ(e.hotspot_cells, 2u);
    EXPECT_DOUBLE_EQ(e.hotspot_share, 2.0 / 19.0);
    EXPECT_DOUBLE_EQ(e.study_area_m2, 19 * 100.0);
    EXPECT_DOUBLE_EQ(e.hotspot_area_m2, 2 * 100.0);
    EXPECT_EQ(e.test.incidents, 13u);
    EXPECT_EQ(e.test.in_study_area, 10u);
    EXPECT_EQ(e.test.outside_grid, 2u);
    EXPECT_EQ(e.test.in_nodata, 1u);
    EXPECT_EQ(e.test.weight_in_study_area, 10.0);
    EXPECT_EQ(e.test.weight_outside, 3.0);
    EXPECT_EQ(e.test_in_hotspots, 5.0);
    EXPECT_DOUBLE_EQ(e.hit_rate, 0.5);
    EXPECT_DOUBLE_EQ(e.pai, (5.0 / 10.0) / (2.0 / 19.0));
    // The best two cells for these test incidents hold 4 + 3.
    EXPECT_DOUBLE_EQ(e.pai_max, (7.0 / 10.0) / (2.0 / 19.0));
    EXPECT_DOUBLE_EQ(e.pei, 5.0 / 7.0);
    EXPECT_TRUE(std::isnan(e.rri));
    EXPECT_TRUE(std::isnan(e.train_in_hotspots));
    EXPECT_EQ(e.test.summary(),
              "10 of 13 incidents in the study area (2 outside the grid, 1 in nodata cells)");

    EXPECT_DOUBLE_EQ(pai(g, test, 0.10), e.pai);
    EXPECT_DOUBLE_EQ(pei(g, test, 0.10), e.pei);
    EXPECT_DOUBLE_EQ(hit_rate(g, test, 0.10), 0.5);
    EXPECT_EQ(hotspot_cells(g, 0.10), (std::vector<std::size_t>{7, 13}));

    // One cell (5 % of 19 is 0.95 cells).
    const HotspotEvaluation one = evaluate_hotspots(g, test, 0.05);
    EXPECT_EQ(one.hotspot_cells, 1u);
    EXPECT_DOUBLE_EQ(one.pai, (4.0 / 10.0) / (1.0 / 19.0));
    EXPECT_DOUBLE_EQ(one.pei, 1.0);
}

TEST(EvaluateHotspots, RriIsHandComputed) {
    std::vector<double> v(9, 0.0);
    v[4] = 5; // the hotspot: the centre cell of a 3 × 3 grid
    v[0] = 1;
    const Grid g = make_grid(3, 3, 100.0, v);
    std::vector<std::pair<double, double>> train_xy, test_xy;
    add_in_cell(train_xy, g, 1, 1, 6); // 6 of 10 training incidents in the hotspot
    add_in_cell(train_xy, g, 0, 0, 4);
    add_in_cell(test_xy, g, 1, 1, 3); // 3 of 8 test incidents
    add_in_cell(test_xy, g, 2, 2, 5);
    const Incidents train = points(train_xy), test = points(test_xy);
    const HotspotEvaluation e = evaluate_hotspots(g, test, 1.0 / 9.0, &train);
    EXPECT_EQ(e.hotspot_cells, 1u);
    EXPECT_EQ(e.train_in_hotspots, 6.0);
    EXPECT_EQ(e.train.weight_in_study_area, 10.0);
    EXPECT_DOUBLE_EQ(e.rri, (3.0 / 8.0) / (6.0 / 10.0));
    EXPECT_DOUBLE_EQ(rri(g, train, test, 1.0 / 9.0), e.rri);
    EXPECT_DOUBLE_EQ(e.pai, (3.0 / 8.0) / (1.0 / 9.0));
}

TEST(EvaluateHotspots, WeightsCountAsIncidents) {
    const Grid g = make_grid(1, 4, 10.0, {4, 3, 2, 1});
    const Incidents test = points({{5, 5}, {15, 5}, {35, 5}}, {2.0, 0.5, 1.5});
    const HotspotEvaluation e = evaluate_hotspots(g, test, 0.25);
    EXPECT_EQ(e.test.weight_in_study_area, 4.0);
    EXPECT_EQ(e.test_in_hotspots, 2.0);
    EXPECT_DOUBLE_EQ(e.pai, (2.0 / 4.0) / 0.25);
}

TEST(EvaluateHotspots, TiesAreBrokenByTheNorthWesternmostCell) {
    const Grid g = make_grid(2, 3, 1.0, {1, 2, 2, 2, 1, 2});
    EXPECT_EQ(hotspot_cells(g, 0.5), (std::vector<std::size_t>{1, 2, 3}));
    EXPECT_EQ(hotspot_cells(g, 1.0), (std::vector<std::size_t>{1, 2, 3, 5, 0, 4}));
}

TEST(EvaluateHotspots, ShareTimesCellsIsNotRoundedUpByFloatingPoint) {
    const Grid g = make_grid(10, 10, 1.0, std::vector<double>(100, 1.0));
    EXPECT_EQ(hotspot_cells(g, 0.05).size(), 5u); // 0.05 × 100 = 5.000000000000001
    EXPECT_EQ(hotspot_cells(g, 0.07).size(), 7u); // 0.07 × 100 = 7.000000000000001
    EXPECT_EQ(hotspot_cells(g, 0.051).size(), 6u);
    EXPECT_EQ(hotspot_cells(g, 0.0001).size(), 1u); // at least one cell
    EXPECT_EQ(hotspot_cells(g, 1.0).size(), 100u);
}

TEST(EvaluateHotspots, CellsAreHalfOpenWestInclusiveNorthInclusive) {
    // 2 × 2 cells of 10 m; origin (0, 20). A point on the edge x = 10 belongs to the eastern cell, one
    // on y = 10 to the southern cell.
    const Grid g = make_grid(2, 2, 10.0, {0, 0, 0, 0});
    CoverageReport report;
    const Grid counts = count_baseline(points({{10, 15}, {5, 10}, {0, 20}, {20, 5}, {5, 0}}), g, &report);
    EXPECT_EQ(counts.values, (std::vector<double>{1, 1, 1, 0})); // (0,20) → cell 0; (5,10) → cell 2
    EXPECT_EQ(report.outside_grid, 2u);                          // x = 20 and y = 0 are outside
    EXPECT_EQ(report.in_study_area, 3u);
}

TEST(EvaluateHotspots, OracleSurfaceHasPeiOne) {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> nx(500, 120), ny(400, 90);
    std::vector<std::pair<double, double>> xy;
    for (int i = 0; i < 400; ++i)
        xy.emplace_back(nx(rng), ny(rng));
    const Incidents test = points(xy);
    const Grid like = make_grid(40, 50, 20.0, std::vector<double>(2000, 0.0));
    const Grid oracle = count_baseline(test, like);
    const HotspotCurve c = evaluate_hotspot_curve(oracle, test);
    ASSERT_EQ(c.size(), 40u);
    for (std::size_t i = 0; i < c.size(); ++i) {
        EXPECT_EQ(c.pei[i], 1.0) << "share " << c.area_share[i];
        EXPECT_EQ(c.pai[i], c.pai_max[i]);
    }
}

TEST(EvaluateHotspots, CurvesAreMonotoneAndAgreeWithSingleShares) {
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<double> values(30 * 30);
    for (double& v : values)
        v = u(rng);
    for (std::size_t i = 0; i < values.size(); i += 37)
        values[i] = not_a_number; // some nodata
    const Grid surface = make_grid(30, 30, 10.0, values);
    std::normal_distribution<double> n(150, 60);
    std::vector<std::pair<double, double>> test_xy, train_xy;
    for (int i = 0; i < 500; ++i)
        test_xy.emplace_back(n(rng), n(rng));
    for (int i = 0; i < 700; ++i)
        train_xy.emplace_back(n(rng), n(rng));
    const Incidents test = points(test_xy), train = points(train_xy);
    const std::vector<double> shares = area_shares();
    const HotspotCurve c = evaluate_hotspot_curve(surface, test, shares, &train);
    ASSERT_EQ(c.size(), shares.size());
    EXPECT_GT(c.test.outside_grid, 0u); // the normal cloud spills over the grid's edges
    for (std::size_t i = 0; i < c.size(); ++i) {
        // Up to rounding: k / |A| = 0.12 for a share of 0.12000000000000001.
        EXPECT_GE(c.hotspot_share[i], c.area_share[i] * (1 - 1e-9));
        EXPECT_LE(c.pei[i], 1.0);
        EXPECT_GE(c.pei[i], 0.0);
        if (i > 0) {
            EXPECT_GE(c.hit_rate[i], c.hit_rate[i - 1]);
            EXPECT_GE(c.hotspot_share[i], c.hotspot_share[i - 1]);
            EXPECT_GE(c.hotspot_cells[i], c.hotspot_cells[i - 1]);
        }
        const HotspotEvaluation e = evaluate_hotspots(surface, test, shares[i], &train);
        EXPECT_EQ(e.pai, c.pai[i]);
        EXPECT_EQ(e.pei, c.pei[i]);
        EXPECT_EQ(e.rri, c.rri[i]);
        EXPECT_EQ(e.hit_rate, c.hit_rate[i]);
    }
}

TEST(EvaluateHotspots, ShufflingTheIncidentsChangesNothing) {
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> u(0, 200);
    std::vector<double> values(20 * 20);
    for (double& v : values)
        v = std::floor(u(rng) / 50); // many ties
    const Grid surface = make_grid(20, 20, 10.0, values);
    std::vector<std::pair<double, double>> xy;
    for (int i = 0; i < 300; ++i)
        xy.emplace_back(u(rng), u(rng));
    const HotspotCurve a = evaluate_hotspot_curve(surface, points(xy));
    std::shuffle(xy.begin(), xy.end(), rng);
    const HotspotCurve b = evaluate_hotspot_curve(surface, points(xy));
    EXPECT_EQ(a.pai, b.pai);
    EXPECT_EQ(a.pei, b.pei);
}

TEST(EvaluateHotspots, AreaShares) {
    const std::vector<double> s = area_shares();
    ASSERT_EQ(s.size(), 40u);
    EXPECT_EQ(s.front(), 0.005);
    EXPECT_EQ(s.back(), 0.2);
    for (std::size_t i = 0; i < s.size(); ++i)
        EXPECT_EQ(s[i], std::min(0.005 + double(i) * 0.005, 0.2));
    EXPECT_EQ(area_shares(0.1, 0.1, 0.05), (std::vector<double>{0.1}));
    EXPECT_THROW(area_shares(0, 0.2, 0.01), InvalidInput);
    EXPECT_THROW(area_shares(0.1, 1.5, 0.01), InvalidInput);
    EXPECT_THROW(area_shares(0.1, 0.2, 0), InvalidInput);
}

TEST(EvaluateHotspots, BadInputsAreInvalidInput) {
    const Grid g = make_grid(2, 2, 10.0, {1, 2, 3, 4});
    const Incidents test = points({{5, 5}});
    EXPECT_NE(invalid_input_message([&] { (void)pai(g, test, 0.0); }).find("area_share"), std::string::npos);
    EXPECT_NE(invalid_input_message([&] { (void)pai(g, test, 1.5); }).find("area_share"), std::string::npos);
    EXPECT_NE(invalid_input_message([&] {
                  (void)pai(g, points({{50, 50}}), 0.5);
              }).find("no test incident"),
              std::string::npos);
    EXPECT_NE(invalid_input_message([&] {
                  (void)pai(g, points({{5, 5}}, {-1.0}), 0.5);
              }).find("weight"),
              std::string::npos);
    EXPECT_NE(invalid_input_message([&] {
                  (void)pai(make_grid(2, 2, 10.0, {not_a_number, not_a_number, not_a_number, not_a_number}),
                            test, 0.5);
              }).find("no valid"),
              std::string::npos);
    EXPECT_THROW((void)pai(make_grid(2, 2, 10.0, {1, 2, 3}), test, 0.5), InvalidInput);
    EXPECT_THROW((void)pai(make_grid(2, 2, 0.0, {1, 2, 3, 4}), test, 0.5), InvalidInput);
    // Non-finite coordinates are reported, not counted.
    CoverageReport r;
    (void)count_baseline(points({{5, 5}, {not_a_number, 5}}), g, &r);
    EXPECT_EQ(r.not_finite, 1u);
    EXPECT_EQ(r.in_study_area, 1u);
}

TEST(CountBaseline, KeepsTheGeometryAndTheStudyAreaMask) {
    Grid like = make_grid(2, 3, 50.0, {0.5, not_a_number, 2, 3, 4, -9999});
    like.nodata = -9999;
    like.crs_wkt = "LOCAL_CS[\"test\"]";
    const Incidents inc = points({{10, 90}, {20, 80}, {60, 90}, {110, 10}, {140, 40}}, {1, 2, 1, 1, 1});
    CoverageReport r;
    const Grid g = count_baseline(inc, like, &r);
    EXPECT_EQ(g.rows, 2u);
    EXPECT_EQ(g.cols, 3u);
    EXPECT_EQ(g.origin_x, like.origin_x);
    EXPECT_EQ(g.origin_y, like.origin_y);
    EXPECT_EQ(g.crs_wkt, like.crs_wkt);
    EXPECT_EQ(g.units, "incidents per cell");
    EXPECT_EQ(g.values[0], 3.0);
    EXPECT_TRUE(std::isnan(g.values[1]));
    EXPECT_EQ(g.values[2], 0.0);
    EXPECT_TRUE(std::isnan(g.values[5]));
    EXPECT_EQ(r.in_nodata, 3u); // (60, 90) in cell 1; (110, 10) and (140, 40) in cell 5
    EXPECT_EQ(r.weight_in_study_area, 3.0);
}

namespace {

Incidents timed(const std::vector<std::pair<LocalSeconds, LocalSeconds>>& ranges) {
    Incidents inc;
    std::int64_t row = 1;
    for (const auto& [start, end] : ranges) {
        inc.x.push_back(double(row));
        inc.y.push_back(0);
        inc.time.push_back(start);
        inc.time_end.push_back(end);
        inc.precision.push_back(start == no_time ? TimePrecision::none : TimePrecision::second);
        inc.category.push_back(-1);
        inc.weight.push_back(1);
        inc.source_row.push_back(row++);
    }
    return inc;
}

} // namespace

TEST(SplitByTime, TrainTestAndEverythingElseReported) {
    const LocalSeconds t0 = local_seconds(2021, 1, 1), t1 = local_seconds(2021, 7, 1),
                       t2 = local_seconds(2022, 1, 1);
    const LocalSeconds june = local_seconds(2021, 6, 1), june_end = local_seconds(2021, 6, 30, 23, 59, 59);
    const Incidents inc = timed({
        {local_seconds(2021, 3, 5, 12), local_seconds(2021, 3, 5, 12)}, // 1: train
        {t0, t0},                                                       // 2: train (t0 is inside)
        {t1, t1},                                                       // 3: test (t1 starts the test period)
        {t1 - 1, t1 - 1},                                               // 4: train
        {june, june_end},                                               // 5: a month range, train
        {local_seconds(2021, 6, 20), local_seconds(2021, 7, 10)},       // 6: crosses t1
        {t2, t2},                                                       // 7: after
        {t0 - 1, t0 - 1},                                               // 8: before
        {no_time, no_time},                                             // 9: no time
        {local_seconds(2021, 12, 31), no_time},                         // 10: an instant without an end: test
        {local_seconds(2020, 12, 1), local_seconds(2021, 1, 31)},       // 11: crosses t0
    });
    const TemporalSplit s = split_by_time(inc, t0, t1, t2);
    EXPECT_EQ(s.train.source_row, (std::vector<std::int64_t>{1, 2, 4, 5}));
    EXPECT_EQ(s.test.source_row, (std::vector<std::int64_t>{3, 10}));
    EXPECT_EQ(s.report.incidents, 11u);
    EXPECT_EQ(s.report.train, 4u);
    EXPECT_EQ(s.report.test, 2u);
    EXPECT_EQ(s.report.before, 1u);
    EXPECT_EQ(s.report.after, 1u);
    EXPECT_EQ(s.report.no_time, 1u);
    EXPECT_EQ(s.report.straddling, 2u);
    EXPECT_EQ(s.report.straddling_rows, (std::vector<std::int64_t>{6, 11}));
    s.train.validate();
    s.test.validate();
    const std::string summary = s.report.summary();
    EXPECT_NE(summary.find("4 in the training period [2021-01-01T00:00:00, 2021-07-01T00:00:00)"),
              std::string::npos)
        << summary;
    EXPECT_NE(summary.find("2 with a time range crossing a period boundary"), std::string::npos) << summary;
    EXPECT_NE(summary.find("source rows): 6 11"), std::string::npos) << summary;
}

TEST(SplitByTime, PeriodsMustBeOrdered) {
    const Incidents inc = timed({{10, 10}});
    EXPECT_NE(invalid_input_message([&] { (void)split_by_time(inc, 10, 10, 20); }).find("t0 < t1 < t2"),
              std::string::npos);
    EXPECT_THROW((void)split_by_time(inc, 10, 30, 20), InvalidInput);
    EXPECT_THROW((void)split_by_time(inc, no_time, 30, 40), InvalidInput);
    Incidents bad = inc;
    bad.time.clear();
    EXPECT_THROW((void)split_by_time(bad, 0, 30, 40), InvalidInput);
}
