#include "streetsafe/temporal.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <numbers>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <utility>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "streetsafe/error.hpp"

namespace streetsafe {

namespace {

constexpr LocalSeconds seconds_per_day = 86400;
constexpr double two_pi = 2.0 * std::numbers::pi;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

std::int64_t floor_mod(std::int64_t a, std::int64_t b) { return a - floor_div(a, b) * b; }

/// Monday = 0; 1970-01-01 was a Thursday.
int weekday_of_day(std::int64_t day) { return static_cast<int>(floor_mod(day + 3, 7)); }

std::string trim(std::string_view s) {
    std::size_t a = 0, b = s.size();
    while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
    while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
    return std::string(s.substr(a, b - a));
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const std::size_t pos = s.find(sep, start);
        out.push_back(trim(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start)));
        if (pos == std::string_view::npos) break;
        start = pos + 1;
    }
    return out;
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// Local day number of `YYYY-MM-DD`; std::nullopt when malformed or not a real date.
std::optional<std::int64_t> parse_date(std::string_view s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
    const auto y = s.substr(0, 4), m = s.substr(5, 2), d = s.substr(8, 2);
    if (!all_digits(y) || !all_digits(m) || !all_digits(d)) return std::nullopt;
    try {
        const LocalSeconds t = local_seconds(std::stoi(std::string(y)), static_cast<unsigned>(std::stoi(std::string(m))),
                                             static_cast<unsigned>(std::stoi(std::string(d))));
        return floor_div(t, seconds_per_day);
    } catch (const InvalidInput&) {
        return std::nullopt;
    }
}

/// Calls f(absolute_bin, share) for each bin of `bin_s` seconds overlapped by [a, b), b > a, with
/// share = overlap / (b - a).
template <class F>
void for_each_bin(LocalSeconds a, LocalSeconds b, LocalSeconds bin_s, F&& f) {
    const double span = static_cast<double>(b - a);
    LocalSeconds t = a;
    while (t < b) {
        const std::int64_t k = floor_div(t, bin_s);
        const LocalSeconds next = std::min(b, (k + 1) * bin_s);
        f(k, static_cast<double>(next - t) / span);
        t = next;
    }
}

/// How an incident enters hour analysis: [a, b) with b == a for an instant, or an exclusion.
struct Usable {
    bool ok = false;
    HourExclusion reason = HourExclusion::missing_time;
    LocalSeconds a = 0, b = 0;
};

Usable classify(const Incidents& inc, std::size_t i, const TemporalOptions& opt,
                const std::vector<bool>& sentinel_mask) {
    Usable u;
    const LocalSeconds t = inc.time[i];
    const TimePrecision p = inc.precision.empty() ? TimePrecision::second : inc.precision[i];
    if (t == no_time || p == TimePrecision::none) return u;
    if (p == TimePrecision::month || p == TimePrecision::day) {
        u.reason = HourExclusion::coarse_precision;
        return u;
    }
    LocalSeconds e = inc.time_end.empty() ? t : inc.time_end[i];
    if (e == no_time) e = t;
    if (e < t) {
        u.reason = HourExclusion::invalid_range;
        return u;
    }
    if (e == t) {
        const auto minute = static_cast<std::size_t>(floor_mod(t, seconds_per_day) / 60);
        if (sentinel_mask[minute]) {
            u.reason = HourExclusion::sentinel;
            return u;
        }
    } else if (static_cast<double>(e - t) > opt.max_span_hours * 3600.0) {
        u.reason = HourExclusion::span_too_long;
        return u;
    }
    u.ok = true;
    u.a = t;
    u.b = e;
    return u;
}

/// Classifies every incident, fills `report`, and calls f(i, usable) for each usable one.
template <class F>
TemporalReport scan(const Incidents& inc, const TemporalOptions& opt, F&& f) {
    opt.validate();
    if (inc.time.size() != inc.size())
        throw InvalidInput("incidents: time has " + std::to_string(inc.time.size()) + " entries for " +
                           std::to_string(inc.size()) + " incidents");
    std::vector<bool> sentinel_mask(minutes_per_day, false);
    for (int m : opt.sentinel_minutes) sentinel_mask[static_cast<std::size_t>(m)] = true;
    TemporalReport r;
    for (std::size_t i = 0; i < inc.size(); ++i) {
        const double w = inc.weight.empty() ? 1.0 : inc.weight[i];
        const Usable u = classify(inc, i, opt, sentinel_mask);
        if (!u.ok) {
            r.excluded.push_back(i);
            r.reasons.push_back(u.reason);
            r.excluded_weight += w;
            switch (u.reason) {
            case HourExclusion::missing_time: ++r.missing_time; break;
            case HourExclusion::coarse_precision: ++r.coarse_precision; break;
            case HourExclusion::sentinel: ++r.sentinel; break;
            case HourExclusion::span_too_long: ++r.span_too_long; break;
            case HourExclusion::invalid_range: ++r.invalid_range; break;
            }
            continue;
        }
        ++r.usable;
        if (u.b == u.a) ++r.instants; else ++r.ranges;
        r.usable_weight += w;
        f(i, u, w);
    }
    return r;
}

/// Adds weight w of [a, b) (an instant when b == a) to 168 weekday × hour bins.
void add_week_hours(std::span<double> bins, LocalSeconds a, LocalSeconds b, double w) {
    auto put = [&](std::int64_t hour_abs, double share) {
        const std::int64_t day = floor_div(hour_abs, 24);
        const auto h = static_cast<std::size_t>(floor_mod(hour_abs, 24));
        bins[static_cast<std::size_t>(weekday_of_day(day)) * 24 + h] += w * share;
    };
    if (b == a) put(floor_div(a, 3600), 1.0);
    else for_each_bin(a, b, 3600, put);
}

/// Adds weight w of [a, b) (instant when b == a) to 24 hour-of-day bins.
void add_day_hours(std::span<double> bins, LocalSeconds a, LocalSeconds b, double w) {
    auto put = [&](std::int64_t hour_abs, double share) {
        bins[static_cast<std::size_t>(floor_mod(hour_abs, 24))] += w * share;
    };
    if (b == a) put(floor_div(a, 3600), 1.0);
    else for_each_bin(a, b, 3600, put);
}

double max_window(std::span<const double> hours, int length) {
    double best = -std::numeric_limits<double>::infinity();
    for (int s = 0; s < 24; ++s) {
        double sum = 0;
        for (int k = 0; k < length; ++k) sum += hours[static_cast<std::size_t>((s + k) % 24)];
        best = std::max(best, sum);
    }
    return best;
}

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/// log(I0(k)) - k, stable for large k.
double log_scaled_i0(double kappa) {
    if (kappa < 500.0) return std::log(std::cyl_bessel_i(0.0, kappa)) - kappa;
    const double k = kappa;
    const double series = 1.0 + 1.0 / (8 * k) + 9.0 / (128 * k * k) + 225.0 / (3072 * k * k * k);
    return -0.5 * std::log(two_pi * k) + std::log(series);
}

} // namespace

