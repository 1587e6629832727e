#include "streetsafe/time.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include <date/date.h>
#include <date/tz.h>

#include "streetsafe/error.hpp"

namespace streetsafe {
namespace {

// The years date::year can hold; local_seconds() and format_time() accept exactly these.
constexpr int min_year = -32767;
constexpr int max_year = 32767;

constexpr std::int64_t seconds_per_day = 86400;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char to_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view trim(std::string_view s) {
    std::size_t b = 0;
    std::size_t e = s.size();
    while (b < e && is_space(s[b]))
        ++b;
    while (e > b && is_space(s[e - 1]))
        --e;
    return s.substr(b, e - b);
}

/// True when `s` starts with the lower-case ASCII word `word`, compared case-insensitively.
bool starts_with_ci(std::string_view s, std::string_view word) {
    if (s.size() < word.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i)
        if (to_lower(s[i]) != word[i]) return false;
    return true;
}

/// A zone or field value made safe for an error message: quoted, non-printable bytes escaped,
/// cut after 64 characters.
std::string quoted(std::string_view s) {
    constexpr std::size_t max_shown = 64;
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < max_shown; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c >= 0x7f) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (s.size() > max_shown) out += "...";
    out += '"';
    return out;
}

// ---- time zones -----------------------------------------------------------------------------

/// Resolves an IANA zone name, remembering the last one resolved on this thread: loaders call
/// parse_time once per row with the same zone, and the string compare is far cheaper than a
/// lookup in the tz database.
const date::time_zone* find_zone(std::string_view zone) {
    thread_local std::string cached_name;
    thread_local const date::time_zone* cached_zone = nullptr;
    if (cached_zone != nullptr && zone == cached_name) return cached_zone;

    const date::time_zone* found = nullptr;
    std::string reason;
    try {
        found = date::locate_zone(zone);
    } catch (const std::exception& e) {
        // date reports both an unknown name and an unreadable tz database this way.
        reason = e.what();
    }
    if (found == nullptr) {
        std::string message = "unknown time zone " + quoted(zone) +
                              ": expected an IANA time zone name such as \"Europe/London\", "
                              "\"America/Chicago\" or \"UTC\"";
        if (!reason.empty() && reason.find("not found") == std::string::npos)
            message += " (tz database: " + reason + ")";
        throw InvalidInput(message);
    }
    cached_name.assign(zone);
    cached_zone = found;
    return found;
}

// ---- calendar arithmetic (all through date) -------------------------------------------------

/// Local seconds of a date and time of day whose fields are already known to be valid.
LocalSeconds civil_seconds(const date::year_month_day& ymd, int hour, int minute, int second) {
    const date::local_days day{ymd};
    return std::int64_t{day.time_since_epoch().count()} * seconds_per_day + std::int64_t{hour} * 3600 +
           std::int64_t{minute} * 60 + second;
}

/// The first second of the month after `ym`.
LocalSeconds start_of_next_month(date::year_month ym) {
    const date::year_month next = ym + date::months{1};
    return civil_seconds(next / date::day{1}, 0, 0, 0);
}

// ---- field readers --------------------------------------------------------------------------
// Every reader works on (s, pos) with pos <= s.size(), checks bounds before each access and
// advances pos only on success, so no input can read out of range or overflow an int.

bool read_digits(std::string_view s, std::size_t& pos, std::size_t count, int& value) {
    if (s.size() - pos < count) return false;
    int v = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const char c = s[pos + i];
        if (!is_digit(c)) return false;
        v = v * 10 + (c - '0');
    }
    pos += count;
    value = v;
    return true;
}

/// One or two digits (US month, day and hour fields are often not zero-padded).
bool read_one_or_two_digits(std::string_view s, std::size_t& pos, int& value) {
    if (pos >= s.size() || !is_digit(s[pos])) return false;
    const std::size_t count = (pos + 1 < s.size() && is_digit(s[pos + 1])) ? 2 : 1;
    return read_digits(s, pos, count, value);
}

bool expect(std::string_view s, std::size_t& pos, char c) {
    if (pos >= s.size() || s[pos] != c) return false;
    ++pos;
    return true;
}

