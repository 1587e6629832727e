// Tests of streetsafe/temporal.hpp: windows (midnight wrap, wall clock across DST), school
// calendars and their errors, aoristic spreading (known spreads, mass conservation), exclusions
// (month precision, sentinels, long spans), the 7x24 profile against a brute-force count, the peak
// window and its Monte Carlo test, circular statistics, and the St. Louis afternoon peak.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "streetsafe/error.hpp"
#include "streetsafe/incidents.hpp"
#include "streetsafe/temporal.hpp"
#include "streetsafe/time.hpp"
#include "support.hpp"

using namespace streetsafe;
using streetsafe::test::project_file;
using streetsafe::test::shared_data;

namespace {

/// Incidents with times only (coordinates are irrelevant here).
struct Builder {
    Incidents inc;
    Builder& add(LocalSeconds t, LocalSeconds end = no_time, TimePrecision p = TimePrecision::minute, double w = 1.0,
                 std::int32_t cat = -1) {
        inc.x.push_back(0);
        inc.y.push_back(0);
        inc.time.push_back(t);
        inc.time_end.push_back(end == no_time ? t : end);
        inc.precision.push_back(p);
        inc.category.push_back(cat);
        inc.weight.push_back(w);
        inc.source_row.push_back(static_cast<std::int64_t>(inc.x.size()));
        return *this;
    }
};

LocalSeconds at(int y, unsigned mo, unsigned d, int h, int mi = 0) { return local_seconds(y, mo, d, h, mi); }

/// 2017-01-02 was a Monday.
const LocalSeconds monday = local_seconds(2017, 1, 2);

double clock_distance(double a, double b) {
    const double d = std::fmod(std::abs(a - b), 1440.0);
    return std::min(d, 1440.0 - d);
}

} // namespace

// ------------------------------------------------------------------------------------- windows

TEST(TimeWindow, WrapsMidnight) {
    const TimeWindow w = parse_window("22:00-02:00");
    EXPECT_TRUE(w.contains(at(2017, 5, 3, 22, 0)));
    EXPECT_TRUE(w.contains(at(2017, 5, 3, 23, 59)));
    EXPECT_TRUE(w.contains(at(2017, 5, 3, 0, 0)));
    EXPECT_TRUE(w.contains(at(2017, 5, 3, 1, 59)));
    EXPECT_FALSE(w.contains(at(2017, 5, 3, 2, 0)));
    EXPECT_FALSE(w.contains(at(2017, 5, 3, 21, 59)));
    EXPECT_EQ(w.minutes_per_day_in_window(), 240);
    EXPECT_EQ(TimeWindow::hours(22 * 60, 2 * 60).minutes, w.minutes);
    // 21:00-03:00 range: 4 of its 6 hours are inside.
    EXPECT_NEAR(w.fraction(at(2017, 5, 3, 21), at(2017, 5, 4, 3)), 4.0 / 6.0, 1e-12);
    // Before 1970 the arithmetic still floors correctly.
    EXPECT_TRUE(w.contains(local_seconds(1969, 12, 31, 23, 30)));
    EXPECT_FALSE(w.contains(local_seconds(1969, 12, 31, 12, 30)));
}

TEST(TimeWindow, DaysDatesAndEndOfDay) {
    const TimeWindow w = parse_window("15:00-19:00", "mon-fri");
    EXPECT_TRUE(w.contains(monday + 15 * 3600));
    EXPECT_TRUE(w.contains(monday + 4 * 86400 + 18 * 3600 + 59 * 60)); // Friday 18:59
    EXPECT_FALSE(w.contains(monday + 5 * 86400 + 16 * 3600));          // Saturday
    EXPECT_FALSE(w.contains(monday + 19 * 3600));
    const TimeWindow weekend = parse_window("all", "Sat,SUNDAY");
    EXPECT_EQ(weekend.weekdays, 0x60);
    EXPECT_EQ(parse_window("", "fri-mon").weekdays, 0x71); // Fri Sat Sun Mon
    const TimeWindow late = parse_window("20:00-24:00, 00:00-01:00");
    EXPECT_EQ(late.minutes_per_day_in_window(), 300);
    const TimeWindow jan = parse_window("all", "all", "2017-01-01/2017-01-31");
    EXPECT_TRUE(jan.contains(at(2017, 1, 31, 23, 59)));
    EXPECT_FALSE(jan.contains(at(2017, 2, 1, 0, 0)));
}

