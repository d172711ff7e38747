"""Enterprises join the ODR green channel at their county, and the signed roster reaches every node.

Issue 13, item 1 and 2. Chengguan's handler registers an application (credit code, licence,
commitment letter, contacts, the five conditions); its unit head approves it: the enterprise's
first user signs in to Chengguan, and the roster record Chengguan signed reaches the province
and the sibling county Qilihe by replication, including a Qilihe that was down when it
changed. A unit on a blacklist cannot apply; one listed later is disqualified everywhere. Bad
input names its field and writes nothing.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.message import Message

from core.deadlines.china_time import china_datetime
from core.odr.roster import OdrRoster, Standing
from core.odr.roster_record import Listing, RosterRecord, next_record
from core.odr.standing import DisputeOutcome, DisputeRecord, closed_month_before
from node.cli.main import main as hotline
from node.devnet.officers import now_ms
from node.edge.client import CallError, NodeClient
from node.edge.enrolment import EnrolmentServicer
from node.enrolment.roster import current_record, read_roster
from node.storage.database import Database
from proto.hotline.v1 import enrolment_pb2 as pb
from proto.hotline.v1 import odr_pb2
from sync.odr_roster_signing import open_record, sign_record
from sync.trust import TrustStore
from tests.helpers.signin import code_at
from tests.helpers.world import InProcessNode, World, run_job, spec

CREDIT = "91620102MA74A1B2C9"
USER_PASSWORD = "Gym-owner-2027-ok"
LETTER = hashlib.sha256(b"commitment letter, signed and stamped").hexdigest()


def application(request_id: str = "odr-app-0001", **changes: Any) -> pb.SubmitApplicationRequest:
    """A complete application of a gym in Chengguan, with ``changes``."""
    fields: dict[str, Any] = {
        "request_id": request_id,
        "credit_code": CREDIT,
        "name": "兰州某健身有限公司",
        "kind": pb.APPLICANT_KIND_ENTERPRISE,
        "licence_number": "620102600123456",
        "commitment_letter_sha256": LETTER,
        "address": "兰州市城关区张掖路1号",
        "region": "620102",
        "contact_name": "张经理",
        "contact_phone": "0931-8888888",
        "fixed_premises": True,
        "staff_count": 2,
        "online_computer": True,
        "dedicated_phone": True,
        "handling_rules": True,
    }
    fields.update(changes)
    return pb.SubmitApplicationRequest(**fields)


def call(client: NodeClient, method: str, request: Message) -> Any:
    return client.call("EnrolmentService", method, request)


def refused(client: NodeClient, method: str, request: Message) -> CallError:
    with pytest.raises(CallError) as failed:
        call(client, method, request)
    return failed.value


def roster_of(node: InProcessNode) -> OdrRoster:
    with node.node.db.read() as conn:
        return read_roster(conn)


def applications(world: World) -> list[pb.OdrApplication]:
    with world.officer("chengguan", 1) as head:
        answer = call(head, "ListApplications", pb.ListApplicationsRequest())
    return list(answer.applications)


def enrol(world: World) -> str:
    """Chengguan's handler applies for the gym, its unit head approves; the TOTP secret."""
    with world.officer("chengguan", 0) as handler:
        submitted = call(handler, "SubmitApplication", application())
    assert submitted.status == pb.APPLICATION_STATUS_PENDING
    with world.officer("chengguan", 1) as head:
        reviewed = call(
            head,
            "ReviewApplication",
            pb.ReviewApplicationRequest(
                application_id=submitted.application_id,
                approve=True,
                first_user_id="zhang",
                first_user_name="张经理",
                first_user_password=USER_PASSWORD,
            ),
        )
    assert reviewed.application.status == pb.APPLICATION_STATUS_APPROVED
    return str(reviewed.totp_secret)


@pytest.fixture
def gansu(world: World) -> World:
    world.start_all("province", "city", "chengguan", "qilihe")
    return world


