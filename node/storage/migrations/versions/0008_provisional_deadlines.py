"""obligations.provisional: the years a due date was counted over by weekends only (暂定)

The rows already there are marked from the calendar the node will judge by: the package's
years and those of the stored rule book. Every later row is written by the projection.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-20 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.deadlines.china_time import china_date
from core.deadlines.holidays import HolidayTable, YearHolidays
from core.deadlines.working_days import WorkingDayCalendar
from proto.hotline.v1 import rules_pb2

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("obligations") as batch:
        batch.add_column(
            sa.Column("provisional", sa.String(length=64), server_default="", nullable=False)
        )
    _mark_rows(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("obligations") as batch:
        batch.drop_column("provisional")


def _mark_rows(conn: sa.Connection) -> None:
    """Mark the rows whose count crossed a year the node's calendar does not know."""
    package = HolidayTable.from_chinese_calendar()
    loaded = _rule_book_years(conn) - package.known_years
    calendar = WorkingDayCalendar(
        package.merged(HolidayTable(tuple(YearHolidays(y) for y in loaded)))
    )
    rows = conn.execute(
        sa.text("SELECT ticket_id, duty, unit_code, started_ms, due_ms FROM obligations")
    ).all()
    marks = []
    for row in rows:
        years = calendar.guessed_years(china_date(row.started_ms), china_date(row.due_ms - 1))
        if years:
            marks.append(
                {
                    "ticket_id": row.ticket_id,
                    "duty": row.duty,
                    "unit_code": row.unit_code,
                    "years": " ".join(map(str, years)),
                }
            )
    if marks:
        conn.execute(
            sa.text(
                "UPDATE obligations SET provisional = :years WHERE ticket_id = :ticket_id "
                "AND duty = :duty AND unit_code = :unit_code"
            ),
            marks,
        )


def _rule_book_years(conn: sa.Connection) -> frozenset[int]:
    """The holiday years of the rule books stored here (an administrator loaded them)."""
    years: set[int] = set()
    for (signed_bytes,) in conn.execute(sa.text("SELECT signed FROM rule_books")):
        signed = rules_pb2.SignedRuleBook()
        signed.ParseFromString(signed_bytes)
        book = rules_pb2.RuleBook()
        book.ParseFromString(signed.rule_book)
        years.update(y.year for y in book.holiday_years)
    return frozenset(years)
