"""A filer's personal data (个人信息) as the pure core handles it: masked for display.

Sealing, committing to and keying look-ups on personal data is cryptography and lives in
``sync.personal``; what the core needs is only the rule by which a value is shown to officers
who may not read it (``masking``, 脱敏), with no key, clock or randomness.
"""

from core.personal.masking import (
    MaskedConsumer,
    mask_address,
    mask_consumer,
    mask_id_number,
    mask_name,
    mask_phone,
)

__all__ = [
    "MaskedConsumer",
    "mask_address",
    "mask_consumer",
    "mask_id_number",
    "mask_name",
    "mask_phone",
]
