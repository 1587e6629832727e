#pragma once

// "Lost hours": when in the day and week incidents happen, and whether a peak is more than chance.
//
// Every function here works on the wall clock of the data's zone (LocalSeconds), so daylight-saving
// changes never move an incident to another hour. A from/to range is spread uniformly over the
// wall-clock seconds it covers (aoristic analysis, Ratcliffe 2002); its duration is measured on the
// wall clock too, so a range across a DST change is off by at most the one hour of the change.

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "streetsafe/context.hpp"
#include "streetsafe/incidents.hpp"
#include "streetsafe/time.hpp"

namespace streetsafe {

inline constexpr int minutes_per_day = 1440;

// ---------------------------------------------------------------------------------------------
// School calendars

enum class CalendarKind : std::uint8_t {
    term,    ///< a school term: its weekdays (Mon-Fri) are school days
    holiday, ///< a break inside or between terms (half-term, bank holiday): no school
    inset,   ///< a staff training (INSET) day: no pupils
};

std::string_view to_string(CalendarKind k);

/// One line of a calendar: days `first_day` to `last_day` inclusive, as local day numbers
/// (days since 1970-01-01, i.e. floor(LocalSeconds / 86400)).
struct CalendarPeriod {
    std::int64_t first_day = 0;
    std::int64_t last_day = 0;
    CalendarKind kind = CalendarKind::term;
};

/// Term dates with holidays and INSET days. A school day is a Monday to Friday inside a term and in
/// no holiday or INSET period.
struct SchoolCalendar {
    std::vector<CalendarPeriod> periods; ///< in file order
    std::string source;                  ///< file name, for messages

    [[nodiscard]] bool is_school_day(std::int64_t day) const;
    [[nodiscard]] bool is_school_day_at(LocalSeconds t) const;
    [[nodiscard]] bool has_terms() const;
};

/// Reads a calendar CSV: a header line `start,end,kind`, then one line per period with ISO dates
/// (`YYYY-MM-DD`, both inclusive) and kind `term`, `holiday` or `inset`. Blank lines and lines
/// starting with `#` are ignored; fields may be padded with spaces. Throws InvalidInput naming the
/// source and line for a malformed line, an end before its start, an unknown kind, or two terms that
/// overlap (naming both lines); IoError when the file cannot be read.
SchoolCalendar read_school_calendar(const std::string& path);
/// The same from text in memory; `source` names it in messages.
SchoolCalendar parse_school_calendar(std::string_view text, std::string_view source = "<calendar>");

// ---------------------------------------------------------------------------------------------
// Time windows

/// Which days a calendar lets through.
enum class SchoolDays : std::uint8_t { any, school_days, non_school_days };

/// A set of wall-clock instants written as one expression: minutes of the day (which may wrap
/// midnight), days of the week, date ranges and school days. An instant belongs to the window when
/// its minute of day is in `minutes` AND the calendar date it falls on passes every day filter.
/// Day filters apply to the date of the instant itself: "fri 22:00-02:00" holds Friday 22:00-24:00
/// and Friday 00:00-02:00, not Saturday 01:00 (write "fri-sat" for the whole Friday night).
struct TimeWindow {
    std::bitset<minutes_per_day> minutes;  ///< minute m covers [m, m+1) minutes after midnight
    std::uint8_t weekdays = 0x7f;          ///< bit 0 Monday ... bit 6 Sunday
    /// Inclusive day ranges (local day numbers, see CalendarPeriod); empty means every date.
    std::vector<std::pair<std::int64_t, std::int64_t>> dates;
    std::shared_ptr<const SchoolCalendar> calendar; ///< used only when `school` is not `any`
    SchoolDays school = SchoolDays::any;

    /// Every minute of every day.
    static TimeWindow all_day();
    /// Minutes [start_minute, end_minute) of the day, wrapping midnight when end < start
    /// (22*60, 2*60 is 22:00-02:00); end 1440 means midnight. Throws InvalidInput when empty.
    static TimeWindow hours(int start_minute, int end_minute);

