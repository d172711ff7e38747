"""A writer job is all or nothing, in memory as on disk (issue 9, item 3).

A job that fails, for whatever reason, leaves nothing behind; what a job changes in memory
(the rule book a node judges deadlines by, the calendar and time limits that come with it) is
changed only once its transaction has committed, so memory never runs ahead of the database
when a sibling job sinks the group. Jobs are queued behind a job that holds the writer, so that
they are committed as one group, as they would be under load.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.deadlines.policy import DEFAULT_POLICY
from core.deadlines.rulebook import Campaign, RuleBook
from node.app.runtime import Node
from node.desks.province_rules import ProvinceRules
from node.devnet.hierarchy import Hierarchy
from node.storage.tables import rule_books
from proto.hotline.v1 import rules_pb2
from province_hub.rule_book_issuer import RuleBookIssuer
from sync import schema
from sync.errors import StorageError
from sync.reasons import AlertKind
from sync.rule_book_signing import sign_rule_book
from sync.writer import LogBatch, LogWriter
from tests.helpers.holding import hold_writer
from tests.helpers.world import World, spec

Job = Callable[[LogBatch], Any]


def in_one_group(writer: LogWriter, *jobs: Job) -> list[Future[Any]]:
    """Queue ``jobs`` while the writer is busy with another job, so they form one group."""
    release, holder = hold_writer(writer)
    futures = [writer.submit(job) for job in jobs]
    release.set()
    holder.result(30)
    return futures


def signed_book(hierarchy: Hierarchy, folder: Path) -> rules_pb2.SignedRuleBook:
    """Rule book no. 1 of Gansu (a campaign), signed by a province node of the hierarchy."""
    now = int(time.time() * 1000)
    issuer = hierarchy.enrol(folder / "issuer", "620000", now)
    assert issuer.credentials is not None
    book = RuleBook("620000").with_campaign(
        Campaign("flood", "防汛专项", now, tags=("防汛",), days=3), now
    )
    assert book.number == 1
    return sign_rule_book(book, issuer, issuer.credentials.certificate)


def stored_number(node: Node) -> int:
    """The number of the rule book in the node's database (0: none)."""
    with node.db.read() as conn:
        number = conn.execute(select(rule_books.c.number)).scalar()
    return int(number or 0)


def taking(rules: ProvinceRules, signed: rules_pb2.SignedRuleBook, seen: list[LogBatch]) -> Job:
    """A job that takes the rule book handed down, noting the batch it ran in."""

    def job(batch: LogBatch) -> str:
        seen.append(batch)
        return rules.learn(batch, signed)

    return job


def failing(seen: list[LogBatch]) -> Job:
    """A job that fails for a reason that is no domain error (a bug, say)."""

    def job(batch: LogBatch) -> None:
        seen.append(batch)
        raise RuntimeError("the sibling job broke")

    return job


def breaking_the_flush(seen: list[LogBatch]) -> Job:
    """A job whose buffered rows break a constraint when the transaction is written."""

    def job(batch: LogBatch) -> None:
        seen.append(batch)
        batch.insert(schema.node_state, {"name": "twice", "value": 1})
        batch.insert(schema.node_state, {"name": "twice", "value": 2})

    return job


@pytest.fixture
def city(world: World) -> Node:
    """A city node of Gansu that has taken no rule book yet."""
    node = world.start(spec("city")).node
    assert node.rules.number == 0 and stored_number(node) == 0
    return node


def test_a_rule_book_taken_beside_a_job_that_fails_is_held_exactly_as_committed(
    city: Node, hierarchy: Hierarchy, tmp_path: Path
) -> None:
    signed = signed_book(hierarchy, tmp_path)
    seen: list[LogBatch] = []
    took, broke = in_one_group(city.writer, taking(city.rules, signed, seen), failing(seen))
    assert took.result(30) == ""
    with pytest.raises(RuntimeError, match="sibling job broke"):
        broke.result(30)
    assert seen[0] is seen[1]  # the two jobs shared one transaction
    # Memory and database agree: the book is in force and stored, or neither.
    assert city.rules.number == stored_number(city) == 1
    assert city.deadlines.policy is not DEFAULT_POLICY
    assert [c.campaign_id for c in city.rules.book.campaigns] == ["flood"]


def test_a_rule_book_whose_group_fails_to_commit_is_held_exactly_as_committed(
    city: Node, hierarchy: Hierarchy, tmp_path: Path
) -> None:
    signed = signed_book(hierarchy, tmp_path)
    seen: list[LogBatch] = []
    took, broke = in_one_group(
        city.writer, taking(city.rules, signed, seen), breaking_the_flush(seen)
    )
    assert took.result(30) == ""
    with pytest.raises(StorageError):
        broke.result(30)
    assert seen[0] is seen[1]
    assert city.rules.number == stored_number(city) == 1
    assert city.deadlines.policy is not DEFAULT_POLICY


def test_a_rule_book_whose_transaction_fails_changes_nothing_in_memory(
    city: Node, hierarchy: Hierarchy, tmp_path: Path
) -> None:
    signed = signed_book(hierarchy, tmp_path)
    calendar, policy = city.deadlines.calendar, city.deadlines.policy
    seen: list[LogBatch] = []

    def take_then_break(batch: LogBatch) -> None:
        taking(city.rules, signed, seen)(batch)
        breaking_the_flush(seen)(batch)

    with pytest.raises(StorageError):
        city.writer.call(take_then_break)
    assert stored_number(city) == 0
    assert city.rules.number == 0 and city.rules.signed is None
    assert city.deadlines.calendar is calendar and city.deadlines.policy is policy
    # Taken again on its own, it holds.
    assert city.writer.call(taking(city.rules, signed, seen)) == ""
    assert city.rules.number == stored_number(city) == 1


