"""Time-based one-time passwords (TOTP, RFC 6238): the second factor of an officer's sign-in.

An officer's authenticator app (any that reads an ``otpauth://`` URI: FreeOTP, Google or
Microsoft Authenticator, the government's own) and the node share a secret; both compute, for
every 30-second step since the Unix epoch, an HMAC-SHA-1 of the step number truncated to six
digits (RFC 4226's HOTP of the step). The node accepts the code of the current step or of the
step before or after it (a phone's clock a few seconds off, a code typed as it changes), and
never the same step twice for one officer (RFC 6238 §5.2: a code seen once is spent; the caller
keeps the last step used, ``core.access.lockout.AccountGuard``).

Pure functions of the secret and the time the caller passes in; RFC 6238 appendix B's vectors
(SHA-1, SHA-256 and SHA-512, eight digits) are the tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from urllib.parse import quote, urlencode

from core.errors import InvalidInput

STEP_SECONDS = 30
"""RFC 6238's default time step."""
DIGITS = 6
"""Digits of a code (what every authenticator app shows by default)."""
WINDOW = 1
"""Steps accepted either side of the current one."""
SECRET_BYTES = 20
"""Length of a new secret: 160 bits, as RFC 4226 recommends for HMAC-SHA-1."""
ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
"""RFC 6238's three hash functions; officers' secrets use SHA-1 (what every app supports)."""


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, algorithm: str = "sha1") -> str:
    """RFC 4226 HOTP: the code of ``counter`` under ``key``, ``digits`` long with leading zeros."""
    mac = hmac.new(key, struct.pack(">Q", counter), ALGORITHMS[algorithm]).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def step_at(unix_ms: int) -> int:
    """The TOTP step number of an instant (milliseconds since the Unix epoch)."""
    return unix_ms // 1000 // STEP_SECONDS


def totp(key: bytes, unix_ms: int, *, digits: int = DIGITS, algorithm: str = "sha1") -> str:
    """The code an authenticator app shows at ``unix_ms``."""
    return hotp(key, step_at(unix_ms), digits=digits, algorithm=algorithm)


def matching_step(key: bytes, code: str, unix_ms: int, *, window: int = WINDOW) -> int | None:
    """The step within ``window`` of ``unix_ms`` whose code is ``code``, or None.

    Every candidate is compared in constant time, and all of them are computed, so the time
    taken says nothing about which step (if any) matched.
    """
    code = code.strip()
    now = step_at(unix_ms)
    found: int | None = None
    for step in range(now - window, now + window + 1):
        if hmac.compare_digest(hotp(key, step).encode(), code.encode()) and found is None:
            found = step
    return found


def secret_text(key: bytes) -> str:
    """The secret as an authenticator app takes it typed in: base32 without padding."""
    return base64.b32encode(key).decode("ascii").rstrip("=")


def secret_bytes(text: str) -> bytes:
    """The secret from its base32 text (spaces and lower case tolerated, as apps show it)."""
    cleaned = "".join(text.split()).upper()
    try:
        key = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except ValueError:
        raise InvalidInput("totp_secret", "is not a base32 secret") from None
    if len(key) < 10:
        raise InvalidInput("totp_secret", "is shorter than 80 bits")
    return key


def otpauth_uri(key: bytes, account: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app reads (as a QR code or pasted).

    The de-facto format of Google Authenticator's "Key Uri Format": the label is
    ``issuer:account``, and the parameters repeat the issuer and spell out the defaults, so an
    app that assumes none of them gets them right.
    """
    label = quote(f"{issuer}:{account}", safe="")
    query = urlencode(
        {
            "secret": secret_text(key),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": STEP_SECONDS,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"