    /// Throws InvalidInput naming the field when the window can hold no instant: no minutes, no
    /// weekdays, only empty date ranges, or a school-day filter without a calendar with terms.
    void validate() const;
    /// True when the date of day number `day` passes the weekday, date and calendar filters.
    [[nodiscard]] bool day_ok(std::int64_t day) const;
    [[nodiscard]] bool contains(LocalSeconds t) const;
    /// Share of [start, end) inside the window, in [0, 1], measured in seconds; for end <= start
    /// (an instant) 1 or 0 by contains(start).
    [[nodiscard]] double fraction(LocalSeconds start, LocalSeconds end) const;
    /// Minutes of the day in the window.
    [[nodiscard]] int minutes_per_day_in_window() const { return static_cast<int>(minutes.count()); }
};

/// A window from text. `hours`: comma-separated `HH:MM-HH:MM` ranges (end exclusive, `24:00`
/// allowed as end, a range may wrap midnight), or `""`/`all`. `days`: comma-separated day names or
/// ranges (`mon-fri`, `sat,sun`, `fri-mon` wraps; three-letter or full names, any case), or
/// `""`/`all`. `dates`: comma-separated `YYYY-MM-DD/YYYY-MM-DD` inclusive ranges, or `""` for all.
/// Throws InvalidInput naming the bad part, or when the window is empty (`15:00-15:00`).
TimeWindow parse_window(std::string_view hours, std::string_view days = "all", std::string_view dates = "");

// ---------------------------------------------------------------------------------------------
// Which incidents can be given an hour

/// Why an incident takes no part in hour-of-day analysis.
enum class HourExclusion : std::uint8_t {
    missing_time,     ///< time is no_time or precision none
    coarse_precision, ///< known only to the month or day: never given an invented hour
    sentinel,         ///< an instant at a configured "unknown time" minute (00:01 in St. Louis)
    span_too_long,    ///< a from/to range longer than TemporalOptions::max_span_hours
    invalid_range,    ///< time_end before time
};

std::string_view to_string(HourExclusion r);

struct TemporalOptions {
    /// Ranges longer than this count as unknown time (excluded and reported). 12 h by default: a
    /// half-day range still says "daytime" or "overnight"; a longer one says little about the hour.
    double max_span_hours = 12.0;
    /// Minutes of the day (0-1439) that mean "time unknown" when an instant falls exactly on them
    /// (seconds ignored). Default none; see stlouis_sentinels(). Ranges are never sentinels.
    std::vector<int> sentinel_minutes;

    /// Throws InvalidInput naming the field.
    void validate() const;
};

/// The St. Louis (SLMPD) defaults: {1}, i.e. 00:01, which SLMPD records for an unknown time.
std::vector<int> stlouis_sentinels();

/// What went into an hour analysis and what did not. Excluded incidents are counted per reason and
/// listed (index into Incidents, with the reason), never silently dropped.
struct TemporalReport {
    std::int64_t usable = 0;        ///< instants + ranges
    std::int64_t instants = 0;
    std::int64_t ranges = 0;        ///< spread aoristically
    std::int64_t missing_time = 0;
    std::int64_t coarse_precision = 0;
    std::int64_t sentinel = 0;
    std::int64_t span_too_long = 0;
    std::int64_t invalid_range = 0;
    double usable_weight = 0;
    double excluded_weight = 0;
    std::vector<std::size_t> excluded;    ///< indices into the Incidents
    std::vector<HourExclusion> reasons;   ///< parallel to `excluded`