def test_an_approved_enterprise_signs_in_and_its_entry_reaches_the_province_and_a_sibling(
    gansu: World,
) -> None:
    secret = enrol(gansu)
    with gansu["chengguan"].client() as enterprise:
        enterprise.enterprise_sign_in(CREDIT, "zhang", USER_PASSWORD, code_at(secret, now_ms()))
        assert enterprise.who_am_i().enterprise_name == "兰州某健身有限公司"
    assert roster_of(gansu["qilihe"]).routable(CREDIT) is None
    gansu.sync("chengguan", "city", "qilihe")
    for name in ("chengguan", "city", "province", "qilihe"):
        entry = roster_of(gansu[name]).routable(CREDIT)
        assert entry is not None, name
        assert (entry.unit_code, entry.standing) == ("620102", Standing.ENROLLED)
    with gansu.officer("province", 0) as officer:
        published = call(officer, "GetRoster", pb.GetRosterRequest())
    assert [e.credit_code for e in published.entries] == [CREDIT]


def test_a_blacklisted_enterprise_cannot_apply(gansu: World) -> None:
    with gansu.officer("province", 1) as supervisor:
        call(
            supervisor,
            "SetListing",
            pb.SetListingRequest(
                credit_code=CREDIT, kind=pb.LISTING_KIND_BLACKLIST, listed=True, note="失信"
            ),
        )
    gansu.sync("city", "chengguan")
    with gansu.officer("chengguan", 0) as handler:
        error = refused(handler, "SubmitApplication", application())
    assert error.code == "FAILED_PRECONDITION" and "blacklist" in error.message
    assert applications(gansu) == []
    assert roster_of(gansu["chengguan"]).entry(CREDIT) is None  # listed, never enrolled


def test_an_enterprise_listed_after_enrolling_is_disqualified_everywhere(gansu: World) -> None:
    enrol(gansu)
    gansu.sync("chengguan", "city")
    with gansu.officer("province", 1) as supervisor:
        entry = call(
            supervisor,
            "SetListing",
            pb.SetListingRequest(
                credit_code=CREDIT,
                kind=pb.LISTING_KIND_ABNORMAL_OPERATIONS,
                listed=True,
                note="未按期公示年报",
            ),
        )
    assert entry.standing == pb.ROSTER_STANDING_DISQUALIFIED
    gansu.sync("city", "chengguan", "qilihe")
    for name in ("province", "city", "chengguan", "qilihe"):
        roster = roster_of(gansu[name])
        assert roster.routable(CREDIT) is None, name
        held = roster.entry(CREDIT)
        assert held is not None and held.standing is Standing.DISQUALIFIED, name


def test_a_county_down_when_the_roster_changed_gets_it_when_it_comes_back(
    gansu: World,
) -> None:
    gansu.take_down("qilihe")
    enrol(gansu)
    gansu.sync("chengguan", "city")
    gansu.bring_up("qilihe")
    assert roster_of(gansu["qilihe"]).routable(CREDIT) is None
    gansu.sync("qilihe")
    entry = roster_of(gansu["qilihe"]).routable(CREDIT)
    assert entry is not None and entry.unit_code == "620102"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"dedicated_phone": False}, "dedicated_phone"),
        ({"staff_count": 0}, "staff_count"),
        ({"handling_rules": False}, "handling_rules"),
        ({"credit_code": "91620102MA74A1B2C8"}, "credit_code"),
        ({"commitment_letter_sha256": "not a digest"}, "commitment_letter_sha256"),
        ({"region": "620103"}, "region"),
        ({"kind": pb.APPLICANT_KIND_UNSPECIFIED}, "kind"),
    ],
)
def test_an_incomplete_application_names_its_field_and_writes_nothing(
    world: World, changes: dict[str, Any], field: str
) -> None:
    world.start_all("province", "city", "chengguan")
    with world.officer("chengguan", 0) as handler:
        error = refused(handler, "SubmitApplication", application(**changes))
    assert error.code == "INVALID_ARGUMENT" and error.message.startswith(field)
    assert applications(world) == []


