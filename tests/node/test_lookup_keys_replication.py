"""The province's personal data rules and look-up keys, from the province to a county.

The province's supervisor chooses the cipher suite and the retention of personal data and
rotates the look-up key; the province node makes each key in its key folder, and at the next
replication rounds the city and the county hold the new rule book and the same key bytes, in
their own key folders, mode 0600 (docs/deadlines.md, "Personal data").
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from core.deadlines.rulebook import COMMERCIAL_SUITE
from node.app.clock import Clock
from node.cli.main import main as hotline
from node.personal.lookup_keys import LookupKeyStore, StoredLookupKey
from proto.hotline.v1 import rules_pb2
from sync.personal.suites import CipherSuite
from tests.helpers.clock import HandMovedTime, china
from tests.helpers.world import World

SUPERVISOR = 1  # 刘洋, operator and supervisor at the province


def key_folder(world: World, name: str) -> Path:
    return world[name].node.settings.data_dir / "keys"


def held(world: World, name: str) -> list[StoredLookupKey]:
    """The look-up keys in the node's key folder, as a restarted node would read them."""
    return LookupKeyStore.open(key_folder(world, name)).all()


def test_a_rotated_look_up_key_and_the_new_suite_reach_a_county_at_the_next_rounds(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.start_all(
        "province", "city", "chengguan", clock=Clock(_real=HandMovedTime(china("2026-12-01", 10)))
    )
    province_cli = world["province"].cli("620000-02")
    assert (
        hotline(
            [
                "rules",
                "personal",
                "--suite",
                "commercial",
                "--retention-days",
                "1825",
                *province_cli,
            ]
        )
        == 0
    )
    assert hotline(["rules", "rotate-lookup-key", *province_cli]) == 0
    capsys.readouterr()
    with world["province"].client() as province:
        book = province.rules().rule_book
    assert book.number == 3 and book.personal_suite == COMMERCIAL_SUITE
    assert book.retention_days == 1825
    # The province made one at its first start (its first book named it); the rotation another.
    first, rotated = held(world, "province")
    assert rotated.key_id == book.lookup_key_id != first.key_id
    assert first.suite == CipherSuite.parse(world.personal_suite).value
    assert rotated.suite == COMMERCIAL_SUITE  # made after the suite changed

    world.sync("city", "chengguan")
    with world["chengguan"].client() as county:
        county_book = county.rules().rule_book
    assert county_book == book
    assert held(world, "chengguan") == held(world, "province")  # ids, suites, bytes, order
    for key in held(world, "chengguan"):
        path = key_folder(world, "chengguan") / f"lookup-{key.key_id}.key"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_folder(world, "chengguan").stat().st_mode) == 0o700

    assert hotline(["rules", "show", *world["chengguan"].cli("620102-07")]) == 0
    shown = capsys.readouterr().out
    assert "sm4-gcm/sm3 (商用密码)" in shown and "kept 1825 days" in shown
    assert f"look-up key in force: {rotated.key_id}" in shown
    assert rotated.key.hex() not in shown.lower()


def test_a_county_behind_by_two_rotations_is_handed_only_what_it_lacks(world: World) -> None:
    world.start_all(
        "province", "city", "chengguan", clock=Clock(_real=HandMovedTime(china("2026-12-01", 10)))
    )
    rotate = rules_pb2.RuleAmendment(rotate_lookup_key=True)
    with world.officer("province", SUPERVISOR) as supervisor:
        supervisor.amend_rules(rules_pb2.RuleAmendment(retention_days=400))
    world.sync("city", "chengguan")
    (first,) = held(world, "chengguan")
    # The suite the province started in, its first key's.
    assert first.suite == CipherSuite.parse(world.personal_suite).value

    with world.officer("province", SUPERVISOR) as supervisor:
        supervisor.amend_rules(rotate)
        supervisor.amend_rules(rotate)
    world.sync("city")
    assert len(held(world, "city")) == 3 and len(held(world, "chengguan")) == 1
    world.sync("chengguan")
    assert held(world, "chengguan") == held(world, "province")
    with world["chengguan"].client() as county:
        assert county.rules().rule_book.lookup_key_id == held(world, "province")[-1].key_id

    world.take_down("chengguan")  # the keys survive a restart of the county
    world.bring_up("chengguan")
    world.sync("chengguan")
    assert held(world, "chengguan") == held(world, "province")
    assert world["chengguan"].node.lookup_keys is not None
    assert world["chengguan"].node.lookup_keys.all() == held(world, "province")


def test_a_bad_suite_is_refused_on_the_command_line_with_one_line_naming_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["--node", "127.0.0.1:9", "--officer", "620000-02"]
    assert hotline(["rules", "personal", "--suite", "rot13", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert "suite" in err and "rot13" in err and "\n" not in err
    assert hotline(["rules", "personal", "--retention-days", "0", *args]) == 2
    assert "retention_days" in capsys.readouterr().err
    assert hotline(["rules", "personal", *args]) == 2
    assert "--suite" in capsys.readouterr().err
