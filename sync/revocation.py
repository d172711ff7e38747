"""Revocation lists: one X.509 CRL per authority, each entry's time kept to the millisecond.

A revocation's date is the moment from which the node's events no longer count, and
``hotline pki revoke`` states it in milliseconds. X.509 keeps a ``revocationDate`` in whole
seconds, so a list that held only that would discount an event recorded a few hundred
milliseconds *before* the stated moment. Each entry therefore also carries the milliseconds its
date leaves out, in a private, non-critical CRL entry extension under the project's OID arc
(docs/protocol.md §6); ``revoked_ms`` reads it back, and falls back to the whole second for a
list without it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ObjectIdentifier

if TYPE_CHECKING:
    from sync.pki import Authority

REVOCATION_MS_EXTENSION = ObjectIdentifier("1.3.6.1.4.1.61012.12315.2")
"""The CRL entry extension carrying the milliseconds (0 to 999, a DER INTEGER) of the
revocation time that the entry's whole-second ``revocationDate`` leaves out."""


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def revocation_list(
    authority: Authority,
    revoked: dict[int, int],
    now_ms: int,
    *,
    previous: x509.CertificateRevocationList | None = None,
) -> x509.CertificateRevocationList:
    """The authority's CRL: every serial revoked before, plus ``revoked`` (serial -> time).

    Each entry keeps its time to the millisecond: the whole seconds in its ``revocationDate``,
    the rest in a ``REVOCATION_MS_EXTENSION`` (entries carried over from ``previous`` keep
    theirs).
    """
    entries = {r.serial_number: revoked_ms(r) for r in previous or ()}
    entries.update(revoked)
    # The CRL number orders lists made within the same second (X.509 times are in seconds).
    number = crl_number(previous) + 1 if previous is not None else 1
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.certificate.subject)
        .last_update(_utc(now_ms))
        .add_extension(x509.CRLNumber(number), critical=False)
        .next_update(_utc(now_ms) + dt.timedelta(days=30))
    )
    for serial, at_ms in sorted(entries.items()):
        seconds_ms, rest = at_ms - at_ms % 1000, at_ms % 1000
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(_utc(seconds_ms))
            .add_extension(
                x509.UnrecognizedExtension(REVOCATION_MS_EXTENSION, _der_integer(rest)),
                critical=False,
            )
            .build()
        )
    return builder.sign(authority.key, hashes.SHA256())


def revoked_ms(entry: x509.RevokedCertificate) -> int:
    """When a CRL entry revokes its certificate, in ms: its ``revocationDate`` plus the
    milliseconds of its ``REVOCATION_MS_EXTENSION``.

    A list made elsewhere (or before the extension existed) has none: its whole second is taken.
    A malformed value is ignored the same way; that can only move the time earlier, never let
    more events count.
    """
    seconds = _ms(entry.revocation_date_utc)
    try:
        ext = entry.extensions.get_extension_for_oid(REVOCATION_MS_EXTENSION).value
    except x509.ExtensionNotFound:
        return seconds
    rest = _read_der_integer(ext.value) if isinstance(ext, x509.UnrecognizedExtension) else None
    if rest is None or not 0 <= rest < 1000 or seconds % 1000:
        return seconds
    return seconds + rest


def _der_integer(value: int) -> bytes:
    """The DER encoding of a small non-negative INTEGER."""
    content = value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)
    return bytes([0x02, len(content)]) + content


def _read_der_integer(raw: bytes) -> int | None:
    """A DER INTEGER of at most 126 content bytes, or None when ``raw`` is not exactly one."""
    if len(raw) < 3 or raw[0] != 0x02 or raw[1] >= 0x80 or raw[1] != len(raw) - 2:
        return None
    return int.from_bytes(raw[2:], "big", signed=True)


def crl_number(crl: x509.CertificateRevocationList) -> int:
    """A revocation list's number (0 when it has none): later lists have larger numbers."""
    try:
        return int(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)
    except x509.ExtensionNotFound:
        return 0
