"""What a registration must hold: its parties, tags and attachments, checked field by field.

``core.ticket.decisions.register_ticket`` calls these before it names the registration event,
so every channel that registers a ticket gets the same checks, each refusal an
``InvalidInput`` naming the field: texts within their limits (``core.limits``), the filer's
phone and ID number (GB 11643), the business's credit code (GB 32100) and regions, and each
attachment's name, SHA-256 digest and size. What passes is returned normalized (trimmed, upper
case where the standard says so), which is what the event records.
"""

from __future__ import annotations

from dataclasses import replace

from core.errors import InvalidInput
from core.identifiers import check_credit_code, check_id_number, check_phone, check_sha256
from core.limits import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    MAX_TAGS,
    check_count,
    check_text,
)
from core.regions import check_region_known
from core.ticket.vocabulary import Attachment, BusinessForm, Consumer, Respondent, TicketKind
from core.units import UnitDirectory

MINIMAL_KINDS = frozenset({TicketKind.CONSULTATION})
"""Kinds that keep no more of the filer than a name and a phone to call back (个人信息最小化):
a consultation is answered at once, so an address or an ID number would only be kept, never
used (PIPL's minimum necessary; issue 12)."""


def check_consumer(consumer: Consumer, kind: TicketKind) -> Consumer:
    """The filer, normalized; a complaint needs a name and a phone to call back, and a
    consultation takes no address or ID number (``MINIMAL_KINDS``)."""
    if kind in MINIMAL_KINDS:
        for field in ("address", "id_number"):
            if getattr(consumer, field).strip():
                raise InvalidInput(
                    f"consumer.{field}",
                    f"a {kind.value} keeps no {field.replace('_', ' ')} "
                    "(个人信息最小化, minimum necessary): leave it out",
                )
    needs_contact = kind in (TicketKind.COMPLAINT, TicketKind.COMPOSITE)
    name = check_text(consumer.name, "consumer.name", required=needs_contact)
    phone = consumer.phone.strip()
    if phone or needs_contact:
        phone = check_phone(phone, "consumer.phone")
    address = check_text(consumer.address, "consumer.address", required=False)
    id_number = consumer.id_number.strip()
    if id_number:
        id_number = check_id_number(id_number, "consumer.id_number")
    return Consumer(name, phone, address, id_number)


def check_respondent(r: Respondent, kind: TicketKind, units: UnitDirectory) -> Respondent:
    """The business, normalized; named except in a consultation or suggestion."""
    named = kind not in (TicketKind.CONSULTATION, TicketKind.SUGGESTION)
    name = check_text(r.name, "respondent.name", required=named)
    credit = check_credit_code(r.credit_code, "respondent.credit_code") if r.credit_code else ""
    for attr in ("operating_region", "registered_region", "platform_region"):
        code = getattr(r, attr)
        if code:
            check_region_known(code, f"respondent.{attr}", units)
    platform = check_text(r.platform_name, "respondent.platform_name", required=False)
    if r.form is BusinessForm.PLATFORM_SHOP and not platform:
        raise InvalidInput("respondent.platform_name", "a platform shop names its platform")
    return replace(
        r,
        name=name,
        credit_code=credit,
        address=check_text(r.address, "respondent.address", required=False),
        platform_name=platform,
        shop_name=check_text(r.shop_name, "respondent.shop_name", required=False),
    )


def check_tags(tags: tuple[str, ...]) -> tuple[str, ...]:
    """The tags, trimmed: at most ``MAX_TAGS``, none empty or too long."""
    check_count(tags, "tags", MAX_TAGS)
    return tuple(check_text(tag, f"tags[{i}]") for i, tag in enumerate(tags))


def check_attachments(attachments: tuple[Attachment, ...]) -> tuple[Attachment, ...]:
    """The attachments: at most ``MAX_ATTACHMENTS``, each named, with a SHA-256 digest and a
    size from 0 to ``MAX_ATTACHMENT_BYTES``."""
    check_count(attachments, "attachments", MAX_ATTACHMENTS)
    checked = []
    for i, a in enumerate(attachments):
        where = f"attachments[{i}]"
        if not 0 <= a.size_bytes <= MAX_ATTACHMENT_BYTES:
            raise InvalidInput(
                f"{where}.size_bytes",
                f"must be from 0 to {MAX_ATTACHMENT_BYTES} bytes, not {a.size_bytes}",
            )
        checked.append(
            Attachment(
                name=check_text(a.name, f"{where}.name"),
                sha256=check_sha256(a.sha256, f"{where}.sha256"),
                size_bytes=a.size_bytes,
            )
        )
    return tuple(checked)
