"""A filer's personal data (个人信息) as the pure core handles it: masked for display, erased
at the end of its retention period.

Sealing, committing to and keying look-ups on personal data is cryptography and lives in
``sync.personal``; what the core needs is only the rule by which a value is shown to officers
who may not read it (``masking``, 脱敏) and the rule of when it must go (``retention``,
个人信息删除), with no key, clock or randomness.
"""

from core.deadlines.rulebook import DEFAULT_RETENTION_DAYS
from core.personal.masking import (
    MaskedConsumer,
    mask_address,
    mask_consumer,
    mask_id_number,
    mask_name,
    mask_phone,
)
from core.personal.retention import (
    DEFAULT_GRACE_DAYS,
    ERASURE_REASON,
    effective_retention_days,
    ended_ms,
    erasure_due_ms,
    owes_erasure,
)

__all__ = [
    "DEFAULT_GRACE_DAYS",
    "DEFAULT_RETENTION_DAYS",
    "ERASURE_REASON",
    "MaskedConsumer",
    "effective_retention_days",
    "ended_ms",
    "erasure_due_ms",
    "mask_address",
    "mask_consumer",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "owes_erasure",
]
