"""Masking a filer's personal data for display (脱敏).

Most officers who see a ticket need to know that a filer exists and roughly where, not who:
lists, signals and supervision pages show personal data masked (DOMAIN.md §9), and only the
unit handling the complaint opens it. One rule per kind of value lives here, so every page
masks alike. Each function keeps enough to tell two filers apart on a page (a surname, a
mobile's carrier prefix and last four digits, a district) and never the whole value.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.identifiers import normalized_id_number, normalized_phone
from core.ticket.vocabulary import Consumer

STAR = "*"

ADDRESS_KEPT = 6
"""Characters of an address shown: about a province, city or district (甘肃省兰州市)."""

ADDRESS_HIDDEN_AT_LEAST = 4
"""Characters of an address always hidden, so a short address is never shown whole."""


def mask_name(name: str) -> str:
    """The first character (a surname, a Latin initial), then one star for each other
    character: ``张三`` -> ``张*``. A one-character name is shown as ``*`` alone."""
    text = name.strip()
    if len(text) <= 1:
        return STAR * len(text)
    return text[0] + STAR * (len(text) - 1)


def _area_code_length(digits: str) -> int:
    # 010 and 020-029 are the three-digit area codes of the largest cities; all others have four.
    return 3 if digits[1:2] in ("1", "2") else 4


def mask_phone(phone: str) -> str:
    """A mobile as its first three and last four digits (``139****0001``); a landline as its
    area code and last three digits (``0931-****234``); any other number as stars and its last
    three digits, or stars alone when it has four digits or fewer. Empty stays empty."""
    digits = normalized_phone(phone)
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + STAR * 4 + digits[-4:]
    if digits.startswith("0") and len(digits) >= 9:
        area = _area_code_length(digits)
        local = digits[area:]
        return f"{digits[:area]}-{STAR * (len(local) - 3)}{local[-3:]}"
    if len(digits) <= 4:
        return STAR * len(digits)
    return STAR * (len(digits) - 3) + digits[-3:]


def mask_address(address: str) -> str:
    """The first six characters (province, city or district), then ``****``; a short address
    shows fewer, so at least four of its characters are always hidden. Empty stays empty."""
    text = address.strip()
    if not text:
        return ""
    kept = min(ADDRESS_KEPT, max(0, len(text) - ADDRESS_HIDDEN_AT_LEAST))
    return text[:kept] + STAR * 4


def mask_id_number(text: str) -> str:
    """An ID number as its first four (the prefecture) and last four characters with a star
    for each one between: ``6201**********1234``. A number of eight characters or fewer shows
    only its first and last, and one of two or fewer only stars."""
    normalized = normalized_id_number(text)
    if len(normalized) <= 2:
        return STAR * len(normalized)
    keep = 4 if len(normalized) > 8 else 1
    return normalized[:keep] + STAR * (len(normalized) - 2 * keep) + normalized[-keep:]


@dataclass(frozen=True)
class MaskedConsumer:
    """A filer as shown to officers who may not read their personal data: every field masked."""

    name: str
    phone: str
    address: str
    id_number: str


def mask_consumer(consumer: Consumer) -> MaskedConsumer:
    """``consumer`` with each field masked by its rule above."""
    return MaskedConsumer(
        name=mask_name(consumer.name),
        phone=mask_phone(consumer.phone),
        address=mask_address(consumer.address),
        id_number=mask_id_number(consumer.id_number),
    )
