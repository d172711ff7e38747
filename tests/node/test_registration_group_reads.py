"""Registrations committed by one writer group answer retries and same-matter filings exactly
as one at a time would, though the group reads the committed rows once for all of them
(issue 14: less Python per registration on the writer; ``node.desks.registration_reads``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from typing import Any

import pytest

from core.ticket.commands import RegisterTicket
from core.ticket.state import TicketState, TicketStatus
from node.desks import registration_reads
from node.desks.intake import Registration
from node.devnet.samples import demo_tickets
from sync.codec import from_message
from tests.helpers.holding import hold_writer
from tests.helpers.world import World, spec

OFFICER = "620000-01"
GYM: RegisterTicket = dict(demo_tickets())["gym"]
OTHER = replace(GYM, facts="办卡后第二天门店就关了，店员说总部在外地，电话一直打不通。")


class _NoSingleReads:
    """Stands in for a one-row read: a registration noted while it waited must be answered
    from its group's read, never by a statement of its own."""

    def first(self, conn: Any, **params: Any) -> None:
        raise AssertionError(f"a registration read its own row: {params}")


def test_one_group_answers_retries_and_duplicates_as_one_at_a_time(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = world.start(spec("province"))
    desk = node.node.intake
    writer = node.node.writer
    monkeypatch.setattr(registration_reads, "_REQUEST_SEEN", _NoSingleReads())
    monkeypatch.setattr(registration_reads, "_SAME_MATTER", _NoSingleReads())
    first = node.run(desk.register("request-first", GYM, OFFICER))
    assert isinstance(first, Registration) and not first.replayed

    # Hold the writer until four registrations are queued, so they commit as one group.
    release, held = hold_writer(writer)

    def release_when_queued() -> None:
        deadline = time.monotonic() + 30
        while writer.queue_depth < 4 and time.monotonic() < deadline:
            time.sleep(0.005)
        release.set()

    releaser = threading.Thread(target=release_when_queued)
    releaser.start()

    async def together() -> list[Registration]:
        return list(
            await asyncio.gather(
                desk.register("request-first", GYM, OFFICER),  # a retry of a committed one
                desk.register("request-again", GYM, OFFICER),  # the committed one's matter
                desk.register("request-other", OTHER, OFFICER),  # a new matter
                desk.register("request-other", OTHER, OFFICER),  # its retry, in the group
            )
        )

    retry, again, other, other_retry = node.run(together())  # type: ignore[misc]
    releaser.join()
    held.result(30)

    assert (retry.ticket_id, retry.replayed) == (first.ticket_id, True)
    assert not again.replayed and again.ticket_id != first.ticket_id
    assert not other.replayed and other.ticket_id not in (first.ticket_id, again.ticket_id)
    assert (other_retry.ticket_id, other_retry.replayed) == (other.ticket_id, True)
    with node.client(OFFICER) as centre:
        linked, new = (
            from_message(TicketState, centre.get(t)) for t in (again.ticket_id, other.ticket_id)
        )
    assert linked.status is TicketStatus.DUPLICATE and linked.registration is not None
    assert linked.registration.duplicate_of == first.ticket_id
    assert new.status is TicketStatus.REGISTERED and new.registration is not None
    assert new.registration.duplicate_of == ""
