"""How much one field may hold: the length of every free text, the count of every list.

A caller must not be able to make a node store, sign and replicate to every level above it a
megabyte address or ten thousand attachments: whatever a ticket holds is copied to the
province and kept for good. So every free-text field of a command has a documented limit, in
characters (Unicode code points, after surrounding white space is trimmed), and every list a
bound on its length. The limits are checked in ``core`` (``core.ticket.decisions``,
``core.ticket.registration_checks``, the roster's checks), so every channel that reaches a
node's desks gets them: gRPC, the CLI, the ODR portal to come. docs/security.md ("Limits and
input checks") lists them; ``tests/core/test_limits.py`` keeps that list and this table equal.

The numbers are generous for real use (a county bureau's full name is under 40 characters, a
phone transcript of the facts rarely over 3,000) and small enough that the largest possible
registration stays well under the 128 KiB a RegisterTicket request may weigh on the wire
(``node.edge.limits``).
"""

from __future__ import annotations

import re

from core.errors import InvalidInput

TEXT_LIMITS: dict[str, int] = {
    # the parties of a registration (登记)
    "consumer.name": 50,
    "consumer.address": 200,
    "respondent.name": 200,
    "respondent.address": 200,
    "respondent.platform_name": 100,
    "respondent.shop_name": 200,
    # what was registered
    "category": 100,
    "facts": 10_000,
    "request": 2_000,
    "tags": 32,
    "attachments.name": 255,
    # handling steps: short notes and reasons, long written results
    "note": 2_000,
    "reason": 2_000,
    "notice": 5_000,
    "agreement": 5_000,
    "evidence": 10_000,
    "case_number": 64,
    "summary": 10_000,
    "answer": 10_000,
    "instructions": 5_000,
    "report": 10_000,
    "order_id": 64,
    # the ODR green channel (在线消费纠纷解决): the enterprise's records and proposals
    "result": 2_000,
    "terms": 5_000,
    # the roster
    "officer.name": 50,
    "unit.name": 100,
    # the province's rule book (规则): campaigns and time-limit tables
    "campaign.campaign_id": 64,
    "campaign.name": 100,
    "campaign.terms": 100,
    "policy.version": 64,
    # an administrator's notes
    "release.note": 2_000,
}
"""Most characters each free-text field may hold, by its path in the command (list indexes
left out: ``tags[3]`` is limited as ``tags``)."""

MAX_TAGS = 20
"""Most campaign and topic tags on one ticket."""

MAX_ATTACHMENTS = 20
"""Most attachments handed in with one ticket."""

MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024
"""Largest attachment a ticket may refer to (100 MiB: a video of a visit, a scanned file)."""

MAX_CAMPAIGN_TERMS = 100
"""Most tags, categories and keywords a campaign matches on, together."""

MAX_AMOUNT_FEN = 10**12
"""Largest amount involved or recovered, in fen (10 billion yuan)."""

SHOWN_CHARACTERS = 40
"""How much of a refused value an error message repeats."""

_INDEX = re.compile(r"\[\d+\]")


def limit_of(field: str) -> int:
    """The most characters ``field`` may hold; a field with no limit is a programming error."""
    return TEXT_LIMITS[_INDEX.sub("", field)]


def check_text(value: str, field: str, *, required: bool = True, kind: str = "") -> str:
    """``value`` trimmed, if it is present when required and within its limit: that of
    ``kind`` (a key of ``TEXT_LIMITS``) when given, else that of ``field``."""
    value = value.strip()
    if required and not value:
        raise InvalidInput(field, "must not be empty")
    most = limit_of(kind or field)
    if len(value) > most:
        raise InvalidInput(field, f"{len(value)} characters is more than the {most} allowed")
    return value


def check_count(items: tuple[object, ...], field: str, most: int) -> None:
    """Refuse a list longer than ``most``."""
    if len(items) > most:
        raise InvalidInput(field, f"{len(items)} items is more than the {most} allowed")


def check_amount(fen: int, field: str) -> int:
    """An amount in fen that is neither negative nor beyond ``MAX_AMOUNT_FEN``."""
    if fen < 0:
        raise InvalidInput(field, "must not be negative")
    if fen > MAX_AMOUNT_FEN:
        raise InvalidInput(field, f"more than {MAX_AMOUNT_FEN} fen")
    return fen


def shown(value: str) -> str:
    """``value`` quoted for an error message, cut short if long: a refusal must not echo a
    megabyte back to the caller."""
    if len(value) <= SHOWN_CHARACTERS:
        return repr(value)
    return f"{value[:SHOWN_CHARACTERS]!r}... ({len(value)} characters)"
