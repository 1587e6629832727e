// Tests of streetsafe/time.hpp: known answers (police.uk months, US/ISO forms, DST edges),
// strict rejection, ranges, the zone cache, and property tests against an independent oracle
// (std::regex + civil-date arithmetic written here, sharing no code with src/time.cpp).

// GCC 12 with -fsanitize=address reports a false -Wmaybe-uninitialized inside <regex>'s use of
// std::function; <regex> comes first so the headers it pulls in are read with the warning off.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop
#endif

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "streetsafe/error.hpp"
#include "streetsafe/time.hpp"

namespace {

using streetsafe::format_time;
using streetsafe::InvalidInput;
using streetsafe::local_seconds;
using streetsafe::LocalSeconds;
using streetsafe::no_time;
using streetsafe::parse_time;
using streetsafe::TimePrecision;
using streetsafe::TimeRange;

constexpr std::int64_t hour_s = 3600;
constexpr std::int64_t day_s = 86400;

// ---- independent oracle ------------------------------------------------------------------------

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil, re-derived
/// here so the tests do not share code with the library under test).
std::int64_t days_from_civil(std::int64_t y, std::int64_t m, std::int64_t d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct Civil {
    std::int64_t year;
    int month, day, hour, minute, second;
};

Civil civil_from_seconds(LocalSeconds t) {
    std::int64_t days = t / day_s;
    std::int64_t rem = t % day_s;
    if (rem < 0) {
        rem += day_s;
        --days;
    }
    const std::int64_t z = days + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const auto d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    const auto m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    return {y,
            m,
            d,
            static_cast<int>(rem / hour_s),
            static_cast<int>(rem % hour_s / 60),
            static_cast<int>(rem % 60)};
}

bool is_leap(std::int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(std::int64_t y, int m) {
    static constexpr std::array<int, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[static_cast<std::size_t>(m - 1)];
}

LocalSeconds civil(std::int64_t y, int m, int d, int hh = 0, int mm = 0, int ss = 0) {
    return days_from_civil(y, m, d) * day_s + hh * hour_s + mm * 60 + ss;
}

bool oracle_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string oracle_trim(const std::string& s) {
    std::size_t b = 0;
    std::size_t e = s.size();
    while (b < e && oracle_space(s[b]))
        ++b;
    while (e > b && oracle_space(s[e - 1]))
        --e;
    return s.substr(b, e - b);
}

int num(const std::ssub_match& m) {
    return std::stoi(m.str());
}

/// The grammar of parse_time as regular expressions; `zone_offset_s` is the fixed UTC offset of
/// the zone the results are expected in (the oracle knows no DST, so use a fixed-offset zone).
std::optional<TimeRange> oracle_single(const std::string& raw, int zone_offset_s) {
    static const std::regex month_re(R"((\d{4})-(\d{2}))");
    static const std::regex day_re(R"((\d{4})-(\d{2})-(\d{2}))");
    static const std::regex iso_re(
        R"((\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)");
    static const std::regex us_day_re(R"((\d{1,2})/(\d{1,2})/(\d{4}))");
    static const std::regex us_re(
        R"((\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)");
    const std::string s = oracle_trim(raw);
    std::smatch m;
    const auto date_ok = [](int y, int mo, int d) {
        return mo >= 1 && mo <= 12 && d >= 1 && d <= days_in_month(y, mo);
    };
    if (std::regex_match(s, m, month_re)) {
        const int y = num(m[1]);
        const int mo = num(m[2]);
        if (mo < 1 || mo > 12) return std::nullopt;
        const LocalSeconds start = civil(y, mo, 1);
        return TimeRange{start, start + days_in_month(y, mo) * day_s - 1, TimePrecision::month};
    }
    if (std::regex_match(s, m, day_re) || std::regex_match(s, m, us_day_re)) {
        const bool us = s.find('/') != std::string::npos;
        const int y = num(m[us ? 3 : 1]);
        const int mo = num(m[us ? 1 : 2]);
        const int d = num(m[us ? 2 : 3]);
        if (!date_ok(y, mo, d)) return std::nullopt;
        return TimeRange{civil(y, mo, d), civil(y, mo, d) + day_s - 1, TimePrecision::day};
    }
    if (std::regex_match(s, m, iso_re)) {
        const int y = num(m[1]);
        const int mo = num(m[2]);
        const int d = num(m[3]);
        const int hh = num(m[4]);
        const int mm = num(m[5]);
        const int ss = m[6].matched ? num(m[6]) : 0;
        if (!date_ok(y, mo, d) || hh > 23 || mm > 59 || ss > 59) return std::nullopt;
        LocalSeconds t = civil(y, mo, d, hh, mm, ss);
        if (m[7].matched || m[8].matched) {
            int offset = 0;
            if (m[8].matched) {
                const int oh = num(m[9]);
                const int om = m[10].matched ? num(m[10]) : 0;
                if (oh > 23 || om > 59) return std::nullopt;
                offset = (oh * 3600 + om * 60) * (m[8].str() == "-" ? -1 : 1);
            }
            t = t - offset + zone_offset_s;
        }
        return TimeRange{t, t, m[6].matched ? TimePrecision::second : TimePrecision::minute};
    }
    if (std::regex_match(s, m, us_re)) {
        const int mo = num(m[1]);
        const int d = num(m[2]);
        const int y = num(m[3]);
        int hh = num(m[4]);
        const int mm = num(m[5]);
        const int ss = m[6].matched ? num(m[6]) : 0;
        if (m[7].matched) {
            if (hh < 1 || hh > 12) return std::nullopt;
            const bool pm = m[7].str()[0] == 'p' || m[7].str()[0] == 'P';
            hh = (hh == 12 ? 0 : hh) + (pm ? 12 : 0);
        }
        if (!date_ok(y, mo, d) || hh > 23 || mm > 59 || ss > 59) return std::nullopt;
        const LocalSeconds t = civil(y, mo, d, hh, mm, ss);
        return TimeRange{t, t, m[6].matched ? TimePrecision::second : TimePrecision::minute};
    }
    return std::nullopt;
}

std::optional<TimeRange> oracle_join(const std::optional<TimeRange>& a, const std::optional<TimeRange>& b) {
    if (!a || !b || b->end < a->start) return std::nullopt;
    return TimeRange{a->start, b->end, std::min(a->precision, b->precision)};
}

std::optional<TimeRange> oracle(const std::string& raw, int zone_offset_s) {
    static const std::regex between_re(R"(between\s+([\s\S]*?)\s+and\s+([\s\S]*))", std::regex::icase);
    static const std::regex interval_re(R"((\d{4}-[\s\S]*?)/([\s\S]*))");
    static const std::regex iso_start_re(R"(\d{4}-[\s\S]*)");
    const std::string s = oracle_trim(raw);
    std::smatch m;
    if (std::regex_match(s, m, between_re))
        return oracle_join(oracle_single(m[1].str(), zone_offset_s),
                           oracle_single(m[2].str(), zone_offset_s));
    if (std::regex_match(s, m, interval_re)) {
        const std::string a = oracle_trim(m[1].str());
        const std::string b = oracle_trim(m[2].str());
        if (!std::regex_match(a, iso_start_re) || !std::regex_match(b, iso_start_re)) return std::nullopt;
        return oracle_join(oracle_single(a, zone_offset_s), oracle_single(b, zone_offset_s));
    }
    return oracle_single(s, zone_offset_s);
}

// ---- helpers -----------------------------------------------------------------------------------

std::string show(const std::optional<TimeRange>& r) {
    if (!r) return "nullopt";
    return "{" + std::to_string(r->start) + " " + format_time(r->start) + ", " + std::to_string(r->end) +
           " " + format_time(r->end) + ", " + std::string(streetsafe::to_string(r->precision)) + "}";
}

bool same(const std::optional<TimeRange>& a, const std::optional<TimeRange>& b) {
    if (a.has_value() != b.has_value()) return false;
    return !a || (a->start == b->start && a->end == b->end && a->precision == b->precision);
}

::testing::AssertionResult parses_to(std::string_view text, std::string_view zone, LocalSeconds start,
                                     LocalSeconds end, TimePrecision precision) {
    const auto got = parse_time(text, zone);
    const auto want = std::optional<TimeRange>(TimeRange{start, end, precision});
    if (same(got, want)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "parse_time(\"" << text << "\", " << zone << ") gave "
                                         << show(got) << ", expected " << show(want);
}

::testing::AssertionResult parses_to(std::string_view text, std::string_view zone, LocalSeconds instant,
                                     TimePrecision precision) {
    return parses_to(text, zone, instant, instant, precision);
}

::testing::AssertionResult rejected(std::string_view text, std::string_view zone = "UTC") {
    const auto got = parse_time(text, zone);
    if (!got) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "parse_time(\"" << text << "\") should be rejected, gave " << show(got);
}

// ---- to_string and local_seconds ---------------------------------------------------------------

TEST(TimePrecision, NamesEveryValue) {
    EXPECT_EQ(streetsafe::to_string(TimePrecision::none), "none");
    EXPECT_EQ(streetsafe::to_string(TimePrecision::month), "month");
    EXPECT_EQ(streetsafe::to_string(TimePrecision::day), "day");
    EXPECT_EQ(streetsafe::to_string(TimePrecision::minute), "minute");
    EXPECT_EQ(streetsafe::to_string(TimePrecision::second), "second");
    EXPECT_THROW((void)streetsafe::to_string(static_cast<TimePrecision>(9)), InvalidInput);
}

TEST(TimeLocalSeconds, KnownValues) {
    EXPECT_EQ(local_seconds(1970, 1, 1), 0);
    EXPECT_EQ(local_seconds(1969, 12, 31, 23, 59, 59), -1);
    EXPECT_EQ(local_seconds(2017, 3, 1), 1488326400); // `date -u -d 2017-03-01 +%s`
    EXPECT_EQ(local_seconds(2000, 2, 29, 12, 34, 56), 951827696);
    EXPECT_EQ(local_seconds(1900, 1, 1), -2208988800);
    EXPECT_EQ(local_seconds(2016, 2, 29), civil(2016, 2, 29));
}

TEST(TimeLocalSeconds, RejectsFieldsOutOfRangeNamingThem) {
    const auto message = [](auto&& f) -> std::string {
        try {
            f();
        } catch (const InvalidInput& e) {
            return e.what();
        }
        return "no exception";
    };
    EXPECT_EQ(message([] { local_seconds(2017, 13, 1); }), "month 13 is out of range: expected 1 to 12");
    EXPECT_EQ(message([] { local_seconds(2017, 0, 1); }), "month 0 is out of range: expected 1 to 12");
    EXPECT_EQ(message([] { local_seconds(2017, 2, 29); }),
              "day 29 does not exist in 2017-02: expected 1 to 28");
    EXPECT_EQ(message([] { local_seconds(2017, 4, 0); }),
              "day 0 does not exist in 2017-04: expected 1 to 30");
    EXPECT_EQ(message([] { local_seconds(2017, 1, 257); }),
              "day 257 does not exist in 2017-01: expected 1 to 31");
    EXPECT_EQ(message([] { local_seconds(2017, 1, 1, 24); }), "hour 24 is out of range: expected 0 to 23");
    EXPECT_EQ(message([] { local_seconds(2017, 1, 1, -1); }), "hour -1 is out of range: expected 0 to 23");
    EXPECT_EQ(message([] { local_seconds(2017, 1, 1, 0, 60); }),
              "minute 60 is out of range: expected 0 to 59");
    EXPECT_EQ(message([] { local_seconds(2017, 1, 1, 0, 0, 60); }),
              "second 60 is out of range: expected 0 to 59");
    EXPECT_EQ(message([] { local_seconds(40000, 1, 1); }),
              "year 40000 is out of range: expected -32767 to 32767");
}

// ---- single forms ------------------------------------------------------------------------------

TEST(TimeParse, PoliceUkMonthSpansTheWholeMonth) {
    EXPECT_TRUE(parses_to("2017-03", "Europe/London", local_seconds(2017, 3, 1),
                          local_seconds(2017, 4, 1) - 1, TimePrecision::month));
    EXPECT_TRUE(parses_to("2017-12", "Europe/London", local_seconds(2017, 12, 1),
                          local_seconds(2018, 1, 1) - 1, TimePrecision::month));
    EXPECT_TRUE(parses_to("2016-02", "Europe/London", local_seconds(2016, 2, 1),
                          local_seconds(2016, 2, 29, 23, 59, 59), TimePrecision::month));
}

TEST(TimeParse, IsoDateSpansTheWholeDay) {
    EXPECT_TRUE(parses_to("2017-03-12", "America/Chicago", local_seconds(2017, 3, 12),
                          local_seconds(2017, 3, 12, 23, 59, 59), TimePrecision::day));
    EXPECT_TRUE(parses_to("2016-02-29", "UTC", local_seconds(2016, 2, 29), local_seconds(2016, 3, 1) - 1,
                          TimePrecision::day));
}

TEST(TimeParse, IsoDateTimes) {
    // St. Louis (SLMPD) writes minutes with a space.
    EXPECT_TRUE(parses_to("2017-01-01 00:01", "America/Chicago", local_seconds(2017, 1, 1, 0, 1),
                          TimePrecision::minute));
    EXPECT_TRUE(parses_to("2017-01-01T00:01", "UTC", local_seconds(2017, 1, 1, 0, 1), TimePrecision::minute));
    EXPECT_TRUE(parses_to("2017-01-01t23:59:58", "UTC", local_seconds(2017, 1, 1, 23, 59, 58),
                          TimePrecision::second));
    EXPECT_TRUE(parses_to("2017-01-01T00:00:00", "UTC", local_seconds(2017, 1, 1), TimePrecision::second));
    // Fractions are truncated, never rounded up into the next second.
    EXPECT_TRUE(parses_to("2017-01-01T10:20:30.999", "UTC", local_seconds(2017, 1, 1, 10, 20, 30),
                          TimePrecision::second));
    EXPECT_TRUE(parses_to("2017-01-01T10:20:30,5", "UTC", local_seconds(2017, 1, 1, 10, 20, 30),
                          TimePrecision::second));
    EXPECT_TRUE(parses_to("2017-01-01 23:59:59.999999999", "UTC", local_seconds(2017, 1, 1, 23, 59, 59),
                          TimePrecision::second));
    EXPECT_TRUE(
        parses_to("  \t2017-05-01T14:00\r\n ", "UTC", local_seconds(2017, 5, 1, 14), TimePrecision::minute));
    EXPECT_TRUE(parses_to("0000-01-01T00:00:00", "UTC", civil(0, 1, 1), TimePrecision::second));
    EXPECT_TRUE(
        parses_to("9999-12-31T23:59:59", "UTC", civil(9999, 12, 31, 23, 59, 59), TimePrecision::second));
}

TEST(TimeParse, OffsetsAreConvertedToTheZonesWallClock) {
    // BST: +01:00 in summer, so the wall time is unchanged.
    EXPECT_TRUE(parses_to("2017-06-15T17:30:00+01:00", "Europe/London", local_seconds(2017, 6, 15, 17, 30),
                          TimePrecision::second));
    EXPECT_TRUE(parses_to("2017-06-15T16:30:00Z", "Europe/London", local_seconds(2017, 6, 15, 17, 30),
                          TimePrecision::second));
    EXPECT_TRUE(parses_to("2017-01-15T16:30:00Z", "Europe/London", local_seconds(2017, 1, 15, 16, 30),
                          TimePrecision::second));
    // CST is UTC-6.
    EXPECT_TRUE(parses_to("2017-01-15T17:30:00Z", "America/Chicago", local_seconds(2017, 1, 15, 11, 30),
                          TimePrecision::second));
    EXPECT_TRUE(parses_to("2017-01-15T17:30z", "America/Chicago", local_seconds(2017, 1, 15, 11, 30),
                          TimePrecision::minute));
    // Every offset spelling.
    for (const char* text :
         {"2017-01-15T12:30:00-05:00", "2017-01-15T12:30:00-0500", "2017-01-15T12:30:00-05",
          "2017-01-15 18:30:00+0100", "2017-01-15T23:00:00+05:30", "2017-01-15T17:30:00+00:00",
          "2017-01-15T17:30:00-00:00"})
        EXPECT_TRUE(
            parses_to(text, "America/Chicago", local_seconds(2017, 1, 15, 11, 30), TimePrecision::second));
    // Conversion crosses midnight and the year.
    EXPECT_TRUE(parses_to("2017-01-01T03:00:00Z", "America/Chicago", local_seconds(2016, 12, 31, 21),
                          TimePrecision::second));
    EXPECT_TRUE(parses_to("2016-12-31T20:00:00-06:00", "Asia/Tokyo", local_seconds(2017, 1, 1, 11),
                          TimePrecision::second));
}

TEST(TimeParse, DstEdgesInChicago) {
    // Spring forward, 2017-03-12 08:00Z: 01:59:59 CST is followed by 03:00:00 CDT.
    EXPECT_TRUE(parses_to("2017-03-12T07:59:59Z", "America/Chicago", local_seconds(2017, 3, 12, 1, 59, 59),
                          TimePrecision::second));
    EXPECT_TRUE(parses_to("2017-03-12T08:00:00Z", "America/Chicago", local_seconds(2017, 3, 12, 3),
                          TimePrecision::second));
    EXPECT_TRUE(parses_to("2017-03-12T08:30:00Z", "America/Chicago", local_seconds(2017, 3, 12, 3, 30),
                          TimePrecision::second));
    // Fall back, 2017-11-05: 01:30 happens twice, at 06:30Z (CDT) and 07:30Z (CST).
    EXPECT_TRUE(parses_to("2017-11-05T06:30:00Z", "America/Chicago", local_seconds(2017, 11, 5, 1, 30),
                          TimePrecision::second));
    EXPECT_TRUE(parses_to("2017-11-05T07:30:00Z", "America/Chicago", local_seconds(2017, 11, 5, 1, 30),
                          TimePrecision::second));
    // Without an offset the text already is wall time: no conversion, even inside the DST gap.
    EXPECT_TRUE(parses_to("03/12/2017 02:30:00 AM", "America/Chicago", local_seconds(2017, 3, 12, 2, 30),
                          TimePrecision::second));
    EXPECT_TRUE(parses_to("2017-03-12T02:30:00", "America/Chicago", local_seconds(2017, 3, 12, 2, 30),
                          TimePrecision::second));
    EXPECT_TRUE(parses_to("2017-11-05 01:30", "America/Chicago", local_seconds(2017, 11, 5, 1, 30),
                          TimePrecision::minute));
}

TEST(TimeParse, UsTwelveHourClock) {
    const auto at = [](int h, int m, int s = 0) { return local_seconds(2017, 1, 1, h, m, s); };
    EXPECT_TRUE(parses_to("01/01/2017 12:00 AM", "UTC", at(0, 0), TimePrecision::minute));
    EXPECT_TRUE(parses_to("01/01/2017 12:59:59 AM", "UTC", at(0, 59, 59), TimePrecision::second));
    EXPECT_TRUE(parses_to("01/01/2017 01:00 AM", "UTC", at(1, 0), TimePrecision::minute));
    EXPECT_TRUE(parses_to("01/01/2017 11:59 AM", "UTC", at(11, 59), TimePrecision::minute));
    EXPECT_TRUE(parses_to("01/01/2017 12:00 PM", "UTC", at(12, 0), TimePrecision::minute));
    EXPECT_TRUE(parses_to("01/01/2017 12:30:15 pm", "UTC", at(12, 30, 15), TimePrecision::second));
    EXPECT_TRUE(parses_to("01/01/2017 01:15 PM", "UTC", at(13, 15), TimePrecision::minute));
    EXPECT_TRUE(parses_to("01/01/2017 11:59:59 Pm", "UTC", at(23, 59, 59), TimePrecision::second));
    EXPECT_TRUE(parses_to("01/01/2017 10:00am", "UTC", at(10, 0), TimePrecision::minute));
    EXPECT_TRUE(parses_to("1/1/2017 9:05 PM", "UTC", at(21, 5), TimePrecision::minute));
    EXPECT_TRUE(parses_to("01/01/2017  9:05\tpM", "UTC", at(21, 5), TimePrecision::minute));
}

TEST(TimeParse, UsTwentyFourHourClockAndDates) {
    EXPECT_TRUE(
        parses_to("03/12/2017 14:30", "UTC", local_seconds(2017, 3, 12, 14, 30), TimePrecision::minute));
    EXPECT_TRUE(
        parses_to("03/12/2017 00:00:01", "UTC", local_seconds(2017, 3, 12, 0, 0, 1), TimePrecision::second));
    EXPECT_TRUE(
        parses_to("03/12/2017 23:59", "UTC", local_seconds(2017, 3, 12, 23, 59), TimePrecision::minute));
    EXPECT_TRUE(parses_to("03/12/2017", "UTC", local_seconds(2017, 3, 12), local_seconds(2017, 3, 13) - 1,
                          TimePrecision::day));
    EXPECT_TRUE(parses_to("2/29/2016", "UTC", local_seconds(2016, 2, 29), local_seconds(2016, 3, 1) - 1,
                          TimePrecision::day));
}

TEST(TimeParse, RejectsInvalidText) {
    for (const char* text :
         {"", " ", "\t\n", "2017", "2017-", "2017-1", "2017-13", "2017-00", "2017-1-01", "17-01-01",
          "20170101", "2017-02-30", "2017-02-29", "2100-02-29", "2017-04-31", "2017-01-00", "2017-01-32",
          "2017-01-01T", "2017-01-01T10", "2017-01-01T1:00", "2017-01-01T10:0", "2017-01-01T10:000",
          "2017-01-01T24:00", "2017-01-01T24:00:00", "2017-01-01 23:60", "2017-01-01T23:59:60",
          "2017-01-01T10:00:0", "2017-01-01T10:00:00.", "2017-01-01T10:00:00.x", "2017-01-01T10:00.5",
          "2017-01-01T10:00x", "2017-01-01T10:00:00 x", "2017-01-01x", "2017-03x", "2017-01-01Z", "2017-03Z",
          "2017-01-01T10:00+1", "2017-01-01T10:00+01:0", "2017-01-01T10:00+01:", "2017-01-01T10:00+0100x",
          "2017-01-01T10:00+24:00", "2017-01-01T10:00+01:60", "2017-01-01T10:00 +01:00", "2017-01-01T10:00ZZ",
          "2017-01-01_10:00", "2017-01-01  10:00", "2017/01/01", "+2017-01-01", "-2017-01-01",
          "２０１７-01-01",
          // US forms
          "13/01/2017 10:00 AM", "00/01/2017", "02/30/2017", "02/29/2017", "1/1/17", "001/01/2017",
          "01/01/02017", "01/01/2017 13:00 PM", "01/01/2017 00:30 AM", "01/01/2017 24:00",
          "01/01/2017 10:00 XM", "01/01/2017 10:00 A", "01/01/2017 10:00 AMX", "01/01/2017 10:00 A.M.",
          "01/01/2017 10 AM", "01/01/2017 10:00:00.5", "01/01/2017T10:00", "01/01/2017 10:00Z", "01-01-2017",
          "01/01/2017 9:5", "1/1/2017 123:00",
          // words
          "yesterday", "NaT", "null", "between", "between 2017-01-01", "between and 2017-01-01",
          "between 2017-01-01 and", "2017-01-01 and 2017-01-02", "betwixt 2017-01-01 and 2017-01-02",
          "between2017-01-01 and 2017-01-02"})
        EXPECT_TRUE(rejected(text)) << "text: " << text;
}

TEST(TimeParse, RejectsEmbeddedNulsAndHugeInputs) {
    using namespace std::string_literals;
    EXPECT_TRUE(rejected("2017-01-01\0"s));
    EXPECT_TRUE(rejected("\0"s
                         "2017-01-01"s));
    EXPECT_TRUE(rejected("2017-01\0-01"s));
    EXPECT_TRUE(rejected("01/01/2017 10:00 A\0M"s));
    EXPECT_TRUE(rejected(std::string(1 << 20, '9')));
    EXPECT_TRUE(rejected(std::string(1 << 20, '\0')));
    EXPECT_TRUE(rejected(std::string(1 << 20, ' ')));
    EXPECT_TRUE(rejected("2017-01-01T10:00:00.0" + std::string(1 << 20, '9') + "x"));
    EXPECT_TRUE(rejected("between " + std::string(1 << 20, ' ') + " and"));
    std::string ands = "between";
    for (int i = 0; i < 100000; ++i)
        ands += " and";
    EXPECT_TRUE(rejected(ands));
    EXPECT_TRUE(rejected("2017-01-01" + std::string(1 << 20, '/')));
    EXPECT_TRUE(
        rejected("01/01/2017 " + std::string(1 << 20, ' ') + "10:00" + std::string(1 << 20, ' ') + "PMx"));
    // A long fraction is still only a fraction.
    EXPECT_TRUE(parses_to("2017-01-01T10:00:00." + std::string(1 << 20, '9'), "UTC",
                          local_seconds(2017, 1, 1, 10), TimePrecision::second));
}

// ---- ranges ------------------------------------------------------------------------------------

TEST(TimeParse, IsoIntervals) {
    EXPECT_TRUE(parses_to("2017-05-01T14:00/2017-05-01T18:30", "UTC", local_seconds(2017, 5, 1, 14),
                          local_seconds(2017, 5, 1, 18, 30), TimePrecision::minute));
    EXPECT_TRUE(parses_to("2017-05-01T14:00:00 / 2017-05-01T18:30:10", "UTC", local_seconds(2017, 5, 1, 14),
                          local_seconds(2017, 5, 1, 18, 30, 10), TimePrecision::second));
    // The coarser precision wins, and a coarse end covers its whole day or month.
    EXPECT_TRUE(parses_to("2017-05-01T14:00:00/2017-05-02", "UTC", local_seconds(2017, 5, 1, 14),
                          local_seconds(2017, 5, 3) - 1, TimePrecision::day));
    EXPECT_TRUE(parses_to("2017-03/2017-05", "UTC", local_seconds(2017, 3, 1), local_seconds(2017, 6, 1) - 1,
                          TimePrecision::month));
    EXPECT_TRUE(parses_to("2017-05-01/2017-05-01", "UTC", local_seconds(2017, 5, 1),
                          local_seconds(2017, 5, 2) - 1, TimePrecision::day));
    // Each end is converted on its own.
    EXPECT_TRUE(parses_to("2017-03-12T07:30:00Z/2017-03-12T08:30:00Z", "America/Chicago",
                          local_seconds(2017, 3, 12, 1, 30), local_seconds(2017, 3, 12, 3, 30),
                          TimePrecision::second));
    // An instant as a degenerate range.
    EXPECT_TRUE(parses_to("2017-05-01T14:00/2017-05-01T14:00", "UTC", local_seconds(2017, 5, 1, 14),
                          TimePrecision::minute));
}

TEST(TimeParse, BetweenAAndB) {
    EXPECT_TRUE(parses_to("between 2017-05-01 14:00 and 2017-05-01 18:30", "UTC",
                          local_seconds(2017, 5, 1, 14), local_seconds(2017, 5, 1, 18, 30),
                          TimePrecision::minute));
    EXPECT_TRUE(parses_to("  BETWEEN\t2017-05-01 14:00   AND 2017-05-01 18:30:00 ", "UTC",
                          local_seconds(2017, 5, 1, 14), local_seconds(2017, 5, 1, 18, 30),
                          TimePrecision::minute));
    EXPECT_TRUE(parses_to("Between 05/01/2017 02:00 PM and 05/01/2017 06:30:00 PM", "UTC",
                          local_seconds(2017, 5, 1, 14), local_seconds(2017, 5, 1, 18, 30),
                          TimePrecision::minute));
    EXPECT_TRUE(parses_to("between 2017-05-01 and 05/03/2017", "UTC", local_seconds(2017, 5, 1),
                          local_seconds(2017, 5, 4) - 1, TimePrecision::day));
    EXPECT_TRUE(parses_to("between 2017-05 and 2017-05-03T10:00", "UTC", local_seconds(2017, 5, 1),
                          local_seconds(2017, 5, 3, 10), TimePrecision::month));
}

TEST(TimeParse, RejectsBackwardsAndMalformedRanges) {
    EXPECT_TRUE(rejected("2017-05-01T18:30/2017-05-01T14:00"));
    EXPECT_TRUE(rejected("between 2017-05-01 18:30 and 2017-05-01 14:00"));
    EXPECT_TRUE(rejected("2017-05-02/2017-05-01"));
    EXPECT_TRUE(rejected("2017-05-01T00:00:01/2017-04"));
    // ISO intervals take ISO ends only: US dates contain '/' themselves.
    EXPECT_TRUE(rejected("2017-05-01T14:00/05/01/2017 18:30"));
    EXPECT_TRUE(rejected("2017-05-01T14:00/18:30")); // abbreviated end: not supported
    EXPECT_TRUE(rejected("2017-05-01T14:00/PT4H"));  // duration: not supported
    EXPECT_TRUE(rejected("2017-05-01T14:00/"));
    EXPECT_TRUE(rejected("/2017-05-01T14:00"));
    EXPECT_TRUE(rejected("2017-05-01/2017-05-02/2017-05-03"));
    EXPECT_TRUE(rejected("05/01/2017 14:00/05/01/2017 18:30"));
    EXPECT_TRUE(rejected("between 2017-05-01 and 2017-05-02 and 2017-05-03"));
    EXPECT_TRUE(rejected("between 2017-05-01/2017-05-02 and 2017-05-03"));
    EXPECT_TRUE(rejected("between 2017-02-30 and 2017-05-03"));
    // Backwards only on the wall clock: 01:30 CDT to 01:10 CST is 40 minutes of real time, but the
    // stored wall-clock range would run backwards.
    EXPECT_TRUE(rejected("2017-11-05T06:30:00Z/2017-11-05T07:10:00Z", "America/Chicago"));
}

// ---- zones -------------------------------------------------------------------------------------

TEST(TimeZone, UnknownZoneThrowsNamingIt) {
    for (const char* zone : {"Mars/Olympus_Mons", "", "europe/london", "CET+1"}) {
        try {
            streetsafe::validate_time_zone(zone);
            ADD_FAILURE() << "no exception for zone \"" << zone << '"';
        } catch (const InvalidInput& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find('"' + std::string(zone) + '"'), std::string::npos) << what;
            EXPECT_NE(what.find("IANA"), std::string::npos) << what;
            EXPECT_NE(what.find("\"Europe/London\""), std::string::npos) << what;
        }
        EXPECT_THROW(parse_time("2017-01-01", zone), InvalidInput);
        EXPECT_THROW(parse_time("not a time", zone), InvalidInput); // the zone is checked first
    }
    // Hostile zone names are escaped and cut in the message.
    try {
        streetsafe::validate_time_zone(std::string("Bad\0\n", 5) + std::string(1000, 'x'));
        ADD_FAILURE() << "no exception";
    } catch (const InvalidInput& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("\"Bad\\x00\\x0a"), std::string::npos) << what;
        EXPECT_LT(what.size(), 300U) << what;
    }
}

TEST(TimeZone, KnownZonesAndLinks) {
    for (const char* zone : {"UTC", "Etc/UTC", "Europe/London", "America/Chicago", "America/New_York",
                             "Asia/Kolkata", "Australia/Lord_Howe", "Etc/GMT+5", "GB", "US/Central"})
        EXPECT_NO_THROW(streetsafe::validate_time_zone(zone)) << zone;
    EXPECT_TRUE(
        parses_to("2017-07-01T12:00:00Z", "US/Central", local_seconds(2017, 7, 1, 7), TimePrecision::second));
}

TEST(TimeZone, AlternatingZonesUseTheRightOne) {
    // The per-thread cache keeps only the last zone; switching must never reuse a stale one.
    for (int i = 0; i < 100; ++i) {
        EXPECT_TRUE(parses_to("2017-07-01T12:00:00Z", "Europe/London", local_seconds(2017, 7, 1, 13),
                              TimePrecision::second));
        EXPECT_TRUE(parses_to("2017-07-01T12:00:00Z", "America/Chicago", local_seconds(2017, 7, 1, 7),
                              TimePrecision::second));
        EXPECT_THROW(parse_time("2017-07-01T12:00:00Z", "Nowhere/Special"), InvalidInput);
    }
}

TEST(TimeZone, ThreadsParseWithTheirOwnZones) {
    struct Case {
        const char* zone;
        LocalSeconds expected;
    };
    const std::array<Case, 4> cases{{{"UTC", local_seconds(2017, 7, 1, 12)},
                                     {"Europe/London", local_seconds(2017, 7, 1, 13)},
                                     {"America/Chicago", local_seconds(2017, 7, 1, 7)},
                                     {"Asia/Kolkata", local_seconds(2017, 7, 1, 17, 30)}}};
    std::array<int, 4> failures{};
    std::vector<std::thread> threads;
    for (std::size_t k = 0; k < cases.size(); ++k)
        threads.emplace_back([&, k] {
            for (int i = 0; i < 2000; ++i) {
                const auto r = parse_time("2017-07-01T12:00:00Z", cases[k].zone);
                if (!r || r->start != cases[k].expected) ++failures[k];
            }
        });
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(failures, (std::array<int, 4>{}));
}

// ---- format_time -------------------------------------------------------------------------------

TEST(TimeFormat, EveryPrecision) {
    const LocalSeconds t = local_seconds(2017, 3, 9, 7, 5, 3);
    EXPECT_EQ(format_time(t), "2017-03-09T07:05:03");
    EXPECT_EQ(format_time(t, TimePrecision::second), "2017-03-09T07:05:03");
    EXPECT_EQ(format_time(t, TimePrecision::minute), "2017-03-09T07:05");
    EXPECT_EQ(format_time(t, TimePrecision::day), "2017-03-09");
    EXPECT_EQ(format_time(t, TimePrecision::month), "2017-03");
    EXPECT_EQ(format_time(t, TimePrecision::none), "");
    EXPECT_EQ(format_time(no_time), "");
    EXPECT_EQ(format_time(no_time, TimePrecision::month), "");
    EXPECT_EQ(format_time(-1), "1969-12-31T23:59:59");
    EXPECT_EQ(format_time(0), "1970-01-01T00:00:00");
    EXPECT_EQ(format_time(civil(0, 1, 1)), "0000-01-01T00:00:00");
    EXPECT_EQ(format_time(civil(-1, 12, 31, 23, 59, 59)), "-0001-12-31T23:59:59");
    EXPECT_EQ(format_time(civil(10000, 1, 1)), "+10000-01-01T00:00:00");
    EXPECT_EQ(format_time(civil(32767, 12, 31, 23, 59, 59)), "+32767-12-31T23:59:59");
    EXPECT_EQ(format_time(civil(-32767, 1, 1)), "-32767-01-01T00:00:00");
}

TEST(TimeFormat, RejectsOutOfRangeValues) {
    EXPECT_THROW(format_time(civil(32768, 1, 1)), InvalidInput);
    EXPECT_THROW(format_time(civil(-32767, 1, 1) - 1), InvalidInput);
    EXPECT_THROW(format_time(std::numeric_limits<LocalSeconds>::max()), InvalidInput);
    EXPECT_THROW(format_time(no_time + 1), InvalidInput);
    EXPECT_THROW(format_time(0, static_cast<TimePrecision>(5)), InvalidInput);
}

TEST(TimeFormat, RoundTripsThroughParseForEveryPrecision) {
    for (const char* text : {"2017-03", "2017-03-12", "2017-03-12T02:30", "2017-03-12T02:30:59", "1900-01",
                             "2100-12-31T23:59:59", "0000-01-01", "9999-12"}) {
        const auto r = parse_time(text, "America/Chicago");
        ASSERT_TRUE(r) << text;
        EXPECT_EQ(format_time(r->start, r->precision), text);
    }
}

// ---- properties --------------------------------------------------------------------------------

TEST(TimeProperties, RandomLocalTimesRoundTrip) {
    std::mt19937_64 rng(20170312);
    const LocalSeconds lo = local_seconds(1900, 1, 1);
    const LocalSeconds hi = local_seconds(2100, 12, 31, 23, 59, 59);
    std::uniform_int_distribution<LocalSeconds> pick(lo, hi);
    for (int i = 0; i < 20000; ++i) {
        const LocalSeconds t = pick(rng);
        const Civil c = civil_from_seconds(t);
        ASSERT_EQ(civil(c.year, c.month, c.day, c.hour, c.minute, c.second), t);
        ASSERT_EQ(local_seconds(static_cast<int>(c.year), static_cast<unsigned>(c.month),
                                static_cast<unsigned>(c.day), c.hour, c.minute, c.second),
                  t);

        char expected[64];
        std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT%02d:%02d:%02d", static_cast<int>(c.year),
                      c.month, c.day, c.hour, c.minute, c.second);
        ASSERT_EQ(format_time(t), expected);

        const LocalSeconds minute = t - c.second;
        const LocalSeconds day = civil(c.year, c.month, c.day);
        const LocalSeconds month = civil(c.year, c.month, 1);
        const LocalSeconds month_end = month + days_in_month(c.year, c.month) * day_s - 1;
        ASSERT_TRUE(
            parses_to(format_time(t, TimePrecision::second), "America/Chicago", t, TimePrecision::second));
        ASSERT_TRUE(parses_to(format_time(t, TimePrecision::minute), "America/Chicago", minute,
                              TimePrecision::minute));
        ASSERT_TRUE(parses_to(format_time(t, TimePrecision::day), "America/Chicago", day, day + day_s - 1,
                              TimePrecision::day));
        ASSERT_TRUE(parses_to(format_time(t, TimePrecision::month), "America/Chicago", month, month_end,
                              TimePrecision::month));

        // The same instant in the US 12-hour and 24-hour forms, padded or not.
        const bool pad = (i & 1) != 0;
        const int h12 = c.hour % 12 == 0 ? 12 : c.hour % 12;
        char us[64];
        std::snprintf(us, sizeof us, pad ? "%02d/%02d/%04d %02d:%02d:%02d %s" : "%d/%d/%04d %d:%02d:%02d%s",
                      c.month, c.day, static_cast<int>(c.year), h12, c.minute, c.second,
                      c.hour < 12 ? "AM" : "pm");
        ASSERT_TRUE(parses_to(us, "Europe/London", t, TimePrecision::second));
        std::snprintf(us, sizeof us, "%02d/%02d/%04d %02d:%02d", c.month, c.day, static_cast<int>(c.year),
                      c.hour, c.minute);
        ASSERT_TRUE(parses_to(us, "Europe/London", minute, TimePrecision::minute));

        // With an offset, into a fixed-offset zone (Etc/GMT+5 is UTC-5).
        const int offset_min = static_cast<int>(rng() % (14 * 60 * 2 + 1)) - 14 * 60;
        char iso[64];
        std::snprintf(iso, sizeof iso, "%sZ", format_time(t).c_str());
        ASSERT_TRUE(parses_to(iso, "Etc/GMT+5", t - 5 * hour_s, TimePrecision::second));
        std::snprintf(iso, sizeof iso, "%s%c%02d:%02d", format_time(t).c_str(), offset_min < 0 ? '-' : '+',
                      std::abs(offset_min) / 60, std::abs(offset_min) % 60);
        ASSERT_TRUE(parses_to(iso, "Etc/GMT+5", t - offset_min * 60 - 5 * hour_s, TimePrecision::second));
    }
}

/// Valid seeds for mutation: every form, ranges included.
const std::vector<std::string>& seeds() {
    static const std::vector<std::string> s{
        "2017-03",
        "2016-02-29",
        "2017-01-01 00:01",
        "2017-06-15T17:30:00+01:00",
        "2017-01-15T17:30:00.250Z",
        "2017-01-15T17:30:00-0530",
        "2017-01-15T17:30-05",
        "03/12/2017 02:30:00 AM",
        "12/31/2016 12:00 PM",
        "1/2/2017 9:05pm",
        "03/12/2017 14:30",
        "03/12/2017",
        "2017-05-01T14:00/2017-05-01T18:30",
        "2017-03/2017-05-02",
        "between 2017-05-01 14:00 and 2017-05-01 18:30",
        "between 05/01/2017 02:00 PM and 2017-05-02",
    };
    return s;
}

std::string mutate(std::string s, std::mt19937_64& rng) {
    static const std::string alphabet =
        std::string("0123456789012345678901234567890123456789-/:T tZz+.,APMapm \t\n", 60) +
        std::string(1, '\0') + "\xff\x80" + "betwnad";
    const auto any_char = [&] { return alphabet[rng() % alphabet.size()]; };
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
        const std::size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
        switch (rng() % 6) {
        case 0: // replace
            if (at < s.size()) s[at] = any_char();
            break;
        case 1: // insert
            s.insert(at, 1, any_char());
            break;
        case 2: // delete
            if (at < s.size()) s.erase(at, 1);
            break;
        case 3: // swap neighbours
            if (at + 1 < s.size()) std::swap(s[at], s[at + 1]);
            break;
        case 4: // bump a digit, often into an invalid field value
            if (at < s.size() && s[at] >= '0' && s[at] <= '9')
                s[at] = static_cast<char>('0' + (s[at] - '0' + 1) % 10);
            break;
        default: // duplicate a piece
            if (at < s.size()) s.insert(at, s.substr(at, 1 + rng() % 5));
            break;
        }
    }
    return s;
}

