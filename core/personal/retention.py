"""When a ticket's personal data must be erased: the end of its retention period (个人信息删除).

The Personal Information Protection Law keeps personal data no longer than its purpose needs.
A ticket's filer data serves the handling of the ticket and the years in which it may be
reviewed afterwards, so it is kept for a retention period counted from when the ticket ended
(closed, or found a duplicate of an earlier one), then erased: every node deletes its sealed
copy when it folds the signed ``PersonalDataErased``, while the log keeps only the commitment.

Who records that event matters: one recording is enough (replication carries it everywhere),
and the node that holds the ticket knows it best. So the holder's node owes it when the period
ends; its province owes it too, a grace later, so that a holder's node that is gone (a county
closed or merged, a laptop lost) does not keep the data alive for ever. Two recordings are
harmless: the fold counts the first.

Pure: the clock is passed in, as epoch milliseconds.
"""

from __future__ import annotations

from core import hlc
from core.deadlines.rulebook import DEFAULT_RETENTION_DAYS
from core.errors import InvalidInput
from core.ticket.state import TicketState, TicketStatus
from core.units import UnitLevel, level_of, province_of

DEFAULT_GRACE_DAYS = 7
"""How long after the holder's node the province steps in (its fallback)."""

DAY_MS = 86_400_000

ERASURE_REASON = "保存期限届满 (retention period ended)"
"""The reason the erasure job gives in the signed event."""


def effective_retention_days(retention_days: int) -> int:
    """The retention period in calendar days: ``retention_days``, or the default for 0 (the
    rule book's "not set"). A negative period is a mistake, never "erase at once"."""
    if retention_days < 0:
        reason = f"must be 0 (the default) or more, not {retention_days}"
        raise InvalidInput("retention_days", reason)
    return retention_days or DEFAULT_RETENTION_DAYS


def ended_ms(state: TicketState) -> int | None:
    """When the ticket ended (epoch milliseconds): a closed ticket when it last closed, a
    duplicate when it was registered (it is never handled); None while it is open or its
    history is not held here (nothing is known to have ended)."""
    match state.status:
        case TicketStatus.CLOSED if state.closed_hlc:
            return hlc.to_millis(state.closed_hlc)
        case TicketStatus.DUPLICATE if state.registered_hlc:
            return hlc.to_millis(state.registered_hlc)
    return None


def erasure_due_ms(state: TicketState, retention_days: int) -> int | None:
    """When the ticket's personal data falls due for erasure: its end plus the retention
    period (0: the default); None while the ticket has not ended."""
    ended = ended_ms(state)
    if ended is None:
        return None
    return ended + effective_retention_days(retention_days) * DAY_MS


def owes_erasure(
    state: TicketState,
    own_unit: str,
    now_ms: int,
    retention_days: int,
    grace_days: int = DEFAULT_GRACE_DAYS,
) -> bool:
    """True when the node of ``own_unit`` should record the erasure of the ticket's personal
    data at ``now_ms``.

    Never before the ticket ended plus the retention period, never twice (an erased ticket is
    done). The holder's node owes it from the due instant; the province of the holder owes it
    ``grace_days`` later, in case the holder's node is gone.
    """
    if state.personal_erased:
        return False
    due = erasure_due_ms(state, retention_days)
    if due is None or now_ms < due:
        return False
    if own_unit == state.holder_unit:
        return True
    is_province = level_of(own_unit) is UnitLevel.PROVINCE
    return (
        is_province
        and bool(state.holder_unit)
        and province_of(state.holder_unit) == own_unit
        and now_ms >= due + grace_days * DAY_MS
    )