// ---------------------------------------------------------------------------------------------

std::string_view to_string(CalendarKind k) {
    switch (k) {
    case CalendarKind::term: return "term";
    case CalendarKind::holiday: return "holiday";
    case CalendarKind::inset: return "inset";
    }
    throw InvalidInput("CalendarKind: value " + std::to_string(static_cast<int>(k)) + " out of range");
}

bool SchoolCalendar::is_school_day(std::int64_t day) const {
    if (weekday_of_day(day) >= 5) return false;
    bool in_term = false;
    for (const auto& p : periods) {
        if (day < p.first_day || day > p.last_day) continue;
        if (p.kind == CalendarKind::term) in_term = true;
        else return false;
    }
    return in_term;
}

bool SchoolCalendar::is_school_day_at(LocalSeconds t) const { return is_school_day(floor_div(t, seconds_per_day)); }

bool SchoolCalendar::has_terms() const {
    return std::any_of(periods.begin(), periods.end(), [](const CalendarPeriod& p) { return p.kind == CalendarKind::term; });
}

SchoolCalendar parse_school_calendar(std::string_view text, std::string_view source) {
    SchoolCalendar cal;
    cal.source = std::string(source);
    std::vector<std::size_t> line_of;
    bool header_seen = false;
    std::size_t line_no = 0, start = 0;
    while (start <= text.size()) {
        const std::size_t nl = text.find('\n', start);
        std::string line = trim(text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
        start = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        ++line_no;
        if (line.empty() || line[0] == '#') continue;
        const auto where = [&] { return cal.source + ":" + std::to_string(line_no) + ": "; };
        const auto fields = split(line, ',');
        if (!header_seen) {
            if (fields.size() != 3 || lower(fields[0]) != "start" || lower(fields[1]) != "end" || lower(fields[2]) != "kind")
                throw InvalidInput(where() + "expected the header 'start,end,kind', found '" + line + "'");
            header_seen = true;
            continue;
        }
        if (fields.size() != 3)
            throw InvalidInput(where() + "expected 3 fields 'start,end,kind', found " + std::to_string(fields.size()) +
                               " in '" + line + "'");
        const auto first = parse_date(fields[0]);
        const auto last = parse_date(fields[1]);
        if (!first) throw InvalidInput(where() + "start '" + fields[0] + "' is not a date YYYY-MM-DD");
        if (!last) throw InvalidInput(where() + "end '" + fields[1] + "' is not a date YYYY-MM-DD");
        if (*last < *first)
            throw InvalidInput(where() + "end " + fields[1] + " is before start " + fields[0]);
        const std::string kind = lower(fields[2]);
        CalendarPeriod p{.first_day = *first, .last_day = *last};
        if (kind == "term") p.kind = CalendarKind::term;
        else if (kind == "holiday") p.kind = CalendarKind::holiday;
        else if (kind == "inset") p.kind = CalendarKind::inset;
        else throw InvalidInput(where() + "kind '" + fields[2] + "' is not term, holiday or inset");
        if (p.kind == CalendarKind::term) {
            for (std::size_t j = 0; j < cal.periods.size(); ++j) {
                const auto& q = cal.periods[j];
                if (q.kind == CalendarKind::term && p.first_day <= q.last_day && q.first_day <= p.last_day)
                    throw InvalidInput(where() + "term " + fields[0] + " to " + fields[1] + " overlaps the term on line " +
                                       std::to_string(line_of[j]));
            }
        }
        cal.periods.push_back(p);
        line_of.push_back(line_no);
    }
    if (!header_seen) throw InvalidInput(cal.source + ": empty calendar, expected the header 'start,end,kind'");
    return cal;
}

SchoolCalendar read_school_calendar(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError("cannot open school calendar '" + path + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw IoError("cannot read school calendar '" + path + "'");
    return parse_school_calendar(ss.str(), path);
}

// ---------------------------------------------------------------------------------------------

TimeWindow TimeWindow::all_day() {
    TimeWindow w;
    w.minutes.set();
    return w;
}

TimeWindow TimeWindow::hours(int start_minute, int end_minute) {
    if (start_minute < 0 || start_minute >= minutes_per_day)
        throw InvalidInput("TimeWindow::hours: start_minute " + std::to_string(start_minute) + " outside 0-1439");
    if (end_minute < 0 || end_minute > minutes_per_day)
        throw InvalidInput("TimeWindow::hours: end_minute " + std::to_string(end_minute) + " outside 0-1440");
    TimeWindow w;
    for (int m = start_minute; m != end_minute % minutes_per_day; m = (m + 1) % minutes_per_day)
        w.minutes.set(static_cast<std::size_t>(m));
    w.validate();
    return w;
}

void TimeWindow::validate() const {
    if (minutes.none()) throw InvalidInput("TimeWindow: minutes is empty (e.g. 15:00-15:00): the window holds no time");
    if ((weekdays & 0x7f) == 0) throw InvalidInput("TimeWindow: weekdays is empty: the window holds no day");
    if (!dates.empty() && std::none_of(dates.begin(), dates.end(), [](const auto& d) { return d.first <= d.second; }))
        throw InvalidInput("TimeWindow: dates holds only empty ranges (end before start)");
    if (school != SchoolDays::any && (!calendar || !calendar->has_terms()))
        throw InvalidInput("TimeWindow: school is set but calendar is missing or has no term");
}

bool TimeWindow::day_ok(std::int64_t day) const {
    if (((weekdays >> weekday_of_day(day)) & 1U) == 0) return false;
    if (!dates.empty() &&
        std::none_of(dates.begin(), dates.end(), [day](const auto& d) { return day >= d.first && day <= d.second; }))
        return false;
    if (school != SchoolDays::any && calendar) {
        const bool sd = calendar->is_school_day(day);
        if ((school == SchoolDays::school_days) != sd) return false;
    }
    return true;
}

bool TimeWindow::contains(LocalSeconds t) const {
    const std::int64_t day = floor_div(t, seconds_per_day);
    const auto minute = static_cast<std::size_t>(floor_mod(t, seconds_per_day) / 60);
    return minutes.test(minute) && day_ok(day);
}

double TimeWindow::fraction(LocalSeconds start, LocalSeconds end) const {
    if (end <= start) return contains(start) ? 1.0 : 0.0;
    double inside = 0;
    for_each_bin(start, end, 60, [&](std::int64_t minute_abs, double share) {
        if (!minutes.test(static_cast<std::size_t>(floor_mod(minute_abs, minutes_per_day)))) return;
        if (day_ok(floor_div(minute_abs, minutes_per_day))) inside += share;
    });
    return std::clamp(inside, 0.0, 1.0);
}

namespace {

int parse_clock(const std::string& s, bool allow_24, const std::string& whole) {
    if (s.size() != 5 || s[2] != ':' || !all_digits(s.substr(0, 2)) || !all_digits(s.substr(3, 2)))
        throw InvalidInput("parse_window: '" + s + "' in '" + whole + "' is not a clock time HH:MM");
    const int h = std::stoi(s.substr(0, 2)), m = std::stoi(s.substr(3, 2));
    if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_24)))
        throw InvalidInput("parse_window: '" + s + "' in '" + whole + "' is not a time 00:00-23:59" +
                           (allow_24 ? " (or 24:00 as an end)" : ""));
    return h * 60 + m;
}

