"""Who sees a filer's personal data in full (查看个人信息), and why they must say why.

Every page shows the filer masked (``core.personal.masking``); seeing one field in full is a
step of its own, taken by an officer who states a purpose, recorded as a signed event
(``PersonalDataRevealed``) that replicates up, so the units above see every look. This module
holds the pure rules of that step (DOMAIN.md §9):

- the roles that may look (``REVEAL_ROLES``): those who reach the filer in the course of
  handling, supervising or dispatching the ticket;
- the ticket must be one the officer's unit has a part in, judged as the receivers of the
  event will judge it (``why_unit_may_not``), so a look is never a conflict up the line;
- a report's filer (举报人) is confidential (举报人信息保密): any of their fields is shown only to
  the head of the unit holding the ticket;
- a purpose of a few words at least, and short enough to stay a purpose.
"""

from __future__ import annotations

from core.errors import InvalidInput
from core.officers import Officer, Role
from core.ticket.authority import why_unit_may_not
from core.ticket.events import PersonalDataRevealed
from core.ticket.state import TicketState
from core.ticket.vocabulary import PersonalField, TicketKind

REVEAL_ROLES = frozenset(
    {Role.HANDLER, Role.STATION_OFFICER, Role.UNIT_HEAD, Role.SUPERVISOR, Role.DISPATCHER}
)
"""The roles that may see a personal field in full.

Handlers and station officers reach the filer to mediate, verify and check on site; unit heads
approve results and alone see a reporter; supervisors make callbacks and press units on the
filer's behalf; dispatchers route tickets a filer calls back about. Operators register what the
filer tells them and read the ticket masked afterwards; administrators never handle tickets."""

PURPOSE_MIN = 4
"""Fewest characters of a purpose: "回访核实" is a purpose, "看看" is not."""

PURPOSE_MAX = 200
"""Most characters of a purpose: a reason, not a note."""

REPORTER_RULE = "举报人信息保密 (a reporter's identity is confidential)"
"""The rule a refused look at a report's filer names."""


def check_purpose(purpose: str) -> str:
    """The purpose stripped; ``InvalidInput`` naming ``purpose`` when too short or too long."""
    text = purpose.strip()
    if len(text) < PURPOSE_MIN:
        raise InvalidInput(
            "purpose", f"say why you look, in {PURPOSE_MIN} to {PURPOSE_MAX} characters"
        )
    if len(text) > PURPOSE_MAX:
        raise InvalidInput("purpose", f"at most {PURPOSE_MAX} characters")
    return text


def reporter_is_hidden(state: TicketState) -> bool:
    """True when the filer is a reporter (a report, 举报), whose identity is confidential.

    A composite ticket (投诉举报复合件) is left out: its filer is a complainant too, whom the
    handler must reach to mediate, and whom the business meets in mediation anyway.
    """
    registration = state.registration
    return registration is not None and registration.kind is TicketKind.REPORT


def why_may_not_reveal(state: TicketState, officer: Officer, field: PersonalField) -> str | None:
    """The reason ``officer`` may not see ``field`` of the ticket's filer in full, or None."""
    if not officer.has(*REVEAL_ROLES):
        return f"officer {officer.officer_id} holds no role that sees personal data in full"
    outside = why_unit_may_not(state, officer.ref(), PersonalDataRevealed(field, ""))
    if outside is not None:
        return outside
    if reporter_is_hidden(state):
        holder = state.holder_unit
        if not (officer.has(Role.UNIT_HEAD) and officer.unit_code == holder):
            return (
                f"{REPORTER_RULE}: the {field.value} of a report's filer is shown only to the "
                f"head (负责人) of the holding unit {holder}"
            )
    return None


__all__ = [
    "PURPOSE_MAX",
    "PURPOSE_MIN",
    "REPORTER_RULE",
    "REVEAL_ROLES",
    "check_purpose",
    "reporter_is_hidden",
    "why_may_not_reveal",
]
