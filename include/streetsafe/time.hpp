#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace streetsafe {

/// Times are stored as local civil time of a stated IANA zone: whole seconds since
/// 1970-01-01T00:00:00 on that zone's wall clock (not UTC). This is the same count numpy's
/// datetime64[s] uses, so arrays are shared with Python unchanged.
using LocalSeconds = std::int64_t;

/// "No time": the same bit pattern as numpy's NaT.
inline constexpr LocalSeconds no_time = std::numeric_limits<LocalSeconds>::min();

/// How precisely a record's time is known. Month-precision records (police.uk) are stored at the
/// first second of the month with this flag; they are never given an invented day or hour.
enum class TimePrecision : std::uint8_t {
    none = 0,   ///< no time recorded
    month = 1,  ///< YYYY-MM
    day = 2,    ///< a date without time of day
    minute = 3, ///< to the minute
    second = 4, ///< to the second or finer
};

std::string_view to_string(TimePrecision p);

/// A parsed time: a single instant (end == start) or a from/to range, both ends inclusive,
/// in local civil seconds of the zone given to parse_time. For month and day precision the range
/// spans the whole month or day.
struct TimeRange {
    LocalSeconds start = no_time;
    LocalSeconds end = no_time;
    TimePrecision precision = TimePrecision::none;
};

/// Parses one time field. Accepted forms:
///   - ISO 8601: `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.fff]]` (also with a space for `T`), with an
///     optional `Z` or `±hh[:mm]` offset; an instant with an offset is converted to the zone's local
///     time, one without is taken as local time already;
///   - `MM/DD/YYYY hh:mm[:ss] AM|PM` and `MM/DD/YYYY HH:mm[:ss]`;
///   - `YYYY-MM` (month precision);
///   - a range `A/B` of two of the above (ISO 8601 interval), or `between A and B`.
/// Returns std::nullopt for anything else (the caller reports the row). `zone` is an IANA name.
std::optional<TimeRange> parse_time(std::string_view text, std::string_view zone);

/// Throws InvalidInput naming the zone when `zone` is not a known IANA time zone. Call it once
/// before parsing many rows.
void validate_time_zone(std::string_view zone);

/// Formats local seconds as ISO 8601 without offset (`YYYY-MM-DDThh:mm:ss`), or `YYYY-MM` /
/// `YYYY-MM-DD` for coarser precisions. `no_time` gives an empty string.
std::string format_time(LocalSeconds t, TimePrecision precision = TimePrecision::second);

/// Local civil seconds from calendar fields (no zone involved).
LocalSeconds local_seconds(int year, unsigned month, unsigned day, int hour = 0, int minute = 0,
                           int second = 0);

} // namespace streetsafe
