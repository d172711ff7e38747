"""Migration 0008 marks the obligations already stored whose due date is a guess (暂定).

A node upgraded with open deadlines in a year its calendar does not know must not show them as
final until something else rewrites their rows: the migration marks them from the calendar the
node will judge by, the package's years and those of its stored rule book. The package
installed here stops at 2026.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from core.deadlines.holidays import package_years
from node.storage.database import MIGRATIONS, make_engine, migrate, normalize_url
from proto.hotline.v1 import rules_pb2
from tests.helpers.clock import china, end_of
from tests.helpers.databases import DbUrlFactory

NEW_YEAR_S_EVE = int(china("2026-12-31", 10).timestamp() * 1000)
DECEMBER_FIRST = int(china("2026-12-01", 10).timestamp() * 1000)


def upgrade_to(url: str, revision: str) -> None:
    """Bring the schema at ``url`` to ``revision`` (not the latest)."""
    engine = make_engine(url, for_writer=True)
    try:
        with engine.begin() as conn:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def stored_before_0008(url: str, *, book_years: tuple[int, ...] = ()) -> None:
    """Two open acceptance decisions, as a node before 0008 stored them, and a rule book."""
    upgrade_to(url, "0007")
    engine = make_engine(url, for_writer=True)
    rows = [
        # Received 2026-12-31: counted into 2027 by weekends only, due 01-11.
        ("T-eve", NEW_YEAR_S_EVE, end_of("2027-01-11")),
        # Received 2026-12-01: due 12-10, every day counted in 2026.
        ("T-dec", DECEMBER_FIRST, end_of("2026-12-10")),
    ]
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO obligations (ticket_id, duty, unit_code, started_ms, due_ms, "
                    "policy_version, next_at_ms) VALUES (:t, 'decide_acceptance', '620102', "
                    ":started, :due, 'default-2026', :due)"
                ),
                [{"t": t, "started": started, "due": due} for t, started, due in rows],
            )
            if book_years:
                book = rules_pb2.RuleBook(
                    issuer_unit="620000",
                    number=1,
                    holiday_years=[rules_pb2.HolidayYear(year=y) for y in book_years],
                )
                signed = rules_pb2.SignedRuleBook(rule_book=book.SerializeToString())
                conn.execute(
                    text(
                        "INSERT INTO rule_books (issuer_unit, number, signed, received_ms) "
                        "VALUES ('620000', 1, :signed, 0)"
                    ),
                    {"signed": signed.SerializeToString()},
                )
    finally:
        engine.dispose()


def provisional_after_migration(url: str) -> dict[str, str]:
    migrate(url)
    engine = make_engine(url, for_writer=False)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT ticket_id, provisional FROM obligations")).all()
    finally:
        engine.dispose()
    return {r.ticket_id: r.provisional for r in rows}


def test_stored_deadlines_counted_over_an_unknown_year_are_marked_provisional(
    db_urls: DbUrlFactory,
) -> None:
    assert 2027 not in package_years()
    url = normalize_url(db_urls())
    stored_before_0008(url)
    assert provisional_after_migration(url) == {"T-eve": "2027", "T-dec": ""}


def test_a_year_the_stored_rule_book_loaded_is_known(db_urls: DbUrlFactory) -> None:
    url = normalize_url(db_urls())
    stored_before_0008(url, book_years=(2027,))
    assert provisional_after_migration(url) == {"T-eve": "", "T-dec": ""}
