"""Two processes of one hub on one PostgreSQL database see each other's roster, trust and rules.

Each process holds its roster and its trust store in memory (``node.storage.shared_changes``).
Here two nodes are built on one data folder and one database, as two ``hotline serve``
processes would be (docs/scaling.md), and only their writers run: what the first changes, the
second must judge by from its very next writer transaction on, and not before it looked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.officers import Role
from core.units import UnitLevel
from node.app.levels import profile_of
from node.app.runtime import Node
from node.app.settings import NodeSettings
from node.app.wiring import build_node
from node.devnet.hierarchy import Hierarchy
from node.devnet.officers import DEVNET_HASH_MEMORY_KIB
from proto.hotline.v1 import rules_pb2
from province_hub.rule_book_issuer import RuleBookIssuer
from sync.writer import LogBatch
from tests.helpers.databases import PostgresDatabases

PROVINCE = "620000"


def nothing(batch: LogBatch) -> None:
    """A writer job that records nothing: it only opens a writer transaction."""


@pytest.fixture
def two_processes(
    postgres: PostgresDatabases, hierarchy: Hierarchy, tmp_path: Path
) -> Iterator[tuple[Node, Node]]:
    """The province hub built twice on one folder and one fresh database, writers running."""
    folder = tmp_path / "province"
    hierarchy.enrol(folder, PROVINCE, int(time.time() * 1000))
    settings = NodeSettings(
        level=UnitLevel.PROVINCE,
        unit=PROVINCE,
        data_dir=folder,
        db=postgres.new(),
        parent="127.0.0.1:9",
        sweep_interval=3600,
        password_hash_memory_kib=DEVNET_HASH_MEMORY_KIB,
    )
    nodes = [build_node(settings, profile_of(UnitLevel.PROVINCE)) for _ in range(2)]
    for node in nodes:
        node.writer.start()
        node.writer.call(nothing)  # each has looked once, as a serving process soon does
    try:
        yield nodes[0], nodes[1]
    finally:
        for node in nodes:
            node.writer.stop()
            node.db.close()


@pytest.mark.postgres
def test_an_officer_one_process_adds_is_known_to_the_other_from_its_next_transaction(
    two_processes: tuple[Node, Node],
) -> None:
    one, other = two_processes
    one.roster.save_officer("620000-05", "郑华", PROVINCE, frozenset({Role.DISPATCHER}))
    assert other.roster.find("620000-05") is None  # held in memory: not yet looked
    other.writer.call(nothing)
    officer = other.roster.find("620000-05")
    assert officer is not None and officer.roles == frozenset({Role.DISPATCHER})
    # A change of roles travels the same way.
    one.roster.save_officer("620000-05", "郑华", PROVINCE, frozenset({Role.SUPERVISOR}))
    other.writer.call(nothing)
    changed = other.roster.find("620000-05")
    assert changed is not None and changed.roles == frozenset({Role.SUPERVISOR})


@pytest.mark.postgres
def test_a_revocation_one_process_takes_in_is_in_force_in_the_other_before_its_next_job(
    two_processes: tuple[Node, Node], hierarchy: Hierarchy, tmp_path: Path
) -> None:
    one, other = two_processes
    now = int(time.time() * 1000)
    city = hierarchy.enrol(tmp_path / "city", "620100", now).credentials
    assert city is not None
    revoked = hierarchy.revoke(city.certificate, now - 60_000, now)

    def take_in(batch: LogBatch) -> None:  # what a child's push or a trust update records
        batch.remember_certificates([city.certificate])
        batch.remember_revocations(revoked)

    one.writer.call(take_in)
    assert not other.trust.knows(city.certificate.certificate)

    def judged_by(batch: LogBatch) -> int | None:
        assert batch.trust is not None
        return batch.trust.revoked_at(city.certificate.certificate)

    # The other process's next transaction catches up before its jobs run.
    assert other.writer.call(judged_by) == now - 60_000
    assert other.trust.knows(city.certificate.certificate)


@pytest.mark.postgres
def test_a_transaction_that_changes_nothing_shared_reloads_nothing(
    two_processes: tuple[Node, Node],
) -> None:
    one, other = two_processes
    reloads: list[str] = []
    reload_roster = other.roster.reload

    def counted() -> None:
        reloads.append("roster")
        reload_roster()

    other.roster.reload = counted  # type: ignore[method-assign]
    one.writer.call(nothing)
    other.writer.call(nothing)
    assert reloads == []
    one.roster.save_officer("620000-06", "钱多", PROVINCE, frozenset({Role.OPERATOR}))
    other.writer.call(nothing)
    other.writer.call(nothing)
    assert reloads == ["roster"]


def issuer(node: Node) -> RuleBookIssuer:
    """The province's rule book issuer of one process (what its RulesService amends with)."""
    return RuleBookIssuer(
        node.rules, node.identity, node.roster, node.writer, lookup_keys=node.lookup_keys
    )


@pytest.mark.postgres
def test_rule_books_amended_in_two_processes_follow_one_another(
    two_processes: tuple[Node, Node],
) -> None:
    one, other = two_processes
    covid = rules_pb2.Campaign(campaign_id="covid", name="新冠疫情防控", tags=["新冠疫情"], days=3)
    gym = rules_pb2.Campaign(campaign_id="gym", name="健身房预付卡", tags=["预付卡"], days=5)
    first = one.writer.call(
        lambda batch: issuer(one).issue(batch, rules_pb2.RuleAmendment(start_campaign=covid))
    )
    # Had the other process amended its own stale book, it would sign a second book of the
    # same number: two rule books of one province, each node judging by whichever it got.
    second = other.writer.call(
        lambda batch: issuer(other).issue(batch, rules_pb2.RuleAmendment(start_campaign=gym))
    )
    assert second.number == first.number + 1
    assert {c.campaign_id for c in second.campaigns} == {"covid", "gym"}
    assert one.writer.call(lambda batch: one.rules.book_in(batch).number) == second.number


@pytest.mark.postgres
def test_an_idle_process_learns_of_a_roster_change_at_its_next_scheduled_look(
    two_processes: tuple[Node, Node],
) -> None:
    one, other = two_processes
    one.roster.save_officer("620000-07", "孙丽", PROVINCE, frozenset({Role.OPERATOR}))
    assert other.roster.find("620000-07") is None
    # No writer transaction in the other process: its scheduler's roster watch looks.
    asyncio.run(other.jobs.jobs["roster-watch"].run_once())
    assert other.roster.find("620000-07") is not None