int parse_day_name(const std::string& s, const std::string& whole) {
    static constexpr std::array<std::string_view, 7> names = {"monday", "tuesday", "wednesday", "thursday",
                                                              "friday", "saturday", "sunday"};
    const std::string l = lower(s);
    if (l.size() >= 3)
        for (std::size_t d = 0; d < names.size(); ++d)
            if (names[d].substr(0, l.size()) == l) return static_cast<int>(d);
    throw InvalidInput("parse_window: '" + s + "' in '" + whole + "' is not a day name (mon ... sun)");
}

} // namespace

TimeWindow parse_window(std::string_view hours, std::string_view days, std::string_view dates) {
    TimeWindow w;
    const std::string h = trim(hours), d = trim(days), dt = trim(dates);
    if (h.empty() || lower(h) == "all") {
        w.minutes.set();
    } else {
        for (const auto& part : split(h, ',')) {
            const auto ends = split(part, '-');
            if (ends.size() != 2) throw InvalidInput("parse_window: '" + part + "' in '" + h + "' is not HH:MM-HH:MM");
            const int a = parse_clock(ends[0], false, h), b = parse_clock(ends[1], true, h);
            if (a == b % minutes_per_day)
                throw InvalidInput("parse_window: '" + part + "' is an empty range (start equals end)");
            for (int m = a; m != b % minutes_per_day; m = (m + 1) % minutes_per_day) w.minutes.set(static_cast<std::size_t>(m));
        }
    }
    if (!(d.empty() || lower(d) == "all")) {
        w.weekdays = 0;
        for (const auto& part : split(d, ',')) {
            const auto ends = split(part, '-');
            if (ends.size() == 1) {
                w.weekdays = static_cast<std::uint8_t>(w.weekdays | (1U << parse_day_name(ends[0], d)));
            } else if (ends.size() == 2) {
                const int a = parse_day_name(ends[0], d), b = parse_day_name(ends[1], d);
                for (int k = a;; k = (k + 1) % 7) {
                    w.weekdays = static_cast<std::uint8_t>(w.weekdays | (1U << k));
                    if (k == b) break;
                }
            } else {
                throw InvalidInput("parse_window: '" + part + "' in '" + d + "' is not a day or day range");
            }
        }
    }
    if (!dt.empty()) {
        for (const auto& part : split(dt, ',')) {
            const auto ends = split(part, '/');
            if (ends.size() != 2)
                throw InvalidInput("parse_window: '" + part + "' in '" + dt + "' is not YYYY-MM-DD/YYYY-MM-DD");
            const auto a = parse_date(ends[0]), b = parse_date(ends[1]);
            if (!a || !b) throw InvalidInput("parse_window: '" + part + "' in '" + dt + "' holds a date that is not YYYY-MM-DD");
            if (*b < *a) throw InvalidInput("parse_window: '" + part + "' ends before it starts");
            w.dates.emplace_back(*a, *b);
        }
    }
    w.validate();
    return w;
}

