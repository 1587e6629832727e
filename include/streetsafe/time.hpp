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

/// "none", "month", "day", "minute" or "second"; throws InvalidInput for a value outside the enum.
std::string_view to_string(TimePrecision p);

/// A parsed time: a single instant (end == start) or a from/to range, both ends inclusive,
/// in local civil seconds of the zone given to parse_time. For month and day precision the range
/// spans the whole month or day.
struct TimeRange {
    LocalSeconds start = no_time;
    LocalSeconds end = no_time;
    TimePrecision precision = TimePrecision::none;
};

/// Parses one time field. Accepted forms (surrounding white space is ignored):
///   - ISO 8601: `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.fff]]` (also with a space or `t` for `T`;
///     any number of fraction digits, `.` or `,`, truncated to the second), with an optional `Z`
///     or `±hh[[:]mm]` offset; an instant with an offset is converted to the zone's local time,
///     one without is taken as local time already (so DST gaps and overlaps need no resolving);
///   - `MM/DD/YYYY hh:mm[:ss] AM|PM` (AM/PM in any case, space before it optional, 12 AM = 00 h,
///     12 PM = 12 h), `MM/DD/YYYY HH:mm[:ss]` (24 h) and `MM/DD/YYYY`; month, day and hour may
///     have one digit (`3/7/2017 9:05 PM`), minutes and seconds always have two;
///   - `YYYY-MM` (month precision);
///   - a range `A/B` of two ISO forms above (ISO 8601 interval; no durations, no abbreviated end),
///     or `between A and B` of any two forms above (case-insensitive).
/// Field values are checked strictly: month 1-12, a day that exists in that month, hour 0-23,
/// minute and second 0-59 (no leap second, no 24:00), years of exactly four digits.
/// Precision: `second` when seconds are given, `minute` when not, `day` / `month` for the date-only
/// forms, whose range spans the whole day / month. A range takes the start of A, the end of B and
/// the coarser precision of the two; one whose end precedes its start (in local wall time, which
/// also rejects an offset-given range that crosses a DST fall-back backwards) gives std::nullopt.
/// Returns std::nullopt for anything else (the caller reports the row); never throws for bad
/// text. `zone` is an IANA name; throws InvalidInput when it is unknown. The last zone looked up is
/// cached per thread, so calling this per row with the same zone is cheap.
/// Limitation: date's reader of the OS tz database uses only the explicit transitions stored in
/// the zone files, which end in 2037, so an instant with an offset after 2037 is converted with
/// the zone's last offset (standard time, no DST).
std::optional<TimeRange> parse_time(std::string_view text, std::string_view zone);

/// Throws InvalidInput naming the zone when `zone` is not a known IANA time zone. Call it once
/// before parsing many rows.
void validate_time_zone(std::string_view zone);

/// Formats local seconds as ISO 8601 without offset (`YYYY-MM-DDThh:mm:ss`), or `YYYY-MM-DDThh:mm`
/// / `YYYY-MM-DD` / `YYYY-MM` for coarser precisions (the finer fields are dropped, not rounded),
/// so parse_time reads the result back at the same precision. Years outside 0000-9999 are written
/// in ISO 8601's expanded form (`+10000-01-01`, `-0001-01-01`). `no_time` and precision `none`
/// give an empty string. Throws InvalidInput when `t` lies outside the years -32767 to 32767 or
/// `precision` is not a TimePrecision value.
std::string format_time(LocalSeconds t, TimePrecision precision = TimePrecision::second);

/// Local civil seconds from calendar fields (no zone involved). Throws InvalidInput naming the
/// field when one is out of range: year -32767 to 32767, month 1-12, a day that exists in that
/// month, hour 0-23, minute and second 0-59.
LocalSeconds local_seconds(int year, unsigned month, unsigned day, int hour = 0, int minute = 0,
                           int second = 0);

} // namespace streetsafe