def test_a_refusal_needs_a_reason_and_enrols_nobody(world: World) -> None:
    world.start_all("province", "city", "chengguan")
    with world.officer("chengguan", 0) as handler:
        submitted = call(handler, "SubmitApplication", application())
    review = pb.ReviewApplicationRequest(application_id=submitted.application_id)
    with world.officer("chengguan", 1) as head:
        error = refused(head, "ReviewApplication", review)
        assert error.code == "INVALID_ARGUMENT" and error.message.startswith("reason")
        review.reason = "无专用电话"
        answer = call(head, "ReviewApplication", review)
        assert answer.application.status == pb.APPLICATION_STATUS_REFUSED
        again = refused(head, "ReviewApplication", review)
    assert again.code == "FAILED_PRECONDITION"
    assert roster_of(world["chengguan"]).entry(CREDIT) is None


@pytest.mark.parametrize(
    ("user", "field"),
    [
        (("zhang", "张经理", "short"), "first_user_password"),
        (("", "张经理", USER_PASSWORD), "first_user_id"),
        (("zhang", "", USER_PASSWORD), "first_user_name"),
    ],
)
def test_a_bad_first_user_approves_nothing(
    world: World, user: tuple[str, str, str], field: str
) -> None:
    world.start_all("province", "city", "chengguan")
    with world.officer("chengguan", 0) as handler:
        submitted = call(handler, "SubmitApplication", application())
    user_id, name, password = user
    with world.officer("chengguan", 1) as head:
        error = refused(
            head,
            "ReviewApplication",
            pb.ReviewApplicationRequest(
                application_id=submitted.application_id,
                approve=True,
                first_user_id=user_id,
                first_user_name=name,
                first_user_password=password,
            ),
        )
    assert error.code == "INVALID_ARGUMENT" and error.message.startswith(field)
    assert [a.status for a in applications(world)] == [pb.APPLICATION_STATUS_PENDING]
    assert roster_of(world["chengguan"]).entry(CREDIT) is None


def test_a_handler_may_not_approve(world: World) -> None:
    world.start_all("province", "city", "chengguan")
    with world.officer("chengguan", 0) as handler:
        submitted = call(handler, "SubmitApplication", application())
        error = refused(
            handler,
            "ReviewApplication",
            pb.ReviewApplicationRequest(
                application_id=submitted.application_id,
                reason="x",
            ),
        )
    assert error.code == "PERMISSION_DENIED"