// ---------------------------------------------------------------------------------------------

std::string_view to_string(HourExclusion r) {
    switch (r) {
    case HourExclusion::missing_time: return "no time";
    case HourExclusion::coarse_precision: return "time known only to the month or day";
    case HourExclusion::sentinel: return "sentinel time (unknown time of day)";
    case HourExclusion::span_too_long: return "time range longer than max_span_hours";
    case HourExclusion::invalid_range: return "time range ends before it starts";
    }
    throw InvalidInput("HourExclusion: value " + std::to_string(static_cast<int>(r)) + " out of range");
}

void TemporalOptions::validate() const {
    if (!(max_span_hours > 0) || !std::isfinite(max_span_hours))
        throw InvalidInput("TemporalOptions: max_span_hours must be finite and > 0, got " + std::to_string(max_span_hours));
    for (int m : sentinel_minutes)
        if (m < 0 || m >= minutes_per_day)
            throw InvalidInput("TemporalOptions: sentinel_minutes holds " + std::to_string(m) + ", expected 0-1439");
}

std::vector<int> stlouis_sentinels() { return {1}; }

std::int64_t TemporalReport::count(HourExclusion r) const {
    switch (r) {
    case HourExclusion::missing_time: return missing_time;
    case HourExclusion::coarse_precision: return coarse_precision;
    case HourExclusion::sentinel: return sentinel;
    case HourExclusion::span_too_long: return span_too_long;
    case HourExclusion::invalid_range: return invalid_range;
    }
    return 0;
}

