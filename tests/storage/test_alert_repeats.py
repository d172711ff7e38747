"""The same problem seen again counts on its open alert; cleared, it is raised anew."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from core.regions import standard_units
from core.units import UnitLevel
from node.storage.database import Database
from node.views.tickets import TicketProjection
from sync import schema
from sync.identity import NodeIdentity
from sync.reasons import AlertKind
from sync.writer import LogBatch, LogWriter

TAMPERED = AlertKind.TAMPERED_EVENT


@pytest.fixture
def writer(db_url: str) -> Iterator[tuple[Database, LogWriter]]:
    db = Database.open(db_url)
    identity = NodeIdentity.generate("620100", UnitLevel.CITY)
    projection = TicketProjection(standard_units().get("620100"))
    log_writer = LogWriter(db.writer_engine, identity, lambda: 1_790_000_000_000, projection)
    log_writer.start()
    try:
        yield db, log_writer
    finally:
        log_writer.stop()
        db.close()


def alerts(db: Database) -> list[tuple[str, str, int, bool]]:
    with db.read() as conn:
        rows = conn.execute(select(schema.alerts).order_by(schema.alerts.c.id)).all()
    return [(r.kind, r.detail, r.repeats, r.cleared_ms == 0) for r in rows]


def test_the_same_problem_counts_on_one_alert_within_and_across_transactions(
    writer: tuple[Database, LogWriter],
) -> None:
    db, log_writer = writer

    def twice(batch: LogBatch) -> None:
        batch.raise_alert(TAMPERED, "620102-aaaaaa", "event e1: signature does not verify")
        batch.raise_alert(TAMPERED, "620102-aaaaaa", "event e1: signature does not verify")

    log_writer.call(twice)
    log_writer.call(twice)
    assert alerts(db) == [(TAMPERED.value, "event e1: signature does not verify", 4, True)]


def test_another_event_or_another_kind_is_another_alert(
    writer: tuple[Database, LogWriter],
) -> None:
    db, log_writer = writer
    log_writer.call(lambda b: b.raise_alert(TAMPERED, "620102-aaaaaa", "event e1"))
    log_writer.call(lambda b: b.raise_alert(TAMPERED, "620102-aaaaaa", "event e2"))
    log_writer.call(lambda b: b.raise_alert(AlertKind.FORK, "620102-aaaaaa", "event e1"))
    assert [(kind, detail) for kind, detail, _, _ in alerts(db)] == [
        (TAMPERED.value, "event e1"),
        (TAMPERED.value, "event e2"),
        (AlertKind.FORK.value, "event e1"),
    ]


def test_a_problem_seen_after_its_alert_was_cleared_raises_a_new_one(
    writer: tuple[Database, LogWriter],
) -> None:
    db, log_writer = writer
    log_writer.call(lambda b: b.raise_alert(AlertKind.FORK, "620102-aaaaaa", "two at seq 3"))

    def cleared_then_seen(batch: LogBatch) -> None:
        batch.clear_alerts(AlertKind.FORK, "620102-aaaaaa")
        batch.raise_alert(AlertKind.FORK, "620102-aaaaaa", "two at seq 3")

    log_writer.call(cleared_then_seen)
    log_writer.call(lambda b: b.raise_alert(AlertKind.FORK, "620102-aaaaaa", "two at seq 3"))
    assert alerts(db) == [
        (AlertKind.FORK.value, "two at seq 3", 1, False),
        (AlertKind.FORK.value, "two at seq 3", 2, True),
    ]
