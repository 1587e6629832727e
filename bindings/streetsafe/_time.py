"""Times as local civil seconds: the int64 count numpy's ``datetime64[s]`` uses, on the wall clock
of the data's IANA time zone (not UTC)."""

from __future__ import annotations

import datetime as _dt
import enum
from typing import NamedTuple, Optional, Union

import numpy as np

from . import _core

TimeLike = Union[str, np.datetime64, _dt.datetime, _dt.date]


class TimePrecision(enum.IntEnum):
    """How precisely an incident's time is known (the values of ``Incidents.precision``)."""

    NONE = 0  #: no time recorded
    MONTH = 1  #: ``YYYY-MM`` (police.uk); stored at the first second of the month
    DAY = 2  #: a date without a time of day
    MINUTE = 3  #: to the minute
    SECOND = 4  #: to the second or finer


class TimeRange(NamedTuple):
    """A parsed time: an instant (``end == start``) or a from/to range, both ends inclusive."""

    start: np.datetime64
    end: np.datetime64
    precision: str


def _seconds_to_datetime64(t: int) -> np.datetime64:
    return np.datetime64("NaT", "s") if t == _core.NO_TIME else np.datetime64(t, "s")


def parse_time(text: str, zone: str = "UTC") -> TimeRange:
    """Parse one time field as streetsafe's loaders do.

    Accepts ISO 8601 (``2023-06-01``, ``2023-06-01T17:30[:ss]`` with an optional ``Z`` or
    ``±hh:mm`` offset, which is converted to ``zone``'s local time), ``MM/DD/YYYY hh:mm AM``,
    ``YYYY-MM`` (month precision) and ranges ``A/B`` or ``between A and B``.

    Args:
        text: the field.
        zone: IANA time zone of the data, e.g. ``"Europe/London"``.

    Returns:
        ``TimeRange(start, end, precision)`` with ``datetime64[s]`` local times.

    Raises:
        InvalidInput: the text is not a time, or the zone is unknown.
    """
    _core.validate_time_zone(zone)
    parsed = _core.parse_time(text, zone)
    if parsed is None:
        raise _core.InvalidInput(f"cannot parse {text!r} as a time")
    start, end, precision = parsed
    return TimeRange(_seconds_to_datetime64(start), _seconds_to_datetime64(end), precision)


def to_local_seconds(value: Optional[TimeLike], zone: Optional[str], what: str) -> Optional[int]:
    """``value`` as local civil seconds (the start of a parsed range for strings), or None.

    Naive values are taken as local times of the data already; a value with a UTC offset is
    converted to ``zone``, which must then be given.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return int(parse_time(value, zone or "UTC").start.astype(np.int64))
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            if zone is None:
                raise _core.InvalidInput(
                    f"{what} has a UTC offset; give time_zone= so it can be converted to the data's local time"
                )
            import zoneinfo

            value = value.astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None)
        return int(np.datetime64(value, "s").astype(np.int64))
    if isinstance(value, _dt.date):
        return int(np.datetime64(value, "D").astype("datetime64[s]").astype(np.int64))
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise _core.InvalidInput(f"{what} is NaT")
        return int(value.astype("datetime64[s]").astype(np.int64))
    raise _core.InvalidInput(
        f"{what} must be an ISO 8601 string, numpy.datetime64 or datetime, not {type(value).__name__}"
    )