std::string TemporalReport::summary() const {
    std::string s = std::to_string(usable) + " usable (" + std::to_string(instants) + " exact, " + std::to_string(ranges) +
                    " ranges), " + std::to_string(excluded_count()) + " excluded";
    for (auto r : {HourExclusion::missing_time, HourExclusion::coarse_precision, HourExclusion::sentinel,
                   HourExclusion::span_too_long, HourExclusion::invalid_range})
        if (count(r) > 0) s += "; " + std::string(to_string(r)) + ": " + std::to_string(count(r));
    return s;
}

TemporalReport hour_usability(const Incidents& incidents, const TemporalOptions& options) {
    return scan(incidents, options, [](std::size_t, const Usable&, double) {});
}

std::vector<double> window_fractions(const Incidents& incidents, const TimeWindow& window,
                                     const TemporalOptions& options, TemporalReport* report) {
    window.validate();
    std::vector<double> out(incidents.size(), std::numeric_limits<double>::quiet_NaN());
    TemporalReport r = scan(incidents, options, [&](std::size_t i, const Usable& u, double) {
        out[i] = window.fraction(u.a, u.b);
    });
    if (report) *report = std::move(r);
    return out;
}

double count_in_window(const Incidents& incidents, const TimeWindow& window, const TemporalOptions& options,
                       TemporalReport* report) {
    window.validate();
    double sum = 0;
    TemporalReport r = scan(incidents, options, [&](std::size_t, const Usable& u, double w) {
        sum += w * window.fraction(u.a, u.b);
    });
    if (report) *report = std::move(r);
    return sum;
}