/// A validated calendar date, or nothing.
std::optional<date::year_month_day> make_date(int year, int month, int day) {
    // Callers read at most two digits for month and day, so the casts below cannot wrap.
    if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
    const date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                                   date::day{static_cast<unsigned>(day)}};
    if (!ymd.ok()) return std::nullopt;
    return ymd;
}

bool valid_time_of_day(int hour, int minute, int second) {
    return hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59;
}

TimeRange whole_day(const date::year_month_day& ymd) {
    const LocalSeconds start = civil_seconds(ymd, 0, 0, 0);
    return {start, start + seconds_per_day - 1, TimePrecision::day};
}

/// Converts an instant given with a UTC offset to the zone's wall clock.
LocalSeconds to_zone_local(LocalSeconds clock_with_offset, int offset_seconds, const date::time_zone* tz) {
    const date::sys_seconds utc{std::chrono::seconds{clock_with_offset - offset_seconds}};
    return tz->to_local(utc).time_since_epoch().count();
}

// ---- the single forms -----------------------------------------------------------------------

bool looks_iso(std::string_view s) {
    return s.size() >= 5 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) &&
           s[4] == '-';
}

/// `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DD(T|t| )hh:mm[:ss[(.|,)f+]][Z|z|±hh[[:]mm]]`.
std::optional<TimeRange> parse_iso(std::string_view s, const date::time_zone* tz) {
    std::size_t pos = 0;
    int year = 0;
    int month = 0;
    if (!read_digits(s, pos, 4, year) || !expect(s, pos, '-') || !read_digits(s, pos, 2, month))
        return std::nullopt;
    if (pos == s.size()) {
        if (month < 1 || month > 12) return std::nullopt;
        const date::year_month ym{date::year{year}, date::month{static_cast<unsigned>(month)}};
        const LocalSeconds start = civil_seconds(ym / date::day{1}, 0, 0, 0);
        return TimeRange{start, start_of_next_month(ym) - 1, TimePrecision::month};
    }

    int day = 0;
    if (!expect(s, pos, '-') || !read_digits(s, pos, 2, day)) return std::nullopt;
    const auto ymd = make_date(year, month, day);
    if (!ymd) return std::nullopt;
    if (pos == s.size()) return whole_day(*ymd);

    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
    ++pos;
    int hour = 0;
    int minute = 0;
    int second = 0;
    auto precision = TimePrecision::minute;
    if (!read_digits(s, pos, 2, hour) || !expect(s, pos, ':') || !read_digits(s, pos, 2, minute))
        return std::nullopt;
    if (pos < s.size() && s[pos] == ':') {
        ++pos;
        if (!read_digits(s, pos, 2, second)) return std::nullopt;
        precision = TimePrecision::second;
        if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
            ++pos;
            if (pos >= s.size() || !is_digit(s[pos])) return std::nullopt;
            while (pos < s.size() && is_digit(s[pos]))
                ++pos; // truncated, never interpreted
        }
    }
    if (!valid_time_of_day(hour, minute, second)) return std::nullopt;

    std::optional<int> offset_seconds;
    if (pos < s.size()) {
        const char c = s[pos];
        if (c == 'Z' || c == 'z') {
            ++pos;
            offset_seconds = 0;
        } else if (c == '+' || c == '-') {
            ++pos;
            int offset_hours = 0;
            int offset_minutes = 0;
            if (!read_digits(s, pos, 2, offset_hours)) return std::nullopt;
            if (pos < s.size()) {
                if (s[pos] == ':') ++pos;
                if (!read_digits(s, pos, 2, offset_minutes)) return std::nullopt;
            }
            if (offset_hours > 23 || offset_minutes > 59) return std::nullopt;
            const int magnitude = offset_hours * 3600 + offset_minutes * 60;
            offset_seconds = c == '-' ? -magnitude : magnitude;
        } else {
            return std::nullopt;
        }
    }
    if (pos != s.size()) return std::nullopt;

    LocalSeconds t = civil_seconds(*ymd, hour, minute, second);
    if (offset_seconds) t = to_zone_local(t, *offset_seconds, tz);
    return TimeRange{t, t, precision};
}