def test_a_rule_book_job_that_fails_after_taking_the_book_changes_nothing(
    city: Node, hierarchy: Hierarchy, tmp_path: Path
) -> None:
    signed = signed_book(hierarchy, tmp_path)
    calendar = city.deadlines.calendar
    seen: list[LogBatch] = []

    def take_then_fail(batch: LogBatch) -> None:
        taking(city.rules, signed, seen)(batch)
        failing(seen)(batch)

    with pytest.raises(RuntimeError):
        city.writer.call(take_then_fail)
    assert stored_number(city) == 0 and city.rules.number == 0
    assert city.deadlines.calendar is calendar and city.deadlines.policy is DEFAULT_POLICY


def test_later_jobs_of_a_transaction_build_on_the_rule_book_an_earlier_one_took(
    world: World,
) -> None:
    province = world.start(spec("province")).node
    issuer = RuleBookIssuer(province.rules, province.identity, province.roster, province.writer)

    def start(campaign_id: str) -> Job:
        change = rules_pb2.RuleAmendment(
            start_campaign=rules_pb2.Campaign(
                campaign_id=campaign_id, name=f"专项 {campaign_id}", tags=[campaign_id]
            )
        )
        return partial(issuer.issue, change=change)

    first, second = in_one_group(province.writer, start("flood"), start("drought"))
    assert (first.result(30).number, second.result(30).number) == (1, 2)
    assert province.rules.number == stored_number(province) == 2
    assert [c.campaign_id for c in province.rules.book.campaigns] == ["flood", "drought"]


# -- quarantine release ---------------------------------------------------------------------

ORIGIN = "node-of-a-restored-backup"


def quarantined(node: Node) -> list[str]:
    with node.db.read() as conn:
        return list(conn.execute(select(schema.quarantined_origins.c.origin_node)).scalars())


def open_alerts(node: Node) -> list[str]:
    with node.db.read() as conn:
        rows = conn.execute(select(schema.alerts).where(schema.alerts.c.cleared_ms == 0))
        return sorted(f"{r.kind} {r.subject}" for r in rows)


def fork_found(batch: LogBatch) -> None:
    batch.quarantine(ORIGIN, "fork: a different event is already held")
    batch.raise_alert(AlertKind.FORK, ORIGIN, "two events claim one place")


def test_a_release_undone_by_a_later_failure_of_its_job_leaves_the_quarantine(
    city: Node,
) -> None:
    city.writer.call(fork_found)

    def release_then_fail(batch: LogBatch) -> None:
        assert batch.release(ORIGIN)
        batch.clear_alerts(AlertKind.FORK, ORIGIN)
        assert not batch.is_quarantined(ORIGIN)
        raise RuntimeError("failed after the release")

    with pytest.raises(RuntimeError):
        city.writer.call(release_then_fail)
    assert quarantined(city) == [ORIGIN]
    assert open_alerts(city) == [f"fork {ORIGIN}"]


def releasing(batch: LogBatch) -> bool:
    """What ``hotline quarantine release`` asks of the writer (``ReplicationDesk.release``)."""
    if not batch.release(ORIGIN):
        return False
    batch.clear_alerts(AlertKind.FORK, ORIGIN)
    batch.raise_alert(AlertKind.RELEASED, ORIGIN, "backup wiped")
    return True


def test_a_release_beside_a_failing_job_commits_and_nothing_of_the_failed_job(
    city: Node,
) -> None:
    city.writer.call(fork_found)
    seen: list[LogBatch] = []

    def sibling(batch: LogBatch) -> None:
        seen.append(batch)
        batch.quarantine("another-origin", "written, then failed")
        batch.raise_alert(AlertKind.FORK, "another-origin", "written, then failed")
        raise RuntimeError("the sibling job broke")

    def release(batch: LogBatch) -> bool:
        seen.append(batch)
        return releasing(batch)

    broke, released = in_one_group(city.writer, sibling, release)
    assert released.result(30) is True
    with pytest.raises(RuntimeError):
        broke.result(30)
    assert seen[0] is seen[1]
    assert quarantined(city) == []
    assert open_alerts(city) == [f"released {ORIGIN}"]
    assert city.writer.call(releasing) is False  # nothing left to release


def test_a_release_whose_transaction_fails_leaves_the_quarantine(city: Node) -> None:
    city.writer.call(fork_found)
    seen: list[LogBatch] = []

    def release_then_break(batch: LogBatch) -> bool:
        released = releasing(batch)
        breaking_the_flush(seen)(batch)
        return released

    with pytest.raises(StorageError):
        city.writer.call(release_then_break)
    assert quarantined(city) == [ORIGIN]
    assert open_alerts(city) == [f"fork {ORIGIN}"]


def test_a_quarantine_released_and_found_again_in_one_transaction_holds(city: Node) -> None:
    city.writer.call(fork_found)
    seen: list[LogBatch] = []

    def release(batch: LogBatch) -> bool:
        seen.append(batch)
        released = batch.release(ORIGIN)
        batch.clear_alerts(AlertKind.FORK, ORIGIN)
        return released

    def found_again(batch: LogBatch) -> bool:
        seen.append(batch)
        was = batch.is_quarantined(ORIGIN)
        fork_found(batch)
        return was

    released, again = in_one_group(city.writer, release, found_again)
    assert released.result(30) is True and again.result(30) is False
    assert seen[0] is seen[1]
    assert quarantined(city) == [ORIGIN]
    assert open_alerts(city) == [f"fork {ORIGIN}"]  # the old alert cleared, the new one open
