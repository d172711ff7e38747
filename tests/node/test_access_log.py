"""The audit administrator reads the access record; nobody else does, and every look is recorded.

Issue 11, item 6. A county node whose officers sign in for real (``tests.helpers.auditing``):
refused tries of every kind are made, then read back through ``AccessService.ReadAccessRecord``
with filters; other roles are refused at the door (and that refusal is a row too).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.access.record import first_break
from node.access import record
from node.edge import access as access_edge
from node.edge.client import CallError, NodeClient
from proto.hotline.v1 import access_pb2
from tests.helpers.auditing import AUDITOR, HANDLER, SECURITY, AuditedCounty, start_audited_county
from tests.helpers.signin import access_rows, reasons, register
from tests.helpers.world import World


@pytest.fixture
def county(world: World) -> Iterator[AuditedCounty]:
    """Chengguan with its security administrator, audit administrator and handler."""
    yield start_audited_county(world)


def _refused(call: object) -> CallError:
    with pytest.raises(CallError) as failed:
        call()  # type: ignore[operator]
    return failed.value


def _make_refused_tries(county: AuditedCounty) -> None:
    """A wrong password, an unknown officer, a malformed token, a call naming nobody, a handler
    asking for the roster, and five wrong passwords that lock the handler out."""
    target = county.node.target
    with county.node.unsigned() as anonymous:
        _refused(lambda: anonymous.sign_in("620102-nobody", "x", "000000"))
        _refused(lambda: register(anonymous))
    with NodeClient(target, root=county.node.root, token="not-a-token") as bearer:
        _refused(lambda: register(bearer))
    with county.sign_in(HANDLER) as handler:
        _refused(lambda: handler.sync_status())
    with county.node.unsigned() as guesser:
        for _ in range(5):
            _refused(lambda: guesser.sign_in(HANDLER, "Wrong-password-123", "000000"))


def test_the_audit_administrator_reads_every_refused_try_and_the_read_is_recorded(
    county: AuditedCounty,
) -> None:
    _make_refused_tries(county)
    rows, anchor = county.read(outcome="refused")
    seen = [f"{r.action}/{r.reason}" for r in rows]
    assert seen == [
        "sign-in/unknown-officer",
        "call/no-token",
        "call/malformed-token",
        "call/missing-role",
        *["sign-in/wrong-password"] * 5,
    ]
    assert all(r.outcome == "refused" and r.peer.startswith("ipv4:127.0.0.1:") for r in rows)
    assert "GetSyncStatus" in rows[3].detail and rows[3].officer_id == HANDLER
    # The lockout itself is a row (done), and the read is the record's last row.
    everything, _ = county.read()
    assert [r.action for r in everything].count("lockout") == 1
    last = access_rows(county.node)[-1]
    assert (last.action.value, last.officer_id, last.detail) == (
        "read-record",
        AUDITOR,
        "everything",
    )
    earlier_read = next(e for e in access_rows(county.node) if e.detail == "outcome=refused")
    seq, digest = anchor.split(":")
    assert earlier_read.seq == int(seq)
    with county.node.node.db.read() as conn:
        stored = {row.entry.seq: row.digest for row in record.read(conn)}
        assert first_break(record.read(conn)) is None
    assert stored[int(seq)].hex() == digest


def test_the_filters_pick_officer_action_time_text_and_the_last_rows(
    county: AuditedCounty,
) -> None:
    _make_refused_tries(county)
    rows = access_rows(county.node)
    locked_at = next(e.at_ms for e in rows if e.action.value == "lockout")

    mine, _ = county.read(officer_id=HANDLER, actions=["lockout", "sign-in"])
    assert {r.officer_id for r in mine} == {HANDLER}
    assert {r.action for r in mine} == {"sign-in", "lockout"}
    assert [r.reason for r in mine].count("wrong-password") == 5

    since, _ = county.read(since_ms=locked_at, actions=["sign-in", "lockout", "call"])
    assert since and all(r.at_ms >= locked_at for r in since)
    until, _ = county.read(until_ms=locked_at)
    assert until and all(r.at_ms < locked_at for r in until)

    by_text, _ = county.read(text="registerticket")  # any case
    assert [r.reason for r in by_text] == ["no-token", "malformed-token", ""]
    assert by_text[-1].action == "read-record"  # the read itself, its filter in its detail

    last_two, anchor = county.read(newest_first=True, limit=2)
    assert [r.action for r in last_two] == ["read-record", "sign-in"]  # the read, its sign-in
    assert last_two[0].seq == int(anchor.split(":")[0]) and last_two[1].seq < last_two[0].seq
    first_three, _ = county.read(limit=3)
    assert [r.seq for r in first_three] == [1, 2, 3]


def test_a_long_record_streams_in_pages_in_order(
    county: AuditedCounty, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(access_edge, "PAGE_ROWS", 4)
    _make_refused_tries(county)
    with county.sign_in(AUDITOR) as auditor:
        pages = list(auditor.read_access_record(access_pb2.ReadAccessRecordRequest()))
        newest = list(
            auditor.read_access_record(
                access_pb2.ReadAccessRecordRequest(newest_first=True, limit=9)
            )
        )
    assert len(pages) > 3 and all(len(p.rows) <= 4 for p in pages)
    seqs = [r.seq for p in pages for r in p.rows]
    assert seqs == list(range(1, pages[0].head_seq + 1))
    newest_seqs = [r.seq for p in newest for r in p.rows]
    assert newest_seqs == list(range(newest[0].head_seq, newest[0].head_seq - 9, -1))


@pytest.mark.parametrize("officer", [HANDLER, SECURITY])
def test_no_other_role_reads_the_record_and_the_refusal_is_recorded(
    county: AuditedCounty, officer: str
) -> None:
    with county.sign_in(officer) as other:
        before = len(access_rows(county.node))
        failed = _refused(
            lambda: list(other.read_access_record(access_pb2.ReadAccessRecordRequest()))
        )
    assert failed.code == "PERMISSION_DENIED" and "audit_admin" in failed.message
    assert reasons(county.node, after=before) == ["call/refused/missing-role"]
    assert "ReadAccessRecord" in access_rows(county.node)[-1].detail


def test_nobody_signed_in_is_refused_unauthenticated_and_recorded(county: AuditedCounty) -> None:
    before = len(access_rows(county.node))
    with county.node.unsigned() as anonymous:
        failed = _refused(
            lambda: list(anonymous.read_access_record(access_pb2.ReadAccessRecordRequest()))
        )
    assert failed.code == "UNAUTHENTICATED"
    assert reasons(county.node, after=before) == ["call/refused/no-token"]


@pytest.mark.parametrize(
    ("wanted", "field"),
    [
        ({"actions": ["delete-everything"]}, "actions"),
        ({"outcome": "maybe"}, "outcome"),
        ({"since_ms": 2_000, "until_ms": 1_000}, "until_ms"),
        ({"text": "x" * 101}, "text"),
        ({"officer_id": "6" * 65}, "officer_id"),
        ({"limit": 100_001}, "limit"),
    ],
)
def test_a_malformed_filter_is_refused_naming_its_field_and_writes_nothing(
    county: AuditedCounty, wanted: dict[str, object], field: str
) -> None:
    with county.sign_in(AUDITOR) as auditor:
        before = len(access_rows(county.node))
        failed = _refused(
            lambda: list(
                auditor.read_access_record(access_pb2.ReadAccessRecordRequest(**wanted))  # type: ignore[arg-type]
            )
        )
    assert failed.code == "INVALID_ARGUMENT" and failed.message.startswith(f"{field}:")
    assert len(access_rows(county.node)) == before