/// `M[M]/D[D]/YYYY`, `M[M]/D[D]/YYYY h[h]:mm[:ss]` (24 h) and `... h[h]:mm[:ss][ ]AM|PM`.
std::optional<TimeRange> parse_us(std::string_view s) {
    std::size_t pos = 0;
    int month = 0;
    int day = 0;
    int year = 0;
    if (!read_one_or_two_digits(s, pos, month) || !expect(s, pos, '/') ||
        !read_one_or_two_digits(s, pos, day) || !expect(s, pos, '/') || !read_digits(s, pos, 4, year))
        return std::nullopt;
    const auto ymd = make_date(year, month, day);
    if (!ymd) return std::nullopt;
    if (pos == s.size()) return whole_day(*ymd);

    if (!is_space(s[pos])) return std::nullopt;
    while (pos < s.size() && is_space(s[pos]))
        ++pos;
    int hour = 0;
    int minute = 0;
    int second = 0;
    auto precision = TimePrecision::minute;
    if (!read_one_or_two_digits(s, pos, hour) || !expect(s, pos, ':') || !read_digits(s, pos, 2, minute))
        return std::nullopt;
    if (pos < s.size() && s[pos] == ':') {
        ++pos;
        if (!read_digits(s, pos, 2, second)) return std::nullopt;
        precision = TimePrecision::second;
    }
    while (pos < s.size() && is_space(s[pos]))
        ++pos;
    if (pos < s.size()) {
        if (s.size() - pos != 2 || to_lower(s[pos + 1]) != 'm') return std::nullopt;
        const char half = to_lower(s[pos]);
        if (half != 'a' && half != 'p') return std::nullopt;
        if (hour < 1 || hour > 12) return std::nullopt;
        hour = hour % 12 + (half == 'p' ? 12 : 0); // 12 AM is 00 h, 12 PM is 12 h
        pos = s.size();
    }
    if (!valid_time_of_day(hour, minute, second)) return std::nullopt;
    const LocalSeconds t = civil_seconds(*ymd, hour, minute, second);
    return TimeRange{t, t, precision};
}

std::optional<TimeRange> parse_single(std::string_view s, const date::time_zone* tz) {
    s = trim(s);
    if (looks_iso(s)) return parse_iso(s, tz);
    if (!s.empty() && is_digit(s[0])) return parse_us(s);
    return std::nullopt;
}

/// Joins two ends into an inclusive range at the coarser of their precisions.
std::optional<TimeRange> join(const std::optional<TimeRange>& from, const std::optional<TimeRange>& to) {
    if (!from || !to || to->end < from->start) return std::nullopt;
    const auto precision =
        static_cast<std::uint8_t>(from->precision) < static_cast<std::uint8_t>(to->precision)
            ? from->precision
            : to->precision;
    return TimeRange{from->start, to->end, precision};
}

/// `between A and B`, case-insensitive, any run of white space around the words.
std::optional<TimeRange> parse_between(std::string_view s, const date::time_zone* tz) {
    constexpr std::string_view between = "between";
    std::string_view rest = s.substr(between.size());
    if (rest.empty() || !is_space(rest[0])) return std::nullopt;
    // The first " and " splits: no single form contains the word, so a later one cannot be meant.
    for (std::size_t i = 0; i + 4 < rest.size(); ++i) {
        if (is_space(rest[i]) && starts_with_ci(rest.substr(i + 1), "and") && is_space(rest[i + 4]))
            return join(parse_single(rest.substr(0, i), tz), parse_single(rest.substr(i + 4), tz));
    }
    return std::nullopt;
}

} // namespace

std::string_view to_string(TimePrecision p) {
    switch (p) {
    case TimePrecision::none:
        return "none";
    case TimePrecision::month:
        return "month";
    case TimePrecision::day:
        return "day";
    case TimePrecision::minute:
        return "minute";
    case TimePrecision::second:
        return "second";
    }
    throw InvalidInput("invalid TimePrecision value " + std::to_string(static_cast<unsigned>(p)) +
                       ": expected 0 (none), 1 (month), 2 (day), 3 (minute) or 4 (second)");
}

