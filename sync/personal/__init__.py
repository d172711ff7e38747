"""A filer's personal data (个人信息) kept out of the clear: sealed, committed to, keyed.

Issue 12: no node writes a consumer's name, phone, address or ID number to disk in clear. The
signed event log carries a salted **commitment** to them (hiding and binding, so the log can be
replicated and audited for years), and the values travel beside it encrypted under a per-ticket
data key (DEK) that every node wraps under its own key-encryption key (KEK). Forgetting a DEK
erases the data without breaking a signature.

Each province chooses its cipher suite (``CipherSuite``): the international algorithms or the
Chinese commercial suite 商用密码 (SM4-GCM, SM3, HMAC-SM3). The modules:

- ``suites``: the two suites and the four primitives everything else is written on;
- ``seal``: the canonical encoding, the commitment, sealing and opening, wrapping DEKs;
- ``fresh``: the one place that draws random DEKs, salts and nonces;
- ``digests``: keyed look-up digests of phone and ID numbers, to match filers blindly.

Masking for display is pure and lives in ``core.personal``.
"""

from sync.personal.digests import lookup_key, normalized_id_number, normalized_phone
from sync.personal.fresh import fresh_seal
from sync.personal.seal import (
    SALT_BYTES,
    SealedPersonal,
    commitment,
    open_personal,
    parse_personal_plaintext,
    personal_plaintext,
    seal_personal,
    unwrap_key,
    wrap_key,
)
from sync.personal.suites import (
    NONCE_BYTES,
    CipherSuite,
    SealBroken,
    aead_open,
    aead_seal,
    digest,
    keyed_digest,
)

__all__ = [
    "NONCE_BYTES",
    "SALT_BYTES",
    "CipherSuite",
    "SealBroken",
    "SealedPersonal",
    "aead_open",
    "aead_seal",
    "commitment",
    "digest",
    "fresh_seal",
    "keyed_digest",
    "lookup_key",
    "normalized_id_number",
    "normalized_phone",
    "open_personal",
    "parse_personal_plaintext",
    "personal_plaintext",
    "seal_personal",
    "unwrap_key",
    "wrap_key",
]
