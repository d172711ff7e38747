"""Input checks and the three refusals: InvalidInput, StepNotAllowed, NotPermitted (core.errors)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInput, NotPermitted, StepNotAllowed
from core.identifiers import (
    CREDIT_CODE_ALPHABET,
    check_credit_code,
    check_phone,
    credit_code_check_character,
)
from core.officers import Role
from core.ticket import commands as c
from core.ticket import events as e
from core.ticket.authority import why_unit_may_not
from core.ticket.decisions import DecisionContext, decide, register_ticket
from core.ticket.state import TicketState, TicketStatus
from core.ticket.vocabulary import (
    Consumer,
    Finding,
    JurisdictionBasis,
    Respondent,
    TicketKind,
    Track,
)
from node.devnet.samples import credit_code
from tests.helpers import domain
from tests.helpers.domain import HANDLER, HEAD, HUB, OTHER_HANDLER, History

VALID_CODE = credit_code("620102", 42)


def _refused_field(**changes: Any) -> str:
    with pytest.raises(InvalidInput) as raised:
        register_ticket(domain.draft(**changes), HUB, domain.context(), ticket_id="T-bad")
    return raised.value.field


def _with_credit(code: str) -> str:
    return _refused_field(respondent=domain.respondent(credit=code))


# Credit codes (统一社会信用代码, GB 32100-2015) -----------------------------------------------


@pytest.mark.parametrize(
    "code",
    ["91350100M000100Y43", "91110000600037341L", VALID_CODE, credit_code("430202", 1)],
)
def test_valid_credit_codes_are_accepted(code: str) -> None:
    assert check_credit_code(code, "f") == code
    command = domain.draft(respondent=domain.respondent(credit=code))
    event = register_ticket(command, HUB, domain.context(), ticket_id="T1")
    assert event.respondent.credit_code == code


def test_credit_code_is_upper_cased_and_trimmed() -> None:
    command = domain.draft(respondent=domain.respondent(credit=f" {VALID_CODE.lower()} "))
    event = register_ticket(command, HUB, domain.context(), ticket_id="T1")
    assert event.respondent.credit_code == VALID_CODE


def test_credit_code_with_a_wrong_check_character_is_refused() -> None:
    wrong = next(ch for ch in CREDIT_CODE_ALPHABET if ch != VALID_CODE[-1])
    assert _with_credit(VALID_CODE[:-1] + wrong) == "respondent.credit_code"


@pytest.mark.parametrize("code", [VALID_CODE[:-1], VALID_CODE + "0", "9162010"])
def test_credit_code_of_the_wrong_length_is_refused(code: str) -> None:
    assert _with_credit(code) == "respondent.credit_code"


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_credit_code_with_letters_outside_gb32100_is_refused(letter: str) -> None:
    body = VALID_CODE[:10] + letter + VALID_CODE[11:17]
    with pytest.raises(InvalidInput) as raised:
        check_credit_code(body + "0", "respondent.credit_code")
    assert letter in raised.value.reason
    assert _with_credit(body + "0") == "respondent.credit_code"


def test_credit_code_region_part_must_be_digits() -> None:
    body = "91A20102" + VALID_CODE[8:17]
    code = body + credit_code_check_character(body)
    assert _with_credit(code) == "respondent.credit_code"


_BODIES = st.tuples(
    st.text(CREDIT_CODE_ALPHABET, min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(CREDIT_CODE_ALPHABET, min_size=9, max_size=9),
).map("".join)


def _reference_check_character(first17: str) -> str:
    """GB 32100-2015 as written: weights 3^(i) mod 31, C18 = 31 - (sum mod 31), 31 -> 0."""
    alphabet = [ch for ch in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" if ch not in "IOZSV"]
    total = sum(alphabet.index(ch) * pow(3, i, 31) for i, ch in enumerate(first17))
    remainder = 31 - total % 31
    return alphabet[0 if remainder == 31 else remainder]


def test_the_alphabet_is_the_31_characters_of_gb32100() -> None:
    assert len(CREDIT_CODE_ALPHABET) == 31
    assert not set(CREDIT_CODE_ALPHABET) & set("IOZSV")


@given(body=_BODIES)
def test_the_check_character_is_the_one_gb32100_defines(body: str) -> None:
    assert credit_code_check_character(body) == _reference_check_character(body)


@pytest.mark.parametrize("check", ["0", "Y"])
def test_codes_whose_check_character_is_at_the_ends_of_the_alphabet_are_valid(
    check: str,
) -> None:
    body = next(
        b
        for b in (f"91620102MA{n:07d}" for n in range(10_000))
        if _reference_check_character(b) == check
    )
    assert check_credit_code(body + check, "f") == body + check


@given(body=_BODIES)
def test_the_check_character_completes_any_well_formed_code(body: str) -> None:
    code = body + credit_code_check_character(body)
    assert check_credit_code(code, "f") == code


@given(body=_BODIES, position=st.integers(0, 17), data=st.data())
def test_any_single_mistyped_character_is_caught(
    body: str, position: int, data: st.DataObject
) -> None:
    code = body + credit_code_check_character(body)
    typo = data.draw(st.sampled_from([ch for ch in CREDIT_CODE_ALPHABET if ch != code[position]]))
    with pytest.raises(InvalidInput):
        check_credit_code(code[:position] + typo + code[position + 1 :], "f")


# Phone numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("13893112345", "13893112345"),
        ("+86 138 9311 2345", "13893112345"),
        ("19912345678", "19912345678"),
        ("0931-8123456", "0931-8123456"),
        ("09318123456", "09318123456"),
        ("010-12345678", "010-12345678"),
        ("(0931) 8123456", "09318123456"),
    ],
)
def test_mobile_and_landline_numbers_are_accepted(raw: str, normalized: str) -> None:
    assert check_phone(raw, "consumer.phone") == normalized
    event = register_ticket(
        domain.draft(consumer=Consumer("王小明", raw)), HUB, domain.context(), ticket_id="T1"
    )
    assert event.consumer.phone == normalized


@pytest.mark.parametrize(
    "phone",
    ["12345678901", "1389311234", "138931123456", "8123456", "0931-0123456", "电话", ""],
)
def test_bad_phone_numbers_are_refused(phone: str) -> None:
    assert _refused_field(consumer=Consumer("王小明", phone)) == "consumer.phone"


def test_a_reporter_may_stay_without_a_phone_but_a_given_one_is_checked() -> None:
    report = domain.draft(TicketKind.REPORT, consumer=Consumer("", ""))
    assert register_ticket(report, HUB, domain.context(), ticket_id="T1").consumer.phone == ""
    with pytest.raises(InvalidInput) as raised:
        register_ticket(
            replace(report, consumer=Consumer("", "123")), HUB, domain.context(), ticket_id="T2"
        )
    assert raised.value.field == "consumer.phone"


# Region codes and other fields ------------------------------------------------------------


@pytest.mark.parametrize(
    ("respondent", "field"),
    [
        ({"operating": "620199"}, "respondent.operating_region"),
        ({"operating": "62010X"}, "respondent.operating_region"),
        ({"operating": "620000"}, "respondent.operating_region"),
        ({"operating": "620102", "registered": "999999"}, "respondent.registered_region"),
        ({"operating": "620102", "platform_region": "330199"}, "respondent.platform_region"),
    ],
    ids=["unknown", "malformed", "province", "registered", "platform"],
)
def test_unknown_or_unusable_region_codes_name_their_field(
    respondent: dict[str, Any], field: str
) -> None:
    assert _refused_field(respondent=domain.respondent(**respondent)) == field


def test_a_city_with_districts_is_not_a_respondent_region() -> None:
    # check_region_known: "a county-level (or county-less city) region"; Lanzhou has districts.
    assert _refused_field(respondent=domain.respondent(operating="620100")) == (
        "respondent.operating_region"
    )


def test_a_county_less_city_is_a_respondent_region() -> None:
    event = register_ticket(
        domain.draft(respondent=domain.respondent(operating="620200")),
        HUB,
        domain.context(),
        ticket_id="T1",
    )
    assert event.respondent.operating_region == "620200"


def test_unknown_incident_region_names_its_field() -> None:
    assert _refused_field(incident_region="620188") == "incident_region"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"facts": ""}, "facts"),
        ({"facts": " \n\t"}, "facts"),
        ({"facts": "x" * 10_001}, "facts"),
        ({"category": ""}, "category"),
        ({"amount_fen": -1}, "amount_fen"),
        ({"tags": ("新冠疫情", " ")}, "tags[1]"),
        ({"consumer": Consumer("", "13893112345")}, "consumer.name"),
        ({"respondent": Respondent("", operating_region="620102")}, "respondent.name"),
    ],
    ids=["empty-facts", "blank-facts", "long-facts", "category", "amount", "tag", "name", "biz"],
)
def test_missing_or_malformed_fields_are_named(changes: dict[str, Any], field: str) -> None:
    assert _refused_field(**changes) == field


def test_registration_keeps_trimmed_text_and_tags() -> None:
    command = domain.draft(facts="  闭店跑路  ", tags=(" 预付卡 ",))
    event = register_ticket(command, HUB, domain.context(), ticket_id="T1")
    assert (event.facts, event.tags) == ("闭店跑路", ("预付卡",))


def test_a_consultation_needs_no_respondent_and_is_answered() -> None:
    command = domain.draft(
        TicketKind.CONSULTATION, respondent=Respondent(""), consumer=Consumer("", "")
    )
    h = History.registered(HUB, command)
    state = h.do(HUB, c.AnswerInquiry("预付卡纠纷可向经营地市场监管部门投诉"))
    assert state.status is TicketStatus.CLOSED
    assert state.track(Track.INQUIRY).answer == "预付卡纠纷可向经营地市场监管部门投诉"  # type: ignore[union-attr]


# Steps that do not fit the state, and officers without authority --------------------------


def test_a_step_not_allowed_in_the_current_state_says_which_and_why() -> None:
    h = History.registered(HUB)
    hub_handler = domain.officer("620000-09", "钱进", "620000", Role.HANDLER)
    with pytest.raises(StepNotAllowed) as raised:
        h.do(hub_handler, c.AcceptComplaint())
    assert raised.value.step == "ComplaintAccepted"
    assert raised.value.state == "registered"


@pytest.mark.parametrize(
    "command",
    [
        c.VerifyReport(Finding.SUBSTANTIATED, "现场检查"),
        c.ResumeMediation(),
        c.ApproveResult(Track.COMPLAINT),
        c.AnswerInquiry("答复"),
    ],
    ids=lambda command: type(command).__name__,
)
def test_steps_that_do_not_fit_an_accepted_complaint_are_refused(command: c.TicketCommand) -> None:
    h = domain.accepted()
    officer = HEAD if isinstance(command, c.ApproveResult) else HANDLER
    before = h.state
    with pytest.raises(StepNotAllowed):
        h.do(officer, command)
    assert h.state == before


def test_no_step_on_a_ticket_whose_registration_is_not_held() -> None:
    with pytest.raises(StepNotAllowed):
        decide(TicketState("T-missing"), c.AcceptComplaint(), HANDLER, domain.context())


def test_registration_needs_a_registering_role(ctx: DecisionContext) -> None:
    with pytest.raises(NotPermitted):
        register_ticket(domain.draft(), HEAD, ctx, ticket_id="T1")


def test_another_county_may_not_accept() -> None:
    h = domain.routed()
    with pytest.raises(NotPermitted):
        h.do(OTHER_HANDLER, c.AcceptComplaint())
    assert h.state.status is TicketStatus.ROUTED


def test_an_officer_without_the_role_may_not_accept() -> None:
    h = domain.routed()
    with pytest.raises(NotPermitted):
        h.do(HUB, c.AcceptComplaint())


def test_a_station_of_another_county_is_not_assigned() -> None:
    h = domain.accepted()
    with pytest.raises(InvalidInput) as raised:
        h.do(HANDLER, c.AssignToStation("620103001"))
    assert raised.value.field == "station_code"


def test_an_unassigned_station_may_not_mediate() -> None:
    h = domain.accepted()
    with pytest.raises(NotPermitted):
        h.do(domain.STATION_OFFICER, c.PauseMediation("送检"))


def test_a_duplicate_ticket_is_linked_not_handled() -> None:
    h = History(ticket_id="T-dup")
    event = register_ticket(
        domain.draft(), HUB, h.ctx, ticket_id="T-dup", duplicate_of="T-original"
    )
    h.record(HUB, event)
    assert h.state.status is TicketStatus.DUPLICATE
    with pytest.raises(StepNotAllowed):
        h.do(HUB, c.RouteTicket())


def test_a_county_unit_does_not_record_dispatches() -> None:
    # Asked of replicated events too, where no command check ran before.
    county_dispatcher = domain.officer("620102-09", "冯涛", "620102", Role.DISPATCHER)
    state = domain.routed().state
    relay = e.TicketRouted("620000", JurisdictionBasis.RELAY)
    assert why_unit_may_not(state, county_dispatcher.ref(), relay) is not None
    reroute = e.TicketRouted("620103", JurisdictionBasis.DISPATCHER_DECISION)
    assert why_unit_may_not(state, HUB.ref(), reroute) is None
