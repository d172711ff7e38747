"""Who is the business and who is the filer: the keys the incident rules compare.

A group complaint counts consumers against one business, a professional claimant is one filer
across businesses; both need to tell that two tickets name the same party although call-takers
write names and numbers in many ways. Businesses are keyed openly (credit code, else normalised
name and county: businesses are named openly, DOMAIN.md §10); filers only as keyed digests of
their phone or ID number under the province's look-up key (``sync.personal.shelf.lookups_of``,
kept in ``personal_lookups``), so no node keeps a number in clear or as a bare hash anyone can
reverse (DOMAIN.md §9); a flag says how the filer was recognised (``filer_label``).
"""

from __future__ import annotations

import unicodedata

from core.ticket.vocabulary import BusinessForm, Respondent

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