    [[nodiscard]] std::int64_t excluded_count() const { return static_cast<std::int64_t>(excluded.size()); }
    [[nodiscard]] std::int64_t count(HourExclusion r) const;
    /// One line: counts of usable and excluded incidents per reason.
    [[nodiscard]] std::string summary() const;
};

/// Classifies every incident without computing anything else.
TemporalReport hour_usability(const Incidents& incidents, const TemporalOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Aoristic counts and profiles

/// Share of each incident's time inside `window` (aoristic: a range counts for the fraction of its
/// duration inside, an instant 1 or 0); NaN for incidents excluded from hour analysis.
std::vector<double> window_fractions(const Incidents& incidents, const TimeWindow& window,
                                     const TemporalOptions& options = {}, TemporalReport* report = nullptr);
/// Σ weight × window share over the usable incidents.
double count_in_window(const Incidents& incidents, const TimeWindow& window,
                       const TemporalOptions& options = {}, TemporalReport* report = nullptr);

/// Weekday × hour weighted counts: 168 rows, weekday-major (row = weekday * 24 + hour, Monday = 0).
struct TemporalProfile {
    std::vector<int> weekday;    ///< 0 Monday ... 6 Sunday
    std::vector<int> hour;       ///< 0-23
    std::vector<double> weight;  ///< aoristic weighted count
    std::string category;        ///< the category name, or "" for all incidents
    TemporalReport report;       ///< usable and excluded incidents

    [[nodiscard]] double at(int wd, int h) const { return weight.at(static_cast<std::size_t>(wd * 24 + h)); }
    [[nodiscard]] std::vector<double> hour_totals() const;     ///< 24 values
    [[nodiscard]] std::vector<double> weekday_totals() const;  ///< 7 values
    [[nodiscard]] double total() const;
};

/// The profile of all incidents. Σ weight equals report.usable_weight (mass is conserved).
TemporalProfile temporal_profile(const Incidents& incidents, const TemporalOptions& options = {});
/// One profile per entry of the category dictionary, in dictionary order (incidents without a
/// category are in none of them).
std::vector<TemporalProfile> temporal_profiles_by_category(const Incidents& incidents,
                                                           const TemporalOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Peak window and its Monte Carlo test

struct PeakWindow {
    int start_hour = 0;        ///< first hour of the window, 0-23
    int length_hours = 0;      ///< L; the window is [start_hour, start_hour + L) mod 24
    double count = 0;          ///< weighted count inside
    double total = 0;          ///< weighted count over the day
    double share = 0;          ///< count / total
    double expected_share = 0; ///< L / 24 under a flat day
    double p_value = 1;        ///< Monte Carlo p; 1 when no test was run
    int replicates = 0;        ///< R
    std::int64_t sims_at_least = 0; ///< #{simulated max ≥ observed}
    std::vector<double> hour_totals; ///< the 24 observed hourly counts
    TemporalReport report;
};

/// The best window of `length_hours` (1-24) consecutive hours of a 24-value hourly profile,
/// wrapping midnight; ties go to the earliest start hour. No test (p_value 1, replicates 0).
PeakWindow best_window(std::span<const double> hour_counts, int length_hours);

struct PeakTestOptions {
    int length_hours = 4;
    int replicates = 999;
    std::uint64_t seed = 20020101;

    void validate() const;
};

/// The best L-hour window of the incidents' hour-of-day profile (aoristic) and a Monte Carlo test
/// against a uniform-within-day null: each usable incident keeps its weight and span, and its start
/// is redrawn uniformly over the day (so a range stays a range of the same length); the statistic is
/// the maximum L-hour window count, and p = (1 + #{sim ≥ obs}) / (R + 1). Replicate r draws from
/// std::mt19937_64 seeded with splitmix64(seed, r), so results are identical for any thread count
/// (Context::threads). Reports progress; throws Cancelled on request, InvalidInput without usable
/// incidents.
PeakWindow peak_window_test(const Incidents& incidents, const PeakTestOptions& test = {},
                            const TemporalOptions& options = {}, const Context& context = {});

// ---------------------------------------------------------------------------------------------
// Circular statistics of the time of day

struct CircularSummary {
    double n = 0;                ///< Σ weights of usable incidents
    double mean_minute = 0;      ///< mean direction as minutes after midnight [0, 1440); NaN if R = 0
    double resultant_length = 0; ///< mean resultant length R̄ in [0, 1]
    double rayleigh_z = 0;       ///< n R̄²
    double rayleigh_p = 1;       ///< Rayleigh test of uniformity (Zar 1999, eq. 27.4 approximation)
    TemporalReport report;
};

/// Circular summary of minutes of the day (0-1440), optionally weighted (n = Σ weights).
CircularSummary circular_summary(std::span<const double> minutes_of_day, std::span<const double> weights = {});
/// The same for incidents; a range contributes the exact mean of e^{iθ} over its span (aoristic).
CircularSummary circular_summary(const Incidents& incidents, const TemporalOptions& options = {});

/// von Mises density per minute of the day at `minute` for mean `mean_minute` and concentration
/// `kappa` (≥ 0); integrates to 1 over [0, 1440). κ ≈ 1/σ² with σ in radians (1 h ≈ 0.262 rad, κ ≈ 14.6).
double von_mises_density(double minute, double mean_minute, double kappa);

struct CircularDensityOptions {
    double kappa = 14.6;     ///< concentration of the von Mises kernel (σ ≈ 1 h)
    int step_minutes = 5;    ///< grid step; must divide 1440

    void validate() const;
};

/// Kernel density of the time of day on a regular grid: value k is the density per minute at
/// minute k * step; Σ density × step = 1 (to rounding). Incidents are first binned to whole minutes
/// (a range spread aoristically, each minute's mass at its centre), then smoothed with a von Mises
/// kernel. Throws InvalidInput when no incident is usable.
struct CircularDensity {
    std::vector<double> minute;   ///< grid minutes 0, step, 2 step, ...
    std::vector<double> density;  ///< per minute
    double kappa = 0;
    int step_minutes = 0;
    TemporalReport report;
};
CircularDensity circular_density(const Incidents& incidents, const CircularDensityOptions& density = {},
                                 const TemporalOptions& options = {});

} // namespace streetsafe
