// End-to-end loads of the real public data in ../shared/data, checked against the counts and
// properties its README documents.
#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include <gtest/gtest.h>

#include "streetsafe/kde.hpp"
#include "streetsafe/incidents.hpp"
#include "support.hpp"

using namespace streetsafe;
using streetsafe::test::shared_data;

namespace {

/// Centre of the busiest 250 m square of a coarse histogram, and its count.
struct Busiest {
    double x, y;
    int count;
};

Busiest busiest_square(const Incidents& inc, double size_m) {
    std::map<std::pair<long, long>, int> counts;
    for (std::size_t i = 0; i < inc.size(); ++i)
        ++counts[{std::lround(std::floor(inc.x[i] / size_m)), std::lround(std::floor(inc.y[i] / size_m))}];
    const auto best = std::max_element(counts.begin(), counts.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
    return {(double(best->first.first) + 0.5) * size_m, (double(best->first.second) + 0.5) * size_m, best->second};
}

/// Incidents within `radius` of (x, y), counted by brute force.
int count_within(const Incidents& inc, double x, double y, double radius) {
    int n = 0;
    for (std::size_t i = 0; i < inc.size(); ++i)
        n += std::hypot(inc.x[i] - x, inc.y[i] - y) <= radius ? 1 : 0;
    return n;
}

} // namespace

TEST(RealData, LondonPoliceUkStreetCrime2017) {
    const std::string path = shared_data("london/police_uk_street_crime_2017_4boroughs.csv.gz");
    STREETSAFE_REQUIRE_SHARED(path);
    LoadReport report;
    const Incidents inc = read_incidents(path, {}, &report);
    EXPECT_EQ(report.schema, "police.uk");
    EXPECT_EQ(report.rows_read, 106685);
    EXPECT_EQ(report.rows_kept, 106685) << report.summary();
    EXPECT_EQ(inc.crs.authority, "EPSG:27700");
    EXPECT_TRUE(report.working_crs_automatic);
    // Per the data's README: counts by crime type.
    const std::map<std::string, int> expected{{"Anti-social behaviour", 23551},
                                              {"Violence and sexual offences", 23199},
                                              {"Vehicle crime", 12360},
                                              {"Robbery", 2317},
                                              {"Possession of weapons", 614}};
    std::vector<int> counts(inc.categories.size(), 0);
    for (auto c : inc.category) ++counts.at(static_cast<std::size_t>(c));
    EXPECT_EQ(inc.categories.size(), 14u);
    for (const auto& [name, n] : expected) EXPECT_EQ(counts.at(static_cast<std::size_t>(inc.category_code(name))), n) << name;
    // Month precision only: never an invented day or hour.
    EXPECT_TRUE(std::all_of(inc.precision.begin(), inc.precision.end(),
                            [](TimePrecision p) { return p == TimePrecision::month; }));
    EXPECT_EQ(*std::min_element(inc.time.begin(), inc.time.end()), local_seconds(2017, 1, 1));
    EXPECT_EQ(*std::max_element(inc.time_end.begin(), inc.time_end.end()), local_seconds(2018, 1, 1) - 1);
    // All inside the four boroughs' extent (README: lon -0.455..0.307, lat 51.425..51.646).
    const auto [xmin, xmax] = std::minmax_element(inc.x.begin(), inc.x.end());
    const auto [ymin, ymax] = std::minmax_element(inc.y.begin(), inc.y.end());
    EXPECT_GT(*xmin, 503000);
    EXPECT_LT(*xmax, 562000);
    EXPECT_GT(*ymin, 155000);
    EXPECT_LT(*ymax, 201000);
}

TEST(RealData, LondonViolenceHotspotsLieWhereTheIncidentsAre) {
    const std::string path = shared_data("london/police_uk_street_crime_2017_4boroughs.csv.gz");
    STREETSAFE_REQUIRE_SHARED(path);
    ReadOptions opt;
    opt.categories = {"Violence and sexual offences", "Robbery", "Possession of weapons"};
    const Incidents inc = read_incidents(path, opt);
    EXPECT_EQ(inc.size(), 23199u + 2317u + 614u);
    const Grid g = kde(inc, {.bandwidth_m = 250, .cell_m = 50});
    const GridSummary s = summarize(g);
    EXPECT_NEAR(g.integral(true), inc.total_weight(), 1e-6 * inc.total_weight());
    // The densest cell lies in (or beside) the busiest 250 m square, and holds far more incidents
    // within 250 m than an average incident's neighbourhood.
    const Busiest b = busiest_square(inc, 250);
    EXPECT_LE(std::hypot(s.max_x - b.x, s.max_y - b.y), 400.0);
    const int near_peak = count_within(inc, s.max_x, s.max_y, 250);
    EXPECT_GE(near_peak, b.count * 8 / 10);
}

TEST(RealData, StLouisIncidents2017To2018) {
    const std::string path = shared_data("stlouis/slmpd_crimes_2017_2018.csv.gz");
    STREETSAFE_REQUIRE_SHARED(path);
    LoadReport report;
    const Incidents inc = read_incidents(path, {}, &report);
    EXPECT_EQ(report.schema, "slmpd");
    EXPECT_EQ(report.rows_read, 90722);
    // README: 88,935 rows (98.0%) have coordinates; the rest, every rape and sex offence among
    // them, are skipped with their reason, never placed at 0,0.
    EXPECT_EQ(report.rows_kept, 88935) << report.summary();
    EXPECT_EQ(report.count(SkipReason::missing_coordinate), 90722 - 88935);
    EXPECT_EQ(inc.crs.authority, "EPSG:32615");
    EXPECT_EQ(inc.time_zone, "America/Chicago");
    EXPECT_EQ(inc.category_code("Forcible Rape"), -1);
    EXPECT_EQ(inc.category_code("Sex Offenses"), -1);
    std::map<std::string, int> counts;
    for (auto c : inc.category) ++counts[inc.categories.at(static_cast<std::size_t>(c))];
    EXPECT_EQ(counts["Aggravated Assault"], 5848);
    EXPECT_EQ(counts["Robbery"], 3363);
    EXPECT_EQ(counts["Criminal Homicide"], 355);
    EXPECT_TRUE(std::all_of(inc.precision.begin(), inc.precision.end(),
                            [](TimePrecision p) { return p == TimePrecision::minute; }));
    EXPECT_EQ(*std::min_element(inc.time.begin(), inc.time.end()), local_seconds(2017, 1, 1, 0, 0));
    EXPECT_LE(*std::max_element(inc.time.begin(), inc.time.end()), local_seconds(2018, 12, 31, 23, 48));
    // Hours of day: the README's afternoon peak (17:00 busiest, 15:00-18:59 about 22.5% of rows).
    std::array<int, 24> hours{};
    for (auto t : inc.time) ++hours[static_cast<std::size_t>(((t % 86400) + 86400) % 86400 / 3600)];
    EXPECT_EQ(std::max_element(hours.begin(), hours.end()) - hours.begin(), 17);
    const double share = double(hours[15] + hours[16] + hours[17] + hours[18]) / double(inc.size());
    EXPECT_NEAR(share, 0.225, 0.005);
    // README: 99.8% of geocoded rows fall inside the city; a few stray up to 38.83 N, -90.44 E.
    // In UTM 15N the city's latitudes 38.53..38.775 span northings of about 4,265 to 4,292 km.
    const auto inside = std::count_if(inc.y.begin(), inc.y.end(), [](double y) { return y > 4264000 && y < 4293000; });
    EXPECT_GT(double(inside) / double(inc.size()), 0.995);
    const auto [ymin, ymax] = std::minmax_element(inc.y.begin(), inc.y.end());
    EXPECT_GT(*ymin, 4250000.0);
    EXPECT_LT(*ymax, 4302000.0);
}

TEST(RealData, StLouisViolenceHotspots) {
    const std::string path = shared_data("stlouis/slmpd_crimes_2017_2018.csv.gz");
    STREETSAFE_REQUIRE_SHARED(path);
    ReadOptions opt;
    opt.categories = {"Criminal Homicide", "Robbery", "Aggravated Assault", "Other assaults", "Weapons"};
    LoadReport report;
    const Incidents inc = read_incidents(path, opt, &report);
    EXPECT_GT(inc.size(), 16000u);
    const Grid g = kde(inc, {.bandwidth_m = 250, .cell_m = 50});
    const GridSummary s = summarize(g);
    const Busiest b = busiest_square(inc, 250);
    EXPECT_LE(std::hypot(s.max_x - b.x, s.max_y - b.y), 400.0);
    EXPECT_GE(count_within(inc, s.max_x, s.max_y, 250), b.count * 8 / 10);
}