TEST(TimeWindow, EmptyOrMalformedIsInvalidInput) {
    EXPECT_THROW(parse_window("15:00-15:00"), InvalidInput);
    EXPECT_THROW(parse_window("00:00-24:00"), InvalidInput); // start == end (mod a day): empty
    EXPECT_THROW(TimeWindow::hours(900, 900), InvalidInput);
    EXPECT_THROW(parse_window("15:00-19:60"), InvalidInput);
    EXPECT_THROW(parse_window("3pm-7pm"), InvalidInput);
    EXPECT_THROW(parse_window("15:00-19:00", "funday"), InvalidInput);
    EXPECT_THROW(parse_window("all", "all", "2017-02-01/2017-01-01"), InvalidInput);
    EXPECT_THROW(parse_window("all", "all", "2017-02-30/2017-03-01"), InvalidInput);
    TimeWindow w = TimeWindow::all_day();
    w.weekdays = 0;
    EXPECT_THROW(w.validate(), InvalidInput);
    TimeWindow s = TimeWindow::all_day();
    s.school = SchoolDays::school_days; // no calendar
    EXPECT_THROW(s.validate(), InvalidInput);
    EXPECT_THROW((void)count_in_window(Incidents{}, TimeWindow{}, {}), InvalidInput); // no minutes
}

TEST(TimeWindow, WallClockIgnoresDst) {
    // Europe/London springs forward at 01:00 on 2018-03-25 and falls back at 02:00 on 2018-10-28.
    // Local civil seconds are wall-clock readings: 01:30 on the spring day (which no clock showed)
    // is still inside 01:00-02:00, and a 00:00-04:00 range is four wall hours either way.
    const TimeWindow one = parse_window("01:00-02:00");
    EXPECT_TRUE(one.contains(at(2018, 3, 25, 1, 30)));
    EXPECT_TRUE(one.contains(at(2018, 10, 28, 1, 30)));
    EXPECT_NEAR(one.fraction(at(2018, 3, 25, 0), at(2018, 3, 25, 4)), 0.25, 1e-12);
    EXPECT_NEAR(one.fraction(at(2018, 10, 28, 0), at(2018, 10, 28, 4)), 0.25, 1e-12);
    // An instant given with a UTC offset is converted to London wall time first: 16:30Z in BST is 17:30.
    const auto t = parse_time("2018-07-02T16:30Z", "Europe/London");
    ASSERT_TRUE(t);
    EXPECT_TRUE(parse_window("17:00-18:00").contains(t->start));
}

// ------------------------------------------------------------------------------------- calendars

namespace {
const char* calendar_text = "# illustrative\n"
                            "start,end,kind\n"
                            "2017-09-04,2017-12-20,term\n"
                            "2017-10-23,2017-10-27,holiday\n"
                            "2017-09-04,2017-09-05,inset\n"
                            "\n"
                            "2018-01-04,2018-03-29,term\n";
}