// ---------------------------------------------------------------------------------------------

std::vector<double> TemporalProfile::hour_totals() const {
    std::vector<double> h(24, 0.0);
    for (std::size_t k = 0; k < weight.size(); ++k) h[static_cast<std::size_t>(hour[k])] += weight[k];
    return h;
}

std::vector<double> TemporalProfile::weekday_totals() const {
    std::vector<double> d(7, 0.0);
    for (std::size_t k = 0; k < weight.size(); ++k) d[static_cast<std::size_t>(weekday[k])] += weight[k];
    return d;
}

double TemporalProfile::total() const {
    double s = 0;
    for (double w : weight) s += w;
    return s;
}

namespace {

TemporalProfile empty_profile() {
    TemporalProfile p;
    p.weekday.resize(168);
    p.hour.resize(168);
    p.weight.assign(168, 0.0);
    for (int k = 0; k < 168; ++k) {
        p.weekday[static_cast<std::size_t>(k)] = k / 24;
        p.hour[static_cast<std::size_t>(k)] = k % 24;
    }
    return p;
}

} // namespace

TemporalProfile temporal_profile(const Incidents& incidents, const TemporalOptions& options) {
    TemporalProfile p = empty_profile();
    p.report = scan(incidents, options, [&](std::size_t, const Usable& u, double w) { add_week_hours(p.weight, u.a, u.b, w); });
    return p;
}