TEST(TimeProperties, MutatedTextAgreesWithTheRegexOracle) {
    std::mt19937_64 rng(42);
    constexpr int zone_offset = -5 * 3600; // Etc/GMT+5
    int accepted = 0;
    int rejected_count = 0;
    for (int i = 0; i < 30000; ++i) {
        const std::string& seed = seeds()[rng() % seeds().size()];
        const std::string text = mutate(seed, rng);
        const auto got = parse_time(text, "Etc/GMT+5");
        const auto want = oracle(text, zone_offset);
        ASSERT_TRUE(same(got, want)) << "text \"" << text << "\" (from \"" << seed << "\"): parse_time gave "
                                     << show(got) << ", the oracle " << show(want);
        if (got) {
            ++accepted;
            ASSERT_LE(got->start, got->end);
            ASSERT_NE(got->precision, TimePrecision::none);
        } else {
            ++rejected_count;
        }
    }
    // Both outcomes must be well represented, or the test proves little.
    EXPECT_GT(accepted, 3000);
    EXPECT_GT(rejected_count, 3000);
    // And every seed itself agrees.
    for (const auto& seed : seeds())
        EXPECT_TRUE(same(parse_time(seed, "Etc/GMT+5"), oracle(seed, zone_offset))) << seed;
}

TEST(TimeProperties, RandomBytesAreRejectedSafelyAndStayRejected) {
    std::mt19937_64 rng(7);
    const std::string good = "2017-05-01T14:00";
    int checked = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string text(rng() % 48, '\0');
        for (auto& ch : text)
            ch = static_cast<char>(static_cast<unsigned char>(rng() & 0xff));
        if (i % 2 == 0) text = mutate(seeds()[rng() % seeds().size()], rng) + text; // near-valid prefix
        std::optional<TimeRange> got;
        ASSERT_NO_THROW(got = parse_time(text, "UTC"));
        ASSERT_TRUE(same(got, oracle(text, 0))) << "text of " << text.size() << " bytes gave " << show(got);
        ASSERT_TRUE(same(got, parse_time(text, "UTC"))); // deterministic
        if (got) continue;
        // A rejected text stays rejected as either end of a range.
        ++checked;
        ASSERT_FALSE(parse_time("between " + text + " and " + good, "UTC"));
        ASSERT_FALSE(parse_time("between " + good + " and " + text, "UTC"));
        ASSERT_FALSE(parse_time(good + "/" + text, "UTC"));
        ASSERT_FALSE(parse_time(text + "/" + good, "UTC"));
    }
    EXPECT_GT(checked, 15000);
}

} // namespace
