"""China Standard Time and the end-of-day rule every deadline uses.

Limits are counted in whole working days (工作日) of the calendar in China, so an instant must
first become a date in China time (UTC+8 all year; China has no daylight saving time). Core
keeps instants as epoch milliseconds, like ``core.hlc``, so the conversions live here.

The end-of-day rule: a duty due on a date may be done at any time on that date. Its due
instant, ``due_ms``, is therefore the first millisecond *after* the date (24:00 China time,
which is 00:00 of the next day); the duty is overdue at ``now_ms >= due_ms``. An exclusive bound
keeps the arithmetic free of "minus one millisecond" and lets a sweep select ``due_ms <= now``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "CST")
"""China Standard Time (北京时间), UTC+8, the same all year."""

_DAY_MS = 86_400_000
_OFFSET_MS = 8 * 3_600_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def china_date(at_ms: int) -> date:
    """The calendar date in China at the instant ``at_ms`` (epoch milliseconds)."""
    return date.fromordinal(_EPOCH_ORDINAL + (at_ms + _OFFSET_MS) // _DAY_MS)


def start_of_day_ms(day: date) -> int:
    """The first millisecond of ``day`` in China time (00:00 +08:00)."""
    return (day.toordinal() - _EPOCH_ORDINAL) * _DAY_MS - _OFFSET_MS


def end_of_day_ms(day: date) -> int:
    """The instant ``day`` ends in China time: 24:00, the exclusive due instant of that date."""
    return start_of_day_ms(day) + _DAY_MS


def china_datetime(at_ms: int) -> datetime:
    """The instant ``at_ms`` as an aware datetime in China time, for display and messages."""
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).astimezone(CHINA_TZ)