std::optional<TimeRange> parse_time(std::string_view text, std::string_view zone) {
    const date::time_zone* tz = find_zone(zone);
    text = trim(text);
    if (starts_with_ci(text, "between")) return parse_between(text, tz);
    if (looks_iso(text)) {
        // US dates contain '/', so only an ISO start makes '/' an interval separator, and both
        // ends must be ISO forms.
        const std::size_t slash = text.find('/');
        if (slash != std::string_view::npos)
            return join(parse_iso(trim(text.substr(0, slash)), tz),
                        parse_iso(trim(text.substr(slash + 1)), tz));
    }
    return parse_single(text, tz);
}

void validate_time_zone(std::string_view zone) {
    find_zone(zone);
}

LocalSeconds local_seconds(int year, unsigned month, unsigned day, int hour, int minute, int second) {
    if (year < min_year || year > max_year)
        throw InvalidInput("year " + std::to_string(year) + " is out of range: expected " +
                           std::to_string(min_year) + " to " + std::to_string(max_year));
    if (month < 1 || month > 12)
        throw InvalidInput("month " + std::to_string(month) + " is out of range: expected 1 to 12");
    const date::year_month ym{date::year{year}, date::month{month}};
    const unsigned last_day = static_cast<unsigned>((ym / date::last).day());
    if (day < 1 || day > last_day)
        throw InvalidInput("day " + std::to_string(day) + " does not exist in " +
                           format_time(civil_seconds(ym / date::day{1}, 0, 0, 0), TimePrecision::month) +
                           ": expected 1 to " + std::to_string(last_day));
    if (hour < 0 || hour > 23)
        throw InvalidInput("hour " + std::to_string(hour) + " is out of range: expected 0 to 23");
    if (minute < 0 || minute > 59)
        throw InvalidInput("minute " + std::to_string(minute) + " is out of range: expected 0 to 59");
    if (second < 0 || second > 59)
        throw InvalidInput("second " + std::to_string(second) + " is out of range: expected 0 to 59");
    return civil_seconds(ym / date::day{day}, hour, minute, second);
}

std::string format_time(LocalSeconds t, TimePrecision precision) {
    if (t == no_time || precision == TimePrecision::none) return {};
    if (static_cast<std::uint8_t>(precision) > static_cast<std::uint8_t>(TimePrecision::second))
        (void)to_string(precision); // throws InvalidInput naming the value

    static const LocalSeconds first = civil_seconds(date::year{min_year} / 1 / 1, 0, 0, 0);
    static const LocalSeconds last = civil_seconds(date::year{max_year} / 12 / 31, 23, 59, 59);
    if (t < first || t > last)
        throw InvalidInput("time " + std::to_string(t) + " (local seconds) is out of range: expected " +
                           std::to_string(first) + " to " + std::to_string(last) + " (years " +
                           std::to_string(min_year) + " to " + std::to_string(max_year) + ")");

    const date::local_seconds tp{std::chrono::seconds{t}};
    const auto day = date::floor<date::days>(tp);
    const date::year_month_day ymd{day};
    const date::hh_mm_ss<std::chrono::seconds> tod{tp - day};

    char buf[32];
    std::size_t n = 0;
    const auto put2 = [&](long v) {
        buf[n++] = static_cast<char>('0' + v / 10);
        buf[n++] = static_cast<char>('0' + v % 10);
    };
    // Years 0000-9999 as four digits; others in ISO 8601's expanded form with a sign.
    int year = static_cast<int>(ymd.year());
    if (year < 0 || year > 9999) buf[n++] = year < 0 ? '-' : '+';
    if (year < 0) year = -year;
    if (year > 9999) buf[n++] = static_cast<char>('0' + year / 10000);
    put2(year / 100 % 100);
    put2(year % 100);
    buf[n++] = '-';
    put2(static_cast<unsigned>(ymd.month()));
    if (precision != TimePrecision::month) {
        buf[n++] = '-';
        put2(static_cast<unsigned>(ymd.day()));
        if (precision != TimePrecision::day) {
            buf[n++] = 'T';
            put2(tod.hours().count());
            buf[n++] = ':';
            put2(tod.minutes().count());
            if (precision == TimePrecision::second) {
                buf[n++] = ':';
                put2(static_cast<long>(tod.seconds().count()));
            }
        }
    }
    return std::string(buf, n);
}

} // namespace streetsafe
