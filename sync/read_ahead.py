"""What the verifying worker reads out of a received event beside checking its signature.

Why this exists: catching up a backlog, the receiving node's main process is the bound (one
core of Python per event: decode, fold, project, store) while the worker process that checks
the signatures has a core of its own with time to spare (docs/benchmarks.md, issue 14). So
the worker also decodes each verified event's payload and, for a registration, folds the
ticket from that one event and encodes its view; the writer then takes these instead of doing
the same work under the interpreter lock it shares with everything else.

Nothing here is trusted more than the bytes it came from: ``read_ahead`` is a pure function of
the signed envelope, run by the same code on the same installation, and the writer uses a
state folded from one event only where its fold would have had exactly that one event
(``EventBuffer.state_of``). An event whose payload does not decode gets no read-ahead: the
writer decodes it itself and meets the same error as before.
"""

from __future__ import annotations

import enum
import io
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import HotlineError
from core.ticket.events import DomainEvent
from core.ticket.fold import fold
from core.ticket.state import TicketState
from sync.codec import encode_ticket
from sync.envelope import open_sealed

REGISTERED = "hotline.v1.TicketRegistered"


@dataclass(frozen=True)
class ReadAhead:
    """A received event's domain event, or for a registration its ticket folded from it alone."""

    event: DomainEvent | None
    """The decoded payload; None for a registration (its fold alone stands in for it, and the
    writer decodes it itself in the rare case it cannot use that fold)."""
    alone: TicketState | None = None
    """``fold(ticket_id, [this event])``: the ticket's state when the receiver holds no other
    event of it (the usual case for a registration in a backlog)."""
    view: bytes = b""
    """``encode_ticket(alone)``, the ticket's view as the projection would write it."""


def read_ahead(envelope: bytes, signature: bytes) -> ReadAhead | None:
    """Decode one signed event (its signature already checked); None when it does not decode."""
    try:
        sealed = open_sealed(envelope, signature)
        recorded = sealed.recorded()
    except HotlineError:
        return None  # the writer decodes it again and refuses it as it always has
    if sealed.event_type != REGISTERED:
        return ReadAhead(recorded.event)
    alone = fold(sealed.ticket_id, [recorded])
    return ReadAhead(None, alone, encode_ticket(alone))


Verdict = tuple[bool, ReadAhead | None]
"""Whether an event's signature holds, and what was read ahead of it (only if it holds)."""


class _MembersByName(pickle.Pickler):
    """Pickles enum members as ``getattr(EnumClass, name)``.

    The default pickles them as a call of their class, which runs ``Enum.__new__`` in Python
    for every member unpickled: about 40 % of unpickling a folded ticket state, and that
    unpickling is done by the receiving node's busy process (docs/benchmarks.md, issue 14).
    """

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, enum.Enum) and not isinstance(obj, enum.Flag):
            return getattr, (type(obj), obj.name)
        return NotImplemented


def pack(verdicts: Sequence[Verdict]) -> bytes:
    """The worker's answer for a batch, as bytes for ``unpack`` (``_MembersByName``)."""
    out = io.BytesIO()
    _MembersByName(out, protocol=pickle.HIGHEST_PROTOCOL).dump(list(verdicts))
    return out.getvalue()


def unpack(packed: bytes) -> list[Verdict]:
    """``pack``'s verdicts back; only ever of bytes this node's own worker process made."""
    verdicts: list[Verdict] = pickle.loads(packed)
    return verdicts