TEST(SchoolCalendar, ParsesTermsHolidaysAndInsetDays) {
    const SchoolCalendar c = parse_school_calendar(calendar_text, "cal.csv");
    ASSERT_EQ(c.periods.size(), 4u);
    const auto day = [](int y, unsigned m, unsigned d) { return local_seconds(y, m, d) / 86400; };
    EXPECT_FALSE(c.is_school_day(day(2017, 9, 4)));  // INSET Monday
    EXPECT_TRUE(c.is_school_day(day(2017, 9, 6)));   // Wednesday in term
    EXPECT_FALSE(c.is_school_day(day(2017, 9, 9)));  // Saturday
    EXPECT_FALSE(c.is_school_day(day(2017, 10, 24))); // half-term
    EXPECT_FALSE(c.is_school_day(day(2017, 12, 27))); // Christmas break (between terms)
    EXPECT_TRUE(c.is_school_day(day(2018, 3, 29)));  // last day of term, Thursday

    // "Term-time school days, 15:00-19:00" as one window.
    TimeWindow w = parse_window("15:00-19:00");
    w.calendar = std::make_shared<SchoolCalendar>(c);
    w.school = SchoolDays::school_days;
    EXPECT_TRUE(w.contains(at(2017, 9, 6, 16)));
    EXPECT_FALSE(w.contains(at(2017, 9, 6, 14)));
    EXPECT_FALSE(w.contains(at(2017, 10, 24, 16)));
    w.school = SchoolDays::non_school_days;
    EXPECT_TRUE(w.contains(at(2017, 10, 24, 16)));
    EXPECT_FALSE(w.contains(at(2017, 9, 6, 16)));
}