def test_hotline_odr_applies_approves_and_shows_the_roster(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    node = world.start(spec("chengguan"))
    handler = ["--node", node.target, "--officer", "620102-07"]
    head = ["--node", node.target, "--officer", "620102-01"]
    argv = ["odr", "apply", *handler, "--credit-code", CREDIT, "--name", "兰州某健身有限公司"]
    argv += ["--licence", "620102600123456", "--letter-sha256", LETTER, "--address", "张掖路1号"]
    argv += ["--region", "620102", "--contact", "张经理", "--phone", "0931-8888888", "--staff", "2"]
    assert hotline(world.signed_in([*argv, "--fixed-premises", "--online-computer"])) == 2
    assert "dedicated_phone" in capsys.readouterr().err
    argv += ["--fixed-premises", "--online-computer", "--dedicated-phone", "--handling-rules"]
    assert hotline(world.signed_in(argv)) == 0
    printed = capsys.readouterr().out
    assert "pending 待审核" in printed and "+08:00" in printed
    application_id = printed.split()[0]
    password = tmp_path / "password"
    password.write_text(USER_PASSWORD + "\n")
    password.chmod(0o600)
    review = ["odr", "review", *head, "--application", application_id, "--approve"]
    review += ["--user-id", "zhang", "--user-name", "张经理", "--password-file", str(password)]
    assert hotline(world.signed_in(review)) == 0
    printed = capsys.readouterr().out
    assert "approved 已通过" in printed and f"TOTP secret of {CREDIT}:zhang" in printed
    assert hotline(world.signed_in(["odr", "roster", *handler])) == 0
    printed = capsys.readouterr().out
    assert f"{CREDIT} 兰州某健身有限公司 (enterprise 企业) of 620102: enrolled 在册" in printed


def test_a_sibling_county_may_not_sign_another_countys_entry(gansu: World) -> None:
    enrol(gansu)
    gansu.sync("chengguan", "city", "qilihe")
    with gansu.officer("qilihe", 0) as handler:
        error = refused(
            handler,
            "SetListing",
            pb.SetListingRequest(
                credit_code=CREDIT, kind=pb.LISTING_KIND_BLACKLIST, listed=True, note="越权"
            ),
        )
    assert error.code == "PERMISSION_DENIED" and "620102" in error.message
    qilihe = gansu["qilihe"].node
    held = roster_of(gansu["qilihe"]).entry(CREDIT)
    assert held is not None
    with qilihe.db.read() as conn:
        current = current_record(conn, CREDIT)
    assert current is not None
    forged = next_record(
        current,
        standing=Standing.REMOVED,
        issuer_unit="620103",
        issuer_node=qilihe.identity.node_id,
        issued_by="620103-05",
        issued_ms=now_ms(),
    )
    assert qilihe.identity.credentials is not None
    signed, _ = sign_record(forged, qilihe.identity, qilihe.identity.credentials.certificate)
    receipt = gansu["city"].node.odr_roster.take_from_child(
        qilihe.identity.node_id, "620103", [signed]
    )
    assert receipt.accepted == 0 and "620103 may not sign" in receipt.rejections[0]
    assert roster_of(gansu["city"]).routable(CREDIT) is not None


DAY_MS = 86_400_000


def gym_disputes(start_ms: int, answered_late: int, count: int = 4) -> list[DisputeRecord]:
    """``count`` disputes against the gym opened from ``start_ms``, ``answered_late`` of them
    answered after the ODR limit (the others in time, and settled)."""
    disputes = []
    for i in range(count):
        opened = start_ms + i * DAY_MS
        late = i < answered_late
        disputes.append(
            DisputeRecord(
                ticket_id=f"T-{opened}",
                credit_code=CREDIT,
                opened_ms=opened,
                due_ms=opened + 10 * DAY_MS,
                answered_ms=opened + (12 if late else 2) * DAY_MS,
                outcome=DisputeOutcome.CONVERTED if late else DisputeOutcome.SETTLED,
                accepted=not late,
            )
        )
    return disputes


def period(start_ms: int, end_ms: int) -> pb.GetStandingsRequest:
    request = pb.GetStandingsRequest()
    request.period_start.FromMilliseconds(start_ms)
    request.period_end.FromMilliseconds(end_ms)
    return request


def test_a_poor_period_warns_and_a_second_proposes_a_removal_a_unit_head_decides(
    gansu: World,
) -> None:
    enrol(gansu)
    now = now_ms()
    first, second, end = now - 60 * DAY_MS, now - 30 * DAY_MS, now - 1000
    disputes = gym_disputes(first, answered_late=2) + gym_disputes(second, answered_late=3)
    county = gansu["chengguan"].node
    county.odr_standings.reader = lambda start, stop: [
        d for d in disputes if start <= d.opened_ms < stop
    ]
    with gansu.officer("chengguan", 1) as head:
        read = call(head, "GetStandings", period(first, second))
        figures = read.standings[0]
        assert (figures.received, figures.answered_in_time, figures.converted) == (4, 2, 2)
        assert figures.verdict == odr_pb2.STANDING_VERDICT_WARNING
        assert roster_of(gansu["chengguan"]).routable(CREDIT).standing is Standing.ENROLLED  # type: ignore[union-attr]
        judged = call(head, "ReviewStandings", period(first, second))
        assert [s.verdict for s in judged.standings] == [odr_pb2.STANDING_VERDICT_WARNING]
        assert call(head, "ReviewStandings", period(first, second)).standings == []
        warned = roster_of(gansu["chengguan"]).routable(CREDIT)
        assert warned is not None and warned.standing is Standing.WARNED
        early = refused(head, "DecideRemoval", removal(approve=True))
        assert early.code == "FAILED_PRECONDITION"
        judged = call(head, "ReviewStandings", period(second, end))
        assert [s.verdict for s in judged.standings] == [odr_pb2.STANDING_VERDICT_REMOVAL_PROPOSED]
        assert "poor period 2 in a row" in judged.standings[0].reason
        removed = call(head, "DecideRemoval", removal(approve=True))
    assert removed.standing == pb.ROSTER_STANDING_REMOVED
    gansu.sync("chengguan", "city")
    for name in ("chengguan", "city", "province"):
        held = roster_of(gansu[name]).entry(CREDIT)
        assert held is not None and held.standing is Standing.REMOVED, name


def removal(*, approve: bool) -> pb.DecideRemovalRequest:
    return pb.DecideRemovalRequest(credit_code=CREDIT, approve=approve, note="连续两期未按时答复")


def test_a_good_period_changes_no_standing_and_an_open_period_is_not_judged(
    gansu: World,
) -> None:
    enrol(gansu)
    now = now_ms()
    disputes = gym_disputes(now - 30 * DAY_MS, answered_late=0)
    gansu["chengguan"].node.odr_standings.reader = lambda start, stop: disputes
    with gansu.officer("chengguan", 1) as head:
        open_period = refused(head, "ReviewStandings", period(now - 30 * DAY_MS, now + DAY_MS))
        assert open_period.code == "INVALID_ARGUMENT" and "period_end" in open_period.message
        judged = call(head, "ReviewStandings", period(now - 30 * DAY_MS, now - 1000))
    assert [s.verdict for s in judged.standings] == [odr_pb2.STANDING_VERDICT_GOOD]
    entry = roster_of(gansu["chengguan"]).routable(CREDIT)
    assert entry is not None and entry.standing is Standing.ENROLLED


def test_a_listing_or_a_decision_without_a_note_or_a_valid_code_writes_nothing(
    gansu: World,
) -> None:
    enrol(gansu)
    before = roster_of(gansu["chengguan"])
    blacklist = pb.LISTING_KIND_BLACKLIST
    bad = [
        ("SetListing", pb.SetListingRequest(credit_code=CREDIT, kind=blacklist, listed=True)),
        ("SetListing", pb.SetListingRequest(credit_code=CREDIT, listed=True, note="x")),
        ("SetListing", pb.SetListingRequest(credit_code="916201", kind=blacklist, note="x")),
        ("DecideRemoval", pb.DecideRemovalRequest(credit_code=CREDIT, approve=True)),
    ]
    with gansu.officer("chengguan", 1) as head:
        fields = [refused(head, method, request) for method, request in bad]
    assert [(e.code, e.message.split(":")[0]) for e in fields] == [
        ("INVALID_ARGUMENT", "note"),
        ("INVALID_ARGUMENT", "kind"),
        ("INVALID_ARGUMENT", "credit_code"),
        ("INVALID_ARGUMENT", "note"),
    ]
    assert roster_of(gansu["chengguan"]) == before


def test_the_provinces_thresholds_reach_the_county_and_decide_its_verdicts(
    gansu: World, capsys: pytest.CaptureFixture[str]
) -> None:
    enrol(gansu)
    province = ["--node", gansu["province"].target, "--officer", "620000-02"]
    argv = ["odr", "thresholds", *province, "--min-disputes", "10"]
    assert hotline(gansu.signed_in(argv)) == 0
    assert "judges periods of 10+ dispute(s)" in capsys.readouterr().out
    now = now_ms()
    poor = gym_disputes(now - 30 * DAY_MS, answered_late=3)
    gansu["chengguan"].node.odr_standings.reader = lambda start, stop: poor
    with gansu.officer("chengguan", 1) as head:
        before = call(head, "GetStandings", period(now - 30 * DAY_MS, now - 1000))
        assert before.standings[0].verdict == odr_pb2.STANDING_VERDICT_WARNING
        gansu.sync("city", "chengguan")
        after = call(head, "GetStandings", period(now - 30 * DAY_MS, now - 1000))
    assert after.standings[0].verdict == odr_pb2.STANDING_VERDICT_GOOD
    assert "too few to judge" in after.standings[0].reason


def test_a_forged_record_pushed_up_raises_an_alert_at_the_parent(gansu: World) -> None:
    enrol(gansu)
    gansu.sync("chengguan", "city", "qilihe")
    qilihe = gansu["qilihe"].node
    with qilihe.db.read() as conn:
        current = current_record(conn, CREDIT)
    assert current is not None
    # Qilihe's node signs a record of Chengguan's unit past its desk, as a tampered node
    # would, and pushes it up at its next round.
    forged = next_record(
        current,
        standing=Standing.REMOVED,
        issuer_unit="620103",
        issuer_node=qilihe.identity.node_id,
        issued_by="620103-05",
        issued_ms=now_ms(),
    )
    with qilihe.db.write() as conn:
        qilihe.odr_roster.issue(conn, forged)
    gansu.sync("qilihe")
    with gansu["city"].client(gansu["city"].system_admin) as admin:
        alerts = [a for a in admin.alerts() if a.kind == "roster-refused"]
    assert len(alerts) == 1 and "620103 may not sign" in alerts[0].detail
    assert roster_of(gansu["city"]).routable(CREDIT) is not None


def test_the_county_job_judges_last_month_once_and_warns_a_poor_unit(gansu: World) -> None:
    enrol(gansu)
    start, _ = closed_month_before(now_ms())
    poor = gym_disputes(start + DAY_MS, answered_late=2)
    county = gansu["chengguan"]
    county.node.odr_standings.reader = lambda begin, stop: [
        d for d in poor if begin <= d.opened_ms < stop
    ]
    assert run_job(county, "odr-review") == 1
    warned = roster_of(county).routable(CREDIT)
    assert warned is not None and warned.standing is Standing.WARNED
    assert run_job(county, "odr-review") == 0  # the month is judged once


def test_the_last_closed_month_is_a_calendar_month_in_china_time() -> None:
    # 2026-12-01 00:30 in China is still November 30 in UTC: December has begun there.
    at = int(datetime(2026, 11, 30, 16, 30, tzinfo=UTC).timestamp() * 1000)
    start, end = closed_month_before(at)
    assert china_datetime(start).isoformat().startswith("2026-11-01T00:00:00")
    assert china_datetime(end).isoformat().startswith("2026-12-01T00:00:00")


def test_the_whole_roster_is_one_read_even_when_a_listing_lands_in_between(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.start_all("province", "city", "chengguan")
    enrol(world)
    county = world["chengguan"]
    head = world.specs["chengguan"].officers[1].officer_id
    db = county.node.db
    reads = db.read
    listed: list[bool] = []

    @contextmanager
    def read_then_list() -> Iterator[Any]:
        # Right after the first read of the answer ends, the county blacklists the gym: an
        # answer made of two reads would pair the old version with the new record.
        with reads() as conn:
            yield conn
        if not listed:
            listed.append(True)
            county.node.enrolment.set_listing_now(
                head, CREDIT, Listing.BLACKLIST, True, "严重违法失信"
            )

    monkeypatch.setattr(db, "read", read_then_list)
    servicer = EnrolmentServicer(county.node.enrolment, county.node.odr_standings)
    answer = county.run(servicer.GetRoster(pb.GetRosterRequest(include_out=True), None))
    assert isinstance(answer, pb.OdrRoster) and listed
    (entry,) = answer.entries
    assert (answer.version, entry.standing) == (1, pb.ROSTER_STANDING_ENROLLED)
    monkeypatch.undo()
    after = county.run(servicer.GetRoster(pb.GetRosterRequest(include_out=True), None))
    assert isinstance(after, pb.OdrRoster)
    assert (after.version, after.entries[0].standing) == (2, pb.ROSTER_STANDING_DISQUALIFIED)


def test_roster_records_are_checked_before_the_write_transaction_opens(
    gansu: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    enrol(gansu)
    writing = threading.local()
    opened_while: list[bool] = []

    def watched(db: Database) -> None:
        writes = db.write

        @contextmanager
        def write() -> Iterator[Any]:
            writing.now = True
            try:
                with writes() as conn:
                    yield conn
            finally:
                writing.now = False

        monkeypatch.setattr(db, "write", write)

    def open_and_note(item: pb.SignedRosterRecord, trust: TrustStore) -> RosterRecord:
        opened_while.append(getattr(writing, "now", False))
        return open_record(item, trust)

    for name in ("city", "qilihe"):
        watched(gansu[name].node.db)
    monkeypatch.setattr("node.enrolment.roster.open_record", open_and_note)
    # Chengguan's record goes up to the city (taken from a child), then down to Qilihe
    # (taken from the parent): each checked with no write transaction open on its node.
    gansu.sync("chengguan", "city", "qilihe")
    assert roster_of(gansu["qilihe"]).routable(CREDIT) is not None
    assert len(opened_while) >= 2 and not any(opened_while)