std::vector<TemporalProfile> temporal_profiles_by_category(const Incidents& incidents, const TemporalOptions& options) {
    incidents.validate();
    std::vector<TemporalProfile> out;
    for (std::size_t c = 0; c < incidents.categories.size(); ++c) {
        std::vector<bool> keep(incidents.size());
        for (std::size_t i = 0; i < incidents.size(); ++i) keep[i] = incidents.category[i] == static_cast<std::int32_t>(c);
        const Incidents sub = select(incidents, keep);
        TemporalProfile p = temporal_profile(sub, options);
        // Report indices into the full incidents, not the subset.
        std::vector<std::size_t> index;
        for (std::size_t i = 0; i < incidents.size(); ++i)
            if (keep[i]) index.push_back(i);
        for (auto& e : p.report.excluded) e = index[e];
        p.category = incidents.categories[c];
        out.push_back(std::move(p));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------

PeakWindow best_window(std::span<const double> hour_counts, int length_hours) {
    if (hour_counts.size() != 24)
        throw InvalidInput("best_window: expected 24 hourly counts, got " + std::to_string(hour_counts.size()));
    if (length_hours < 1 || length_hours > 24)
        throw InvalidInput("best_window: length_hours " + std::to_string(length_hours) + " outside 1-24");
    PeakWindow pw;
    pw.length_hours = length_hours;
    pw.hour_totals.assign(hour_counts.begin(), hour_counts.end());
    pw.count = -std::numeric_limits<double>::infinity();
    for (int s = 0; s < 24; ++s) {
        double sum = 0;
        for (int k = 0; k < length_hours; ++k) sum += hour_counts[static_cast<std::size_t>((s + k) % 24)];
        if (sum > pw.count) {
            pw.count = sum;
            pw.start_hour = s;
        }
    }
    for (double v : hour_counts) pw.total += v;
    pw.share = pw.total > 0 ? pw.count / pw.total : 0.0;
    pw.expected_share = length_hours / 24.0;
    return pw;
}

void PeakTestOptions::validate() const {
    if (length_hours < 1 || length_hours > 23)
        throw InvalidInput("PeakTestOptions: length_hours " + std::to_string(length_hours) + " outside 1-23");
    if (replicates < 1) throw InvalidInput("PeakTestOptions: replicates must be >= 1, got " + std::to_string(replicates));
}

PeakWindow peak_window_test(const Incidents& incidents, const PeakTestOptions& test, const TemporalOptions& options,
                            const Context& context) {
    test.validate();
    std::vector<double> hours(24, 0.0);
    std::vector<double> weights;
    std::vector<LocalSeconds> spans;
    TemporalReport report = scan(incidents, options, [&](std::size_t, const Usable& u, double w) {
        add_day_hours(hours, u.a, u.b, w);
        weights.push_back(w);
        spans.push_back(u.b - u.a);
    });
    if (weights.empty()) throw InvalidInput("peak_window_test: no incident has a usable time of day (" + report.summary() + ")");
    PeakWindow pw = best_window(hours, test.length_hours);
    pw.report = std::move(report);
    pw.replicates = test.replicates;

    const double observed = pw.count;
    const double tol = 1e-9 * std::max(1.0, std::abs(observed));
    const auto R = static_cast<std::size_t>(test.replicates);
    std::vector<double> sims(R);
    auto replicate = [&](std::size_t r) {
        std::mt19937_64 rng(splitmix64(test.seed ^ splitmix64(static_cast<std::uint64_t>(r) + 1)));
        std::array<double, 24> h{};
        for (std::size_t i = 0; i < weights.size(); ++i) {
            const auto start = static_cast<LocalSeconds>(static_cast<double>(rng() >> 11) * 0x1.0p-53 * 86400.0);
            add_day_hours(h, start, start + spans[i], weights[i]);
        }
        sims[r] = max_window(h, test.length_hours);
    };
    tbb::task_arena arena(context.threads > 0 ? context.threads : tbb::task_arena::automatic);
    constexpr std::size_t chunk = 64;
    for (std::size_t lo = 0; lo < R; lo += chunk) {
        context.check("peak window Monte Carlo");
        const std::size_t hi = std::min(R, lo + chunk);
        arena.execute([&] { tbb::parallel_for(lo, hi, replicate); });
        context.report(static_cast<double>(hi) / static_cast<double>(R), "peak window Monte Carlo");
    }
    pw.sims_at_least = std::count_if(sims.begin(), sims.end(), [&](double s) { return s >= observed - tol; });
    pw.p_value = static_cast<double>(1 + pw.sims_at_least) / static_cast<double>(R + 1);
    return pw;
}

// ---------------------------------------------------------------------------------------------

namespace {

CircularSummary finish_circular(double n, double c, double s) {
    CircularSummary cs;
    cs.n = n;
    if (!(n > 0)) throw InvalidInput("circular_summary: no usable time (total weight 0)");
    const double rn = std::hypot(c, s);
    cs.resultant_length = std::min(1.0, rn / n);
    cs.mean_minute = std::numeric_limits<double>::quiet_NaN();
    if (rn > 1e-12 * n) {
        double m = std::atan2(s, c) / two_pi * minutes_per_day;
        if (m < 0) m += minutes_per_day;
        if (m >= minutes_per_day) m -= minutes_per_day;
        cs.mean_minute = m;
    }
    cs.rayleigh_z = n * cs.resultant_length * cs.resultant_length;
    const double r2 = cs.resultant_length * cs.resultant_length;
    // Zar (1999) eq. 27.4: p ≈ exp(sqrt(1 + 4n + 4(n² - R_n²)) - (1 + 2n)).
    const double p = std::exp(std::sqrt(1.0 + 4.0 * n + 4.0 * n * n * (1.0 - r2)) - (1.0 + 2.0 * n));
    cs.rayleigh_p = std::clamp(p, 0.0, 1.0);
    return cs;
}

} // namespace

CircularSummary circular_summary(std::span<const double> minutes_of_day, std::span<const double> weights) {
    if (!weights.empty() && weights.size() != minutes_of_day.size())
        throw InvalidInput("circular_summary: " + std::to_string(weights.size()) + " weights for " +
                           std::to_string(minutes_of_day.size()) + " times");
    double n = 0, c = 0, s = 0;
    for (std::size_t i = 0; i < minutes_of_day.size(); ++i) {
        const double w = weights.empty() ? 1.0 : weights[i];
        if (!std::isfinite(minutes_of_day[i]) || !std::isfinite(w))
            throw InvalidInput("circular_summary: time or weight at index " + std::to_string(i) + " is not finite");
        const double th = minutes_of_day[i] / minutes_per_day * two_pi;
        n += w;
        c += w * std::cos(th);
        s += w * std::sin(th);
    }
    return finish_circular(n, c, s);
}

CircularSummary circular_summary(const Incidents& incidents, const TemporalOptions& options) {
    double n = 0, c = 0, s = 0;
    TemporalReport r = scan(incidents, options, [&](std::size_t, const Usable& u, double w) {
        const double th1 = static_cast<double>(floor_mod(u.a, seconds_per_day)) / 86400.0 * two_pi;
        n += w;
        if (u.b == u.a) {
            c += w * std::cos(th1);
            s += w * std::sin(th1);
        } else {
            const double dth = static_cast<double>(u.b - u.a) / 86400.0 * two_pi;
            const double th2 = th1 + dth;
            c += w * (std::sin(th2) - std::sin(th1)) / dth;
            s += w * (std::cos(th1) - std::cos(th2)) / dth;
        }
    });
    CircularSummary cs = finish_circular(n, c, s);
    cs.report = std::move(r);
    return cs;
}

double von_mises_density(double minute, double mean_minute, double kappa) {
    if (!(kappa >= 0) || !std::isfinite(kappa)) throw InvalidInput("von_mises_density: kappa must be finite and >= 0");
    const double d = (minute - mean_minute) / minutes_per_day * two_pi;
    // exp(κ cos d) / (2π I0(κ)) per radian; × 2π/1440 per minute.
    return std::exp(kappa * (std::cos(d) - 1.0) - log_scaled_i0(kappa)) / minutes_per_day;
}

void CircularDensityOptions::validate() const {
    if (!(kappa >= 0) || !std::isfinite(kappa))
        throw InvalidInput("CircularDensityOptions: kappa must be finite and >= 0, got " + std::to_string(kappa));
    if (step_minutes < 1 || minutes_per_day % step_minutes != 0)
        throw InvalidInput("CircularDensityOptions: step_minutes " + std::to_string(step_minutes) + " does not divide 1440");
}

CircularDensity circular_density(const Incidents& incidents, const CircularDensityOptions& density,
                                 const TemporalOptions& options) {
    density.validate();
    std::vector<double> hist(minutes_per_day, 0.0);
    TemporalReport r = scan(incidents, options, [&](std::size_t, const Usable& u, double w) {
        auto put = [&](std::int64_t minute_abs, double share) {
            hist[static_cast<std::size_t>(floor_mod(minute_abs, minutes_per_day))] += w * share;
        };
        if (u.b == u.a) put(floor_div(u.a, 60), 1.0);
        else for_each_bin(u.a, u.b, 60, put);
    });
    double total = 0;
    for (double h : hist) total += h;
    if (!(total > 0)) throw InvalidInput("circular_density: no incident has a usable time of day (" + r.summary() + ")");
    // Kernel by offset in minutes, sampled at half-minute offsets from the bin centres.
    CircularDensity out;
    out.kappa = density.kappa;
    out.step_minutes = density.step_minutes;
    const int n = minutes_per_day / density.step_minutes;
    out.minute.resize(static_cast<std::size_t>(n));
    out.density.assign(static_cast<std::size_t>(n), 0.0);
    std::vector<double> kernel(minutes_per_day);
    for (int k = 0; k < minutes_per_day; ++k)
        kernel[static_cast<std::size_t>(k)] = von_mises_density(k - 0.5, 0.0, density.kappa);
    for (int g = 0; g < n; ++g) {
        const int gm = g * density.step_minutes;
        double sum = 0;
        for (int m = 0; m < minutes_per_day; ++m) {
            const double h = hist[static_cast<std::size_t>(m)];
            if (h == 0) continue;
            // offset gm - (m + 0.5) = (gm - m) - 0.5
            sum += h * kernel[static_cast<std::size_t>(floor_mod(gm - m, minutes_per_day))];
        }
        out.minute[static_cast<std::size_t>(g)] = gm;
        out.density[static_cast<std::size_t>(g)] = sum / total;
    }
    out.report = std::move(r);
    return out;
}

} // namespace streetsafe