TEST(SchoolCalendar, ErrorsNameTheLine) {
    const auto message = [](const std::string& text) {
        try {
            (void)parse_school_calendar(text, "cal.csv");
        } catch (const InvalidInput& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    const std::string overlap = message("start,end,kind\n2017-09-04,2017-12-20,term\n2017-12-01,2018-03-29,term\n");
    EXPECT_NE(overlap.find("cal.csv:3"), std::string::npos) << overlap;
    EXPECT_NE(overlap.find("line 2"), std::string::npos) << overlap;
    EXPECT_NE(message("start,end,kind\n2017-09-04,2017-13-20,term\n").find("cal.csv:2"), std::string::npos);
    EXPECT_NE(message("start,end,kind\n2017-09-04,2017-12-20,holidays\n").find("kind"), std::string::npos);
    EXPECT_NE(message("start,end,kind\n2017-09-04,2017-09-01,term\n").find("before"), std::string::npos);
    EXPECT_NE(message("start,end,kind\n2017-09-04,2017-09-10\n").find("3 fields"), std::string::npos);
    EXPECT_NE(message("from,to,type\n").find("header"), std::string::npos);
    EXPECT_NE(message("").find("empty"), std::string::npos);
    EXPECT_THROW((void)read_school_calendar("/nonexistent/cal.csv"), IoError);
}

TEST(SchoolCalendar, ExampleFileLoads) {
    const SchoolCalendar c = read_school_calendar(project_file("data/calendars/example_england_2017_2018.csv"));
    EXPECT_TRUE(c.has_terms());
    EXPECT_GE(c.periods.size(), 6u);
    // Days in the example year: an English school year has about 190 pupil days.
    int school_days = 0;
    for (std::int64_t d = local_seconds(2017, 9, 1) / 86400; d < local_seconds(2018, 8, 31) / 86400; ++d)
        school_days += c.is_school_day(d) ? 1 : 0;
    EXPECT_GE(school_days, 185);
    EXPECT_LE(school_days, 195);
}

// ------------------------------------------------------------------------------------- aoristic

TEST(Aoristic, KnownSpreadOfARange) {
    // 14:00-18:30 on a Monday: 1/4.5 in each full hour 14-17, 0.5/4.5 in 18.
    Builder b;
    b.add(monday + 14 * 3600, monday + 18 * 3600 + 1800);
    const TemporalProfile p = temporal_profile(b.inc);
    for (int h = 14; h <= 17; ++h) EXPECT_NEAR(p.at(0, h), 1.0 / 4.5, 1e-12) << h;
    EXPECT_NEAR(p.at(0, 18), 0.5 / 4.5, 1e-12);
    EXPECT_NEAR(p.total(), 1.0, 1e-12);
    EXPECT_EQ(p.report.ranges, 1);
    // Sunday 22:30 to Monday 01:30 wraps the week: 0.5/3 Sunday 22, 1/3 Sunday 23, 1/3 Monday 0.
    Builder w;
    w.add(monday - 86400 + 22 * 3600 + 1800, monday + 3600 + 1800, TimePrecision::minute, 3.0);
    const TemporalProfile q = temporal_profile(w.inc);
    EXPECT_NEAR(q.at(6, 22), 0.5, 1e-12);
    EXPECT_NEAR(q.at(6, 23), 1.0, 1e-12);
    EXPECT_NEAR(q.at(0, 0), 1.0, 1e-12);
    EXPECT_NEAR(q.at(0, 1), 0.5, 1e-12);
    // The window share follows the same rule: 15:00-19:00 holds 3.5 of the 4.5 hours.
    EXPECT_NEAR(count_in_window(b.inc, parse_window("15:00-19:00")), 3.5 / 4.5, 1e-12);
}

TEST(Aoristic, MassIsConservedAndExclusionsReported) {
    std::mt19937_64 rng(7);
    Builder b;
    double usable = 0;
    int months = 0, sentinels = 0, long_spans = 0, none = 0;
    for (int i = 0; i < 3000; ++i) {
        const LocalSeconds t = monday + static_cast<LocalSeconds>(rng() % (400ULL * 86400ULL));
        const double w = 0.5 + static_cast<double>(rng() % 4);
        switch (rng() % 6) {
        case 0: { // month precision: never given an hour
            b.add(local_seconds(2017, 3, 1), local_seconds(2017, 3, 31, 23, 59, 59), TimePrecision::month, w);
            ++months;
            break;
        }
        case 1: { // range up to 14 h; above 12 h counts as unknown
            const auto span = static_cast<LocalSeconds>(rng() % (14 * 3600));
            b.add(t, t + span, TimePrecision::minute, w);
            if (span > 12 * 3600) ++long_spans;
            else usable += w;
            break;
        }
        case 2: { // at the St. Louis sentinel 00:01
            b.add(t - t % 86400 + 60, no_time, TimePrecision::minute, w);
            ++sentinels;
            break;
        }
        case 3: {
            b.add(no_time, no_time, TimePrecision::none, w);
            ++none;
            break;
        }
        default: // an exact time; one that falls in the 00:01 minute is a sentinel too
            b.add(t, no_time, TimePrecision::second, w);
            if ((t - monday) % 86400 / 60 == 1) ++sentinels;
            else usable += w;
        }
    }
    TemporalOptions opt{.sentinel_minutes = stlouis_sentinels()};
    const TemporalProfile p = temporal_profile(b.inc, opt);
    EXPECT_NEAR(p.total(), usable, 1e-9 * usable);
    EXPECT_NEAR(p.report.usable_weight, usable, 1e-9 * usable);
    EXPECT_EQ(p.report.coarse_precision, months);
    EXPECT_EQ(p.report.sentinel, sentinels);
    EXPECT_EQ(p.report.span_too_long, long_spans);
    EXPECT_EQ(p.report.missing_time, none);
    EXPECT_EQ(p.report.excluded_count(), months + sentinels + long_spans + none);
    ASSERT_EQ(p.report.excluded.size(), p.report.reasons.size());
    for (std::size_t k = 0; k < p.report.excluded.size(); ++k) {
        const std::size_t i = p.report.excluded[k];
        if (p.report.reasons[k] == HourExclusion::coarse_precision) {
            EXPECT_EQ(b.inc.precision[i], TimePrecision::month);
        }
    }
    // Without sentinels the 00:01 rows are usable and land in hour 0.
    const TemporalProfile all = temporal_profile(b.inc);
    EXPECT_EQ(all.report.sentinel, 0);
    EXPECT_GT(all.hour_totals()[0], p.hour_totals()[0]);
    // Aoristic window fractions: NaN exactly for the excluded incidents; Σ w f = count_in_window.
    const TimeWindow win = parse_window("15:00-19:00", "mon-fri");
    TemporalReport r;
    const auto f = window_fractions(b.inc, win, opt, &r);
    double sum = 0;
    int nans = 0;
    for (std::size_t i = 0; i < f.size(); ++i) {
        if (std::isnan(f[i])) ++nans;
        else sum += b.inc.weight[i] * f[i];
    }
    EXPECT_EQ(nans, r.excluded_count());
    EXPECT_NEAR(sum, count_in_window(b.inc, win, opt), 1e-9);
    EXPECT_NE(r.summary().find("sentinel"), std::string::npos) << r.summary();
}

TEST(Aoristic, InvalidOptions) {
    EXPECT_THROW((void)temporal_profile(Builder{}.inc, {.max_span_hours = 0}), InvalidInput);
    EXPECT_THROW((void)temporal_profile(Builder{}.inc, {.sentinel_minutes = {1440}}), InvalidInput);
    Builder b;
    b.add(monday + 3600, monday); // end before start
    EXPECT_EQ(temporal_profile(b.inc).report.invalid_range, 1);
}

TEST(Profile, MatchesBruteForceCount) {
    std::mt19937_64 rng(11);
    Builder b;
    b.inc.categories = {"a", "b"};
    for (int i = 0; i < 5000; ++i) {
        const LocalSeconds t = local_seconds(2016, 6, 1) + static_cast<LocalSeconds>(rng() % (900ULL * 86400ULL));
        b.add(t, no_time, TimePrecision::minute, 1.0, static_cast<std::int32_t>(rng() % 2));
    }
    // Oracle: weekday from whole days since a known Monday, hour from the seconds into the day.
    std::vector<double> expected(168, 0.0), expected_a(168, 0.0);
    const LocalSeconds known_monday = local_seconds(2016, 5, 30);
    for (std::size_t i = 0; i < b.inc.size(); ++i) {
        const LocalSeconds d = b.inc.time[i] - known_monday; // positive here
        const auto wd = static_cast<std::size_t>((d / 86400) % 7);
        const auto h = static_cast<std::size_t>((d % 86400) / 3600);
        expected[wd * 24 + h] += 1;
        if (b.inc.category[i] == 0) expected_a[wd * 24 + h] += 1;
    }
    const TemporalProfile p = temporal_profile(b.inc);
    ASSERT_EQ(p.weight.size(), 168u);
    for (std::size_t k = 0; k < 168; ++k) {
        EXPECT_EQ(p.weight[k], expected[k]) << k;
        EXPECT_EQ(p.weekday[k] * 24 + p.hour[k], static_cast<int>(k));
    }
    const auto by_cat = temporal_profiles_by_category(b.inc);
    ASSERT_EQ(by_cat.size(), 2u);
    EXPECT_EQ(by_cat[0].category, "a");
    for (std::size_t k = 0; k < 168; ++k) EXPECT_EQ(by_cat[0].weight[k], expected_a[k]) << k;
    EXPECT_DOUBLE_EQ(by_cat[0].total() + by_cat[1].total(), p.total());
}

// ------------------------------------------------------------------------------------- peak window

TEST(PeakWindow, HandMadeProfile) {
    std::vector<double> h(24, 1.0);
    h[22] = 5;
    h[23] = 6;
    h[0] = 7;
    h[1] = 4;
    h[15] = 9; // a single tall hour loses to the wrapping night for L = 4
    const PeakWindow p = best_window(h, 4);
    EXPECT_EQ(p.start_hour, 22);
    EXPECT_DOUBLE_EQ(p.count, 22.0);
    EXPECT_DOUBLE_EQ(p.total, 19.0 + 5 + 6 + 7 + 4 + 9); // 19 hours at 1, five set by hand
    EXPECT_EQ(best_window(h, 1).start_hour, 15);
    EXPECT_DOUBLE_EQ(best_window(h, 24).count, p.total);
    EXPECT_EQ(best_window(std::vector<double>(24, 2.0), 3).start_hour, 0); // ties: earliest
    EXPECT_THROW((void)best_window(h, 0), InvalidInput);
    EXPECT_THROW((void)best_window(std::vector<double>(23, 1.0), 2), InvalidInput);
}

TEST(PeakWindow, UniformSamplesAreNotSignificant) {
    // Under the null, p is (close to) U(0, 1): over 20 uniform samples few are below 0.05 and the
    // mean is near 0.5.
    int small = 0;
    double mean = 0;
    for (std::uint64_t s = 0; s < 20; ++s) {
        std::mt19937_64 rng(100 + s);
        Builder b;
        for (int i = 0; i < 500; ++i) b.add(monday + static_cast<LocalSeconds>(rng() % (365ULL * 86400ULL)));
        const PeakWindow p = peak_window_test(b.inc, {.length_hours = 4, .replicates = 199, .seed = s});
        small += p.p_value < 0.05 ? 1 : 0;
        mean += p.p_value / 20;
    }
    EXPECT_LE(small, 4);
    EXPECT_GT(mean, 0.3);
    EXPECT_LT(mean, 0.7);
}

TEST(PeakWindow, StrongPeakHasSmallestPossibleP) {
    Builder b;
    for (int i = 0; i < 300; ++i) b.add(monday + i * 86400 + 17 * 3600 + (i % 60) * 60);
    for (int i = 0; i < 30; ++i) b.add(monday + i * 86400 + 3 * 3600, monday + i * 86400 + 5 * 3600);
    const PeakWindow p = peak_window_test(b.inc, {.length_hours = 4, .replicates = 99});
    EXPECT_EQ(p.sims_at_least, 0);
    EXPECT_DOUBLE_EQ(p.p_value, 1.0 / 100.0);
    EXPECT_DOUBLE_EQ(p.count, 300.0);
    EXPECT_LE(p.start_hour, 17);
    EXPECT_GE(p.start_hour, 14);
    EXPECT_EQ(p.report.ranges, 30);
}

TEST(PeakWindow, IdenticalForAnyThreadCount) {
    std::mt19937_64 rng(5);
    Builder b;
    for (int i = 0; i < 400; ++i) {
        const LocalSeconds day = monday + static_cast<LocalSeconds>(rng() % 300) * 86400;
        const auto h = static_cast<LocalSeconds>(rng() % 3 == 0 ? 16 : rng() % 24);
        const LocalSeconds t = day + h * 3600 + static_cast<LocalSeconds>(rng() % 3600);
        if (i % 5 == 0) b.add(t, t + static_cast<LocalSeconds>(rng() % 20000));
        else b.add(t);
    }
    Context one, two;
    one.threads = 1;
    two.threads = 2;
    int calls = 0;
    two.progress = [&](double, std::string_view) { ++calls; };
    const PeakWindow a = peak_window_test(b.inc, {.length_hours = 3, .replicates = 299, .seed = 42}, {}, one);
    const PeakWindow c = peak_window_test(b.inc, {.length_hours = 3, .replicates = 299, .seed = 42}, {}, two);
    EXPECT_EQ(a.sims_at_least, c.sims_at_least);
    EXPECT_EQ(a.p_value, c.p_value);
    EXPECT_EQ(a.start_hour, c.start_hour);
    EXPECT_GT(calls, 0);
    std::atomic<bool> stop{true};
    Context cancel;
    cancel.cancel = &stop;
    EXPECT_THROW((void)peak_window_test(b.inc, {}, {}, cancel), Cancelled);
    EXPECT_THROW((void)peak_window_test(Builder{}.inc), InvalidInput);
    EXPECT_THROW((void)peak_window_test(b.inc, {.replicates = 0}), InvalidInput);
}

// ------------------------------------------------------------------------------------- circular

TEST(Circular, MeanAroundMidnight) {
    const std::vector<double> m = {23 * 60.0, 60.0};
    const CircularSummary s = circular_summary(m);
    EXPECT_LT(clock_distance(s.mean_minute, 0.0), 1e-9);
    EXPECT_NEAR(s.resultant_length, std::cos(std::numbers::pi / 12), 1e-12);
    // Incidents give the same, and a 23:00-01:00 range has mean 00:00 and R = sin(h)/h, h = π/12.
    Builder b;
    b.add(monday - 3600).add(monday + 3600);
    EXPECT_LT(clock_distance(circular_summary(b.inc).mean_minute, 0.0), 1e-9);
    Builder r;
    r.add(monday - 3600, monday + 3600);
    const CircularSummary rs = circular_summary(r.inc);
    EXPECT_LT(clock_distance(rs.mean_minute, 0.0), 1e-9);
    const double h = std::numbers::pi / 12;
    EXPECT_NEAR(rs.resultant_length, std::sin(h) / h, 1e-12);
}

TEST(Circular, RayleighByHand) {
    // 00:00, 06:00, 12:00: C = 1 + 0 - 1 = 0, S = 0 + 1 + 0 = 1, R_n = 1, R̄ = 1/3, Z = n R̄² = 1/3,
    // p = exp(sqrt(1 + 4n + 4(n² - R_n²)) - (1 + 2n)) = exp(sqrt(45) - 7) = 0.74690...
    const CircularSummary s = circular_summary(std::vector<double>{0, 360, 720});
    EXPECT_NEAR(s.resultant_length, 1.0 / 3, 1e-12);
    EXPECT_NEAR(s.mean_minute, 360.0, 1e-9);
    EXPECT_NEAR(s.rayleigh_z, 1.0 / 3, 1e-12);
    EXPECT_NEAR(s.rayleigh_p, std::exp(std::sqrt(45.0) - 7.0), 1e-12);
    EXPECT_NEAR(s.rayleigh_p, 0.7469, 1e-4);
    // Concentrated times: p tiny; Z large gives p ≈ exp(-Z) to first order.
    std::vector<double> tight(50, 1020.0);
    EXPECT_LT(circular_summary(tight).rayleigh_p, 1e-15);
    // Perfectly balanced: R = 0, mean undefined, p = 1.
    const CircularSummary u = circular_summary(std::vector<double>{0, 720});
    EXPECT_TRUE(std::isnan(u.mean_minute));
    EXPECT_NEAR(u.rayleigh_p, 1.0, 1e-12);
    EXPECT_THROW((void)circular_summary(std::vector<double>{}), InvalidInput);
}

TEST(Circular, VonMisesIntegratesToOne) {
    for (double kappa : {0.0, 0.5, 14.6, 200.0, 800.0}) {
        double sum = 0;
        for (int k = 0; k < 14400; ++k) sum += von_mises_density(k * 0.1, 300.0, kappa) * 0.1;
        EXPECT_NEAR(sum, 1.0, 1e-9) << kappa;
    }
    EXPECT_NEAR(von_mises_density(5, 100, 0.0), 1.0 / 1440, 1e-15);
    EXPECT_THROW((void)von_mises_density(0, 0, -1), InvalidInput);

    std::mt19937_64 rng(3);
    Builder b;
    for (int i = 0; i < 1000; ++i) {
        const LocalSeconds t = monday + static_cast<LocalSeconds>(rng() % (200ULL * 86400ULL));
        if (i % 4 == 0) b.add(t, t + 7200);
        else b.add(t);
    }
    for (int step : {1, 5, 60}) {
        const CircularDensity d = circular_density(b.inc, {.kappa = 14.6, .step_minutes = step});
        ASSERT_EQ(d.density.size(), static_cast<std::size_t>(1440 / step));
        double s = 0;
        for (double v : d.density) s += v * step;
        EXPECT_NEAR(s, 1.0, step == 60 ? 1e-3 : 1e-9) << step;
    }
    // One incident at 17:00: the density peaks at 17:00 (its minute's centre is 17:00:30).
    Builder one;
    one.add(monday + 17 * 3600);
    const CircularDensity d1 = circular_density(one.inc, {.kappa = 50, .step_minutes = 1});
    EXPECT_EQ(std::max_element(d1.density.begin(), d1.density.end()) - d1.density.begin(), 17 * 60);
    EXPECT_THROW((void)circular_density(one.inc, {.step_minutes = 7}), InvalidInput);
}

// ------------------------------------------------------------------------------------- St. Louis

TEST(TemporalRealData, StLouisAfternoonPeak) {
    const std::string path = shared_data("stlouis/slmpd_crimes_2017_2018.csv.gz");
    STREETSAFE_REQUIRE_SHARED(path);
    const Incidents inc = read_incidents(path);
    // README: 17:00 is the busiest hour and 15:00-18:59 holds 22.5% of rows (excluding nothing).
    const TemporalProfile p = temporal_profile(inc);
    EXPECT_EQ(p.report.excluded_count(), 0);
    const auto h = p.hour_totals();
    EXPECT_EQ(std::max_element(h.begin(), h.end()) - h.begin(), 17);
    const double share = (h[15] + h[16] + h[17] + h[18]) / p.total();
    EXPECT_NEAR(share, 0.225, 0.005);
    EXPECT_NEAR(count_in_window(inc, parse_window("15:00-19:00")) / p.total(), share, 1e-12);
    // README: 00:01, SLMPD's "unknown time", is 1.35% of rows.
    const TemporalProfile s = temporal_profile(inc, {.sentinel_minutes = stlouis_sentinels()});
    const double sentinel_share = double(s.report.sentinel) / double(inc.size());
    EXPECT_NEAR(sentinel_share, 0.0135, 0.0015);
    EXPECT_EQ(s.report.excluded_count(), s.report.sentinel);
    std::cout << "[ St. Louis ] all rows: busiest hour 17, 15-19 share " << share << ", 00:01 sentinel share "
              << sentinel_share << "\n";
}

TEST(TemporalRealData, StLouisAssaultPeakIsSignificant) {
    const std::string path = shared_data("stlouis/slmpd_crimes_2017_2018.csv.gz");
    STREETSAFE_REQUIRE_SHARED(path);
    ReadOptions ro;
    ro.categories = {"Aggravated Assault", "Other assaults"};
    const Incidents inc = read_incidents(path, ro);
    ASSERT_GT(inc.size(), 11000u);
    const TemporalOptions opt{.sentinel_minutes = stlouis_sentinels()};
    const PeakWindow p = peak_window_test(inc, {.length_hours = 4, .replicates = 999, .seed = 1}, opt);
    // The best four hours start in the afternoon or evening (between 14:00 and 20:00).
    EXPECT_GE(p.start_hour, 14);
    EXPECT_LE(p.start_hour, 20);
    EXPECT_LT(p.p_value, 0.01);
    EXPECT_GT(p.share, p.expected_share);
    const CircularSummary c = circular_summary(inc, opt);
    EXPECT_LT(c.rayleigh_p, 1e-6);
    const CircularDensity d = circular_density(inc, {.kappa = 14.6, .step_minutes = 5}, opt);
    const auto peak = std::max_element(d.density.begin(), d.density.end()) - d.density.begin();
    std::cout << "[ St. Louis ] assaults (04+09), " << p.report.usable << " usable, " << p.report.sentinel
              << " at 00:01 excluded: best 4 h window " << p.start_hour << ":00-" << (p.start_hour + 4) % 24
              << ":00 holds " << p.count << " (" << 100 * p.share << "%, flat 16.7%), p = " << p.p_value
              << " (R = 999, " << p.sims_at_least << " sims >= obs); circular mean " << c.mean_minute / 60
              << " h, R = " << c.resultant_length << ", Rayleigh p = " << c.rayleigh_p << "; density peak at "
              << d.minute[static_cast<std::size_t>(peak)] / 60 << " h\n";
}
