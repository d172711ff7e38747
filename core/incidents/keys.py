"""Who is the business and who is the filer: the keys the incident rules compare.

A group complaint counts consumers against one business, a professional claimant is one filer
across businesses; both need to tell that two tickets name the same party although call-takers
write names and numbers in many ways. Businesses are keyed openly (credit code, else normalised
name and county: businesses are named openly, DOMAIN.md §10); filers only as digests of their
phone or ID number, so the node's signals view keeps no number in clear (DOMAIN.md §9), and an
officer is shown the matched identifier masked (``masked_filer``).
"""

from __future__ import annotations

import hashlib
import unicodedata

from core.identifiers import normalized_id_number, normalized_phone
from core.personal.masking import mask_id_number, mask_phone
from core.ticket.vocabulary import BusinessForm, Consumer, Respondent

_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司")
"""Legal-form endings people leave out when they name a business on the phone."""


def normalise_name(name: str) -> str:
    """A business name as compared: width-folded, lower-case, no spaces or punctuation,
    without a trailing legal form (``兰州金城健身俱乐部有限公司`` = ``兰州 金城健身俱乐部``)."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = "".join(
        ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] not in "PS"
    )
    for form in _LEGAL_FORMS:
        if text.endswith(form) and len(text) > len(form):
            return text[: -len(form)]
    return text


def _region(respondent: Respondent, incident_region: str) -> str:
    for code in (
        respondent.operating_region,
        respondent.registered_region,
        respondent.platform_region,
        incident_region,
    ):
        if code:
            return code
    return ""


def name_key(respondent: Respondent, incident_region: str = "") -> str:
    """The business by name: normalised name and county (``name:金城健身俱乐部@620102``).

    A shop on a platform is its platform and shop name. Empty when the ticket names no business.
    """
    if respondent.form is BusinessForm.PLATFORM_SHOP:
        platform = normalise_name(respondent.platform_name)
        shop = normalise_name(respondent.shop_name or respondent.name)
        return f"shop:{platform}/{shop}" if platform and shop else ""
    name = normalise_name(respondent.name)
    return f"name:{name}@{_region(respondent, incident_region)}" if name else ""


def respondent_key(respondent: Respondent, incident_region: str = "") -> str:
    """The business complained about: its credit code when given (``uscc:91620102...``), else
    its ``name_key``. Not personal data: businesses are named openly (DOMAIN.md §10)."""
    code = respondent.credit_code.strip().upper()
    return f"uscc:{code}" if code else name_key(respondent, incident_region)


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"hotline.v1.filer\0{kind}\0{value}".encode()).hexdigest()[:32]


def phone_key(consumer: Consumer) -> str:
    """A stable key for the filer's phone number, as a digest: the signals view keeps no
    number in clear (DOMAIN.md §9). Empty when there is no number."""
    digits = normalized_phone(consumer.phone)
    return _digest("phone", digits) if digits else ""


def id_key(consumer: Consumer) -> str:
    """A stable key for the filer's ID number, as a digest; empty when none was given."""
    text = normalized_id_number(consumer.id_number)
    return _digest("id", text) if text else ""


MATCHED_BY_PHONE = "phone"
MATCHED_BY_ID = "id_number"


def filer_label(matched_by: str) -> str:
    """How a flagged filer was recognised, with no part of the identifier: what the signed
    flag says (``手机号相同 (same phone number)``). A masked number in a signed event would
    outlive the erasure of the ticket's personal data (issue 12); the officer sees the filer
    masked on the ticket itself while its data is held."""
    if matched_by == MATCHED_BY_ID:
        return "身份证号相同 (same ID number)"
    return "手机号相同 (same phone number)"


def masked_filer(consumer: Consumer, matched_by: str) -> str:
    """The identifier a filer was recognised by, never in full, masked by the one rule of
    ``core.personal.masking``: ``手机 139****0001``, ``身份证 6201**********1234``."""
    if matched_by == MATCHED_BY_ID:
        return f"身份证 {mask_id_number(consumer.id_number)}"
    return f"手机 {mask_phone(consumer.phone)}"
