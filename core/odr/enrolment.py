"""Applications to join the ODR green channel (ODR单位申请) and their review by the county.

An enterprise, a mall's dispute desk or an industry association applies to its county bureau
with its unified social credit code, licence, signed commitment letter, contacts, and the
conditions the rules set (DOMAIN.md §8): fixed premises, at least one staff member handling
disputes, a computer online, a dedicated phone, written complaint-handling rules. The county
registers the application (``check_application``: each missing condition names its field) and
its unit head reviews it (``check_review``). Pure: storage and the first user's account are
``node.enrolment``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from core.errors import EnrolmentForbidden, InvalidInput
from core.identifiers import check_credit_code
from core.limits import check_text
from core.odr.roster import ApplicantKind
from core.regions import check_region_code_format

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


class ApplicationStatus(enum.Enum):
    """Where an application stands."""

    PENDING = "pending"  # 待审核
    APPROVED = "approved"  # 已通过
    REFUSED = "refused"  # 未通过


@dataclass(frozen=True)
class ApplicationDraft:
    """An application as the county registers it, every field checked."""

    request_id: str
    credit_code: str
    name: str
    kind: ApplicantKind
    licence_number: str
    commitment_letter_sha256: str
    address: str
    region: str
    contact_name: str
    contact_phone: str
    staff_count: int


@dataclass(frozen=True)
class Conditions:
    """The conditions an applicant must meet, as the county found them."""

    fixed_premises: bool
    staff_count: int
    online_computer: bool
    dedicated_phone: bool
    handling_rules: bool


def check_conditions(conditions: Conditions) -> None:
    """Refuse an applicant missing a condition, naming the first such field."""
    missing = (
        ("fixed_premises", conditions.fixed_premises, "a fixed place of business (固定经营场所)"),
        ("staff_count", conditions.staff_count >= 1, "at least one staff member handling disputes"),
        ("online_computer", conditions.online_computer, "a computer online (联网电脑)"),
        ("dedicated_phone", conditions.dedicated_phone, "a dedicated phone (专用电话)"),
        (
            "handling_rules",
            conditions.handling_rules,
            "written complaint-handling rules (处理制度)",
        ),
    )
    for field, met, what in missing:
        if not met:
            raise InvalidInput(field, f"the applicant must have {what}")


def check_application(
    *,
    request_id: str,
    credit_code: str,
    name: str,
    kind: ApplicantKind | None,
    licence_number: str,
    commitment_letter_sha256: str,
    address: str,
    region: str,
    contact_name: str,
    contact_phone: str,
    conditions: Conditions,
) -> ApplicationDraft:
    """The application checked field by field (``InvalidInput`` naming the first wrong one)."""
    request_id = request_id.strip()
    if not _REQUEST_ID.match(request_id):
        raise InvalidInput("request_id", "must be 8 to 64 letters, digits or _.:-")
    code = check_credit_code(credit_code, "credit_code")
    name = check_text(name, "name", kind="respondent.name")
    if kind is None:
        raise InvalidInput("kind", "must be set: enterprise, mall desk or association")
    licence = check_text(licence_number, "licence_number", kind="case_number")
    digest = commitment_letter_sha256.strip().lower()
    if not _SHA256_HEX.match(digest):
        raise InvalidInput(
            "commitment_letter_sha256", "must be the SHA-256 of the signed letter, 64 hex digits"
        )
    address = check_text(address, "address", kind="respondent.address")
    region = region.strip()
    if not region:
        raise InvalidInput("region", "must not be empty")
    check_region_code_format(region, "region")
    contact = check_text(contact_name, "contact_name", kind="consumer.name")
    phone = contact_phone.strip()
    if not _PHONE.match(phone):
        raise InvalidInput("contact_phone", "must be a phone number (5 to 20 digits)")
    check_conditions(conditions)
    return ApplicationDraft(
        request_id=request_id,
        credit_code=code,
        name=name,
        kind=kind,
        licence_number=licence,
        commitment_letter_sha256=digest,
        address=address,
        region=region,
        contact_name=contact,
        contact_phone=phone,
        staff_count=conditions.staff_count,
    )


def check_review(status: ApplicationStatus, approve: bool, reason: str) -> str:
    """The review's reason, checked: an application is reviewed once; refusing needs a reason."""
    if status is not ApplicationStatus.PENDING:
        raise EnrolmentForbidden(f"the application was already reviewed ({status.value})")
    return check_text(reason, "reason", required=not approve)


def check_applies_to(draft: ApplicationDraft, county: str) -> None:
    """An application is made to the county of the applicant's premises."""
    if draft.region != county:
        raise InvalidInput(
            "region", f"{draft.region} is not this county ({county}): apply to its own bureau"
        )
