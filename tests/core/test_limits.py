"""Every free text has a limit, every list a bound; ID numbers and attachments are checked.

The limits live in ``core.limits`` and are checked by the core's decisions, so every channel
(gRPC, the CLI) gets them; docs/security.md lists the same numbers.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from core.errors import InvalidInput
from core.identifiers import check_id_number, check_sha256, id_number_check_character
from core.limits import (
    MAX_AMOUNT_FEN,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    MAX_CAMPAIGN_TERMS,
    MAX_TAGS,
    TEXT_LIMITS,
    check_text,
    limit_of,
    shown,
)
from core.officers import Role
from core.ticket import commands as c
from core.ticket.decisions import decide, register_ticket
from core.ticket.vocabulary import (
    Attachment,
    Duty,
    Finding,
    MediationOutcome,
    RefusalGround,
    ReturnReason,
    Satisfaction,
    TicketKind,
    Track,
)
from tests.helpers import domain
from tests.helpers.domain import HUB, History

DOCS = Path(__file__).resolve().parents[2] / "docs" / "security.md"
DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
WIDE = "𠀀"
"""A character of four bytes in UTF-8 (CJK Extension B): the heaviest a limit lets in."""

ALL_ROLES = domain.officer("620000-99", "全能", "620000", *Role)


def refused(**changes: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as raised:
        register_ticket(domain.draft(**changes), HUB, domain.context(), ticket_id="T-bad")
    return raised.value


def over(field: str) -> str:
    """One character more than ``field`` may hold."""
    return "字" * (limit_of(field) + 1)


# Free texts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"consumer": replace(domain.consumer(), name=over("consumer.name"))}, "consumer.name"),
        (
            {"consumer": replace(domain.consumer(), address=over("consumer.address"))},
            "consumer.address",
        ),
        ({"respondent": replace(domain.respondent(), name=over("respondent.name"))}, None),
        (
            {"respondent": replace(domain.respondent(), address=over("respondent.address"))},
            "respondent.address",
        ),
        (
            {"respondent": replace(domain.respondent(), shop_name=over("respondent.shop_name"))},
            "respondent.shop_name",
        ),
        (
            {
                "respondent": replace(
                    domain.respondent(), platform_name=over("respondent.platform_name")
                )
            },
            "respondent.platform_name",
        ),
        ({"category": over("category")}, "category"),
        ({"facts": over("facts")}, "facts"),
        ({"request": over("request")}, "request"),
        ({"tags": ("预付卡", over("tags"))}, "tags[1]"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_registration_text_over_its_limit_is_refused_naming_the_field(
    changes: dict[str, Any], field: str | None
) -> None:
    error = refused(**changes)
    assert error.field == (field or "respondent.name")
    assert "allowed" in error.reason


def test_a_text_at_its_limit_in_four_byte_characters_is_accepted() -> None:
    command = domain.draft(facts=WIDE * limit_of("facts"))
    event = register_ticket(command, HUB, domain.context(), ticket_id="T1")
    assert len(event.facts) == limit_of("facts")


def test_limits_count_characters_after_trimming() -> None:
    assert check_text("  " + "字" * limit_of("note") + "\n", "note") == "字" * limit_of("note")


def test_an_address_of_a_megabyte_is_refused_and_not_echoed() -> None:
    error = refused(consumer=replace(domain.consumer(), address="x" * (1 << 20)))
    assert error.field == "consumer.address"
    assert len(str(error)) < 200


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (c.RouteTicket(note=over("note")), "note"),
        (c.ReturnTicket(ReturnReason.NOT_OUR_DUTY, over("note")), "note"),
        (c.AcceptComplaint(over("note")), "note"),
        (c.RefuseComplaint(RefusalGround.TIME_BARRED, over("notice")), "notice"),
        (c.AssignToStation("620102001", over("note")), "note"),
        (c.PauseMediation(over("reason")), "reason"),
        (c.ResumeMediation(over("note")), "note"),
        (c.EndMediation(MediationOutcome.AGREEMENT, agreement=over("agreement")), "agreement"),
        (c.EndMediation(MediationOutcome.SETTLED, amount_recovered_fen=-1), "amount_recovered_fen"),
        (
            c.EndMediation(MediationOutcome.SETTLED, amount_recovered_fen=MAX_AMOUNT_FEN + 1),
            "amount_recovered_fen",
        ),
        (c.VerifyReport(Finding.NOT_SUBSTANTIATED, over("evidence")), "evidence"),
        (c.OpenCase(over("case_number")), "case_number"),
        (c.OpenCase("甘市监立〔2026〕1号", over("note")), "note"),
        (c.SubmitResult(Track.COMPLAINT, over("summary")), "summary"),
        (c.ApproveResult(Track.COMPLAINT, over("note")), "note"),
        (c.RejectResult(Track.COMPLAINT, over("reason")), "reason"),
        (c.AnswerInquiry(over("answer")), "answer"),
        (c.RecordCallback(Satisfaction.SATISFIED, over("note")), "note"),
        (c.RequestExtension(Duty.END_MEDIATION, 5, over("reason")), "reason"),
        (c.DecideExtension(Duty.END_MEDIATION, False, note=over("note")), "note"),
        (c.OrderSupervision(over("order_id"), "620102", 5, "报告"), "order_id"),
        (c.OrderSupervision("o-1", "620102", 5, over("instructions")), "instructions"),
        (c.ReportSupervision(over("order_id"), "已办结"), "order_id"),
        (c.ReportSupervision("o-1", over("report")), "report"),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_a_handling_step_text_over_its_limit_is_refused_before_the_state_is_judged(
    command: c.TicketCommand, field: str
) -> None:
    # The ticket has just been registered at the hub: most of these steps do not fit its
    # state, but the input is refused first, naming the field.
    state = History.registered(HUB).state
    with pytest.raises(InvalidInput) as raised:
        decide(state, command, ALL_ROLES, domain.context())
    assert raised.value.field == field


def test_every_limit_is_in_the_documented_table() -> None:
    section = DOCS.read_text(encoding="utf-8").split("## Limits and input checks", 1)[1]
    documented = {
        m.group(1): int(m.group(2).replace(",", ""))
        for m in re.finditer(r"^\| `([a-z_.]+)` \| ([\d,]+) \|", section, re.MULTILINE)
    }
    assert documented == TEXT_LIMITS


def test_shown_values_are_cut_short() -> None:
    assert shown("abc") == "'abc'"
    assert shown("x" * 1000).endswith("(1000 characters)")
    assert len(shown("x" * 1000)) < 80


# Lists and amounts --------------------------------------------------------------------------


def test_too_many_tags_are_refused() -> None:
    assert refused(tags=tuple(f"t{n}" for n in range(MAX_TAGS + 1))).field == "tags"


def test_an_amount_beyond_the_bound_is_refused() -> None:
    assert refused(amount_fen=MAX_AMOUNT_FEN + 1).field == "amount_fen"


# ID numbers (公民身份号码, GB 11643-1999) ------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        ("620102 19900101 1233", "620102199001011233"),
        ("６２０１０２１９８００２２９００１４", "620102198002290014"),  # full-width digits
    ],
)
def test_valid_id_numbers_are_accepted_and_normalized(raw: str, normalized: str) -> None:
    assert check_id_number(raw, "consumer.id_number") == normalized
    event = register_ticket(
        domain.draft(consumer=replace(domain.consumer(), id_number=raw)),
        HUB,
        domain.context(),
        ticket_id="T1",
    )
    assert event.consumer.id_number == normalized


@pytest.mark.parametrize(
    ("number", "says"),
    [
        ("620102199001011234", "check character"),  # the right one is 3
        ("62010219900101123", "18 characters"),
        ("6201021990010112334", "18 characters"),
        ("62010219900101123A", "check character (0-9 or X)"),
        ("620102199002301233", "birth date"),  # 30 February
        ("620102290001011233", "birth year"),
        ("x" * 100_000, "18 characters"),
    ],
    ids=["check", "short", "long", "letter", "date", "year", "huge"],
)
def test_broken_id_numbers_are_refused_saying_why(number: str, says: str) -> None:
    error = refused(consumer=replace(domain.consumer(), id_number=number))
    assert error.field == "consumer.id_number"
    assert says in error.reason


def test_every_single_digit_typo_in_an_id_number_is_caught() -> None:
    body = "62010219900101123"
    number = body + id_number_check_character(body)
    for position in range(17):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            typo = number[:position] + digit + number[position + 1 :]
            try:
                check_id_number(typo, "f")
            except InvalidInput:
                continue
            pytest.fail(f"{typo} accepted")


# Attachments --------------------------------------------------------------------------------


def attachment(**changes: Any) -> Attachment:
    return replace(Attachment("发票.jpg", DIGEST, 123_456), **changes)


def test_a_valid_attachment_is_kept_with_its_digest_in_lower_case() -> None:
    event = register_ticket(
        domain.draft(attachments=(attachment(sha256=DIGEST.upper()),)),
        HUB,
        domain.context(),
        ticket_id="T1",
    )
    assert event.attachments == (attachment(),)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sha256": "not-a-digest"}, "attachments[0].sha256"),
        ({"sha256": DIGEST[:-1]}, "attachments[0].sha256"),
        ({"sha256": DIGEST[:-1] + "g"}, "attachments[0].sha256"),
        ({"size_bytes": -1}, "attachments[0].size_bytes"),
        ({"size_bytes": MAX_ATTACHMENT_BYTES + 1}, "attachments[0].size_bytes"),
        ({"name": ""}, "attachments[0].name"),
        ({"name": over("attachments.name")}, "attachments[0].name"),
    ],
    ids=["words", "short", "not-hex", "negative", "too-big", "no-name", "long-name"],
)
def test_a_bad_attachment_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    assert refused(attachments=(attachment(**changes),)).field == field


@pytest.mark.parametrize("count", [MAX_ATTACHMENTS + 1, 10_000])
def test_too_many_attachments_are_refused(count: int) -> None:
    assert refused(attachments=(attachment(),) * count).field == "attachments"


def test_a_sha256_digest_is_64_hex_digits() -> None:
    assert check_sha256(f"  {DIGEST.upper()} ", "f") == DIGEST
    with pytest.raises(InvalidInput):
        check_sha256(DIGEST + "0", "f")


# The rule book's campaigns ------------------------------------------------------------------


def test_a_campaign_with_too_many_or_too_long_terms_is_refused() -> None:
    from core.deadlines.rulebook import Campaign

    with pytest.raises(InvalidInput) as many:
        Campaign(
            "c1",
            "预付卡专项",
            0,
            keywords=tuple(f"k{n}" for n in range(MAX_CAMPAIGN_TERMS)),
            tags=("x",),
        )
    assert many.value.field == "campaign.terms"
    with pytest.raises(InvalidInput) as long:
        Campaign("c1", over("campaign.name"), 0, tags=("预付卡",))
    assert long.value.field == "campaign.name"


def test_a_consultation_still_needs_no_parties() -> None:
    command = domain.draft(
        TicketKind.CONSULTATION,
        consumer=replace(domain.consumer(), name="", phone="", address=""),
        respondent=replace(domain.respondent(), name=""),
    )
    assert register_ticket(command, HUB, domain.context(), ticket_id="T1").consumer.name == ""


@pytest.mark.parametrize("field", ["address", "id_number"])
def test_a_consultation_keeps_no_address_or_id_number(field: str) -> None:
    """个人信息最小化: a consultation answered at once keeps a name and phone at most."""
    value = "620102198503120427" if field == "id_number" else "城关区庆阳路甲1号"
    command = domain.draft(
        TicketKind.CONSULTATION,
        consumer=replace(domain.consumer(), **{"address": "", field: value}),
    )
    with pytest.raises(InvalidInput) as refused:
        register_ticket(command, HUB, domain.context(), ticket_id="T1")
    assert refused.value.field == f"consumer.{field}"
