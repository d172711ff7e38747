"""What a consumer is told of their own ticket (办理进度): which steps, and which of their words.

The consumer follows their ticket on their own page (issue 13, item 4). A ticket's history is
written for officers: routing notes, a result submitted and rejected before approval, reminders
and escalations, extension requests, supervision orders, flags on the filer, looks at personal
data. None of that is the consumer's: they are told what was done to their matter, by which
unit and when, and read the words written *for* them: the notice of a refusal (不予受理告知),
the mediation agreement, the approved result, the answer to an inquiry. Officers' ids and names
never appear; neither do other people's data (the registration's filer data is sealed apart).

Pure: it selects from events already folded; the words are put into Chinese at the edge
(``node.views.progress``), as the command line's are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.ticket import events as e
from core.ticket.state import TicketState
from core.ticket.vocabulary import Track

CONSUMER_EVENTS: tuple[type, ...] = (
    e.TicketRegistered,
    e.TicketRouted,
    e.TicketForwarded,
    e.TicketReturned,
    e.ComplaintAccepted,
    e.ComplaintRefused,
    e.TicketAssigned,
    e.MediationPaused,
    e.MediationResumed,
    e.MediationEnded,
    e.ReportVerified,
    e.CaseOpened,
    e.ResultApproved,
    e.InquiryAnswered,
    e.CallbackRecorded,
    e.TicketReopened,
)
"""The events a consumer is told of; every other one is the officers' own business (a result
is told once approved, never while it awaits the head's signature)."""


@dataclass(frozen=True)
class ConsumerStep:
    """One step done on the ticket, as far as the consumer is told it."""

    event: e.DomainEvent
    """The event (its kind and its enumerated words: the ground, the outcome, the rating)."""
    unit: str
    """The unit that did it (the unit of the recording officer; never the officer)."""
    hlc: int
    """When it was recorded (the hybrid clock: milliseconds << 16)."""
    text: str = ""
    """The words written for the consumer, if any: a refusal's notice, a mediation agreement,
    the approved result, the answer to an inquiry."""

    @property
    def what(self) -> str:
        """The event's name (``ComplaintAccepted``)."""
        return type(self.event).__name__


def _text(event: e.DomainEvent, results: dict[Track, str]) -> str:
    match event:
        case e.ComplaintRefused(notice=notice):
            return notice
        case e.MediationEnded(agreement=agreement):
            return agreement
        case e.ResultApproved(track=track):
            return results.get(track, "")
        case e.InquiryAnswered(answer=answer):
            return answer
    return ""


def consumer_steps(state: TicketState, recorded: Iterable[e.RecordedEvent]) -> list[ConsumerStep]:
    """The steps of the ticket the consumer is told of, oldest first.

    ``recorded``: the ticket's events as held here, in any order; those the fold could not
    apply (``state.conflicts``) are left out, as they changed nothing.
    """
    conflicted = {c.event_id for c in state.conflicts}
    results: dict[Track, str] = {}
    steps: list[ConsumerStep] = []
    for r in sorted(recorded, key=lambda r: r.order_key):
        if r.meta.event_id in conflicted:
            continue
        event = r.event
        if isinstance(event, e.ResultSubmitted):
            results[event.track] = event.summary  # told when (and if) it is approved
        if isinstance(event, CONSUMER_EVENTS):
            steps.append(
                ConsumerStep(event, r.meta.officer.unit_code, r.meta.hlc, _text(event, results))
            )
    return steps
