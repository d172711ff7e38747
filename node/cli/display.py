"""How the command line shows things: times, money, tables, JSON and CSV, the same everywhere.

Every time any command prints is China time with its zone, ``2026-12-01 10:00:00 +08:00``
(``china_time``), whatever the machine's own zone; a deadline is its due date and the end of it,
``2026-12-10 24:00 +08:00`` (``due_date``), marked when it is a guess (``provisional_mark``);
machine-readable output (``--json``, ``--csv``) carries ISO-8601 with the same offset. Money
travels in fen and is shown in yuan. Tables pad by display width, so Chinese names (two columns
a character) line up.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from core import hlc as hlc_clock
from core.deadlines.china_time import china_datetime

NEVER = "never"
"""What a time that has not happened yet (0) is shown as."""


def china_time(ms: int, *, never: str = NEVER) -> str:
    """Epoch milliseconds as China time with its zone: ``2026-12-01 10:00:00 +08:00``."""
    if not ms:
        return never
    moment = china_datetime(ms)
    return f"{moment:%Y-%m-%d %H:%M:%S} {moment.isoformat()[-6:]}"


def china_time_of_hlc(hlc: int, *, never: str = NEVER) -> str:
    """A hybrid-logical-clock value (``*_hlc``) as China time; 0 is ``never``."""
    return china_time(hlc_clock.to_millis(hlc), never=never) if hlc else never


def china_time_of(stamp: Timestamp, *, never: str = NEVER) -> str:
    """A protobuf ``Timestamp`` as China time; an unset one is ``never``."""
    return china_time(stamp.ToMilliseconds(), never=never)


def china_date(ms: int) -> str:
    """Epoch milliseconds as a date in China, with the zone: ``2027-12-03 (+08:00)``."""
    return f"{china_datetime(ms):%Y-%m-%d} (+08:00)"


def due_date(due_ms: int) -> str:
    """A deadline, the instant it falls due (the exclusive end of its due date), as the due date
    and its end in China time: ``2026-12-10 24:00 +08:00``."""
    return f"{china_datetime(due_ms - 1):%Y-%m-%d} 24:00 +08:00"


def provisional_mark(unknown_years: Iterable[int]) -> str:
    """What follows a due date counted over years the calendar does not know (weekends only):
    `` (provisional 暂定: 2027 holidays not loaded)``; '' for a final date."""
    years = sorted(unknown_years)
    if not years:
        return ""
    return f" (provisional 暂定: {', '.join(map(str, years))} holidays not loaded)"


def iso_china(ms: int) -> str:
    """Epoch milliseconds as ISO-8601 in China time (``2026-12-01T10:00:00.000+08:00``);
    '' for 0. For JSON and CSV."""
    if not ms:
        return ""
    return china_datetime(ms).isoformat(timespec="milliseconds")


def from_iso(text: str) -> int:
    """An ISO-8601 time with its zone as epoch milliseconds; ``ValueError`` without a zone."""
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} needs a time zone, e.g. 2026-11-23T09:00:00+08:00")
    return int(moment.timestamp() * 1000)


def yuan(fen: int) -> str:
    """An amount in fen (1/100 yuan) in yuan: ``3,000.00 yuan (元)``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d} yuan (元)"


def duration(ms: int) -> str:
    """A length of time: ``45s``, ``12min``, ``3h``, ``2d 4h``."""
    seconds = max(0, ms // 1000)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}min"
    if seconds < 172_800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86_400}d {seconds % 86_400 // 3600}h"


def age(ms: int, now_ms: int) -> str:
    """How long ago ``ms`` was, seen at ``now_ms``; ``-`` for 0."""
    return duration(now_ms - ms) if ms else "-"


def width(text: str) -> int:
    """Columns ``text`` takes on a terminal (wide East Asian characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, columns: int) -> str:
    return text + " " * (columns - width(text))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A header row and the rows, each column as wide as its widest cell."""
    widths = [max([width(h), *(width(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = []
    for row in (headers, *rows):
        cells = [_pad(cell, w) for cell, w in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return lines


def csv_text(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Rows as CSV with a header row (RFC 4180 quoting, ``\\r\\n`` line ends)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue()


def json_text(value: Any) -> str:
    """``value`` as indented JSON, Chinese left readable."""
    return json.dumps(value, ensure_ascii=False, indent=2)
