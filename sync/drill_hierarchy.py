"""Drill hierarchies: certificates made for a drill, valid from the drill's date, marked as such.

A drill (演练, docs/drills.md) runs nodes on a clock set to a chosen date, and every event they
sign is judged against its signer's certificate *at the event's time*. A certificate of the
real hierarchy is valid from the moment ``hotline pki issue`` made it, so a drill dated before
that moment cannot work: its nodes refuse each other. ``hotline pki init-root --drill
--valid-from 2026-09-01`` makes instead a **drill hierarchy**: a root, province CAs and node
certificates valid from a chosen date, whatever the day they are made.

**The mark.** Every certificate of a drill hierarchy carries a private, non-critical extension
under the project's OID arc, ``DRILL_EXTENSION`` (``1.3.6.1.4.1.61012.12315.3``), whose value is
a DER ``INTEGER``: the instant (epoch milliseconds) the drill hierarchy is valid from. Its
presence is the mark; its value is what ``init-ca`` and ``issue`` inherit when no
``--valid-from`` is given. Being non-critical it is ignored by TLS, which checks these
certificates like any others.

**The validity.** A drill certificate is valid from the earlier of its valid-from and the
moment it is made (less a minute, as every certificate here), until ``days`` after the later of
the two, and never past the end of the authority that issues it. It must hold on the drill
clock (the events' times) *and* on the real one: gRPC's TLS checks the certificates of every
link against the machine's real time.

**The rule: a drill and production never meet** (``sync.trust``, ``sync.pki``,
``node.app.wiring``):

* a drill authority issues only drill certificates, and a production one none;
* a node whose trust is anchored on a drill root holds and counts only drill authorities and
  node certificates, and a node anchored on a production root none of them;
* a node with a drill certificate starts only on a drill clock (``--clock-start``,
  ``--clock-speed`` or ``--clock-offset``), never on real time.
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

from core.deadlines.china_time import china_datetime

DRILL_EXTENSION = ObjectIdentifier("1.3.6.1.4.1.61012.12315.3")
"""The certificate extension that marks a drill hierarchy's certificate; its value is a DER
``INTEGER``, the epoch milliseconds the drill hierarchy is valid from."""

DRILL_DAYS = 365
"""How long a drill root, CA or node certificate lasts by default, counted from the later of
its valid-from and the moment it is made (and never past its authority's end)."""

BACKDATE_MS = 60_000
"""Every certificate here starts a minute before it is made (machines' clocks differ)."""


def drill_mark(valid_from_ms: int) -> x509.UnrecognizedExtension:
    """The extension that marks a certificate as a drill hierarchy's, valid from then."""
    if valid_from_ms < 0:
        raise ValueError("a drill hierarchy cannot be valid from before 1970")
    content = valid_from_ms.to_bytes(valid_from_ms.bit_length() // 8 + 1, "big", signed=True)
    return x509.UnrecognizedExtension(DRILL_EXTENSION, bytes([0x02, len(content)]) + content)


def is_drill(cert: x509.Certificate) -> bool:
    """True when ``cert`` belongs to a drill hierarchy (it carries the drill mark)."""
    try:
        cert.extensions.get_extension_for_oid(DRILL_EXTENSION)
    except x509.ExtensionNotFound:
        return False
    return True


def drill_from_ms(cert: x509.Certificate) -> int | None:
    """The instant a drill certificate's hierarchy is valid from; None for a production one.

    A mark whose value cannot be read still marks a drill certificate; it then counts from the
    certificate's own start (an inherited valid-from can only be later, never earlier).
    """
    try:
        ext = cert.extensions.get_extension_for_oid(DRILL_EXTENSION).value
    except x509.ExtensionNotFound:
        return None
    raw = ext.value if isinstance(ext, x509.UnrecognizedExtension) else b""
    if 2 < len(raw) <= 10 and raw[0] == 0x02 and raw[1] == len(raw) - 2:
        value = int.from_bytes(raw[2:], "big", signed=True)
        if value >= 0:
            return value
    return int(cert.not_valid_before_utc.timestamp() * 1000) + BACKDATE_MS


def drill_validity(
    valid_from_ms: int, now_ms: int, days: int, *, until: dt.datetime | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """``(not_before, not_after)`` of a drill certificate made at ``now_ms``.

    From the earlier of ``valid_from_ms`` and ``now_ms`` (a minute early) to ``days`` after the
    later, cut at ``until`` (the issuing authority's end): valid on the drill clock and on the
    real one.
    """
    start = min(valid_from_ms, now_ms) - BACKDATE_MS
    end = _utc(max(valid_from_ms, now_ms)) + dt.timedelta(days=days)
    if until is not None:
        end = min(end, until)
    return _utc(start), end


def dated(
    builder: x509.CertificateBuilder,
    issuer: x509.Certificate | None,
    now_ms: int,
    days: int,
    drill_from: int | None,
) -> x509.CertificateBuilder:
    """``builder`` with the validity of a certificate made at ``now_ms`` by ``issuer`` (None:
    self-signed) and, when ``drill_from`` is given, the drill mark.

    A production certificate is valid from the moment it is made (a minute early) for
    ``days``; a drill certificate as ``drill_validity`` says, within its issuer's validity.
    """
    if drill_from is None:
        return builder.not_valid_before(_utc(now_ms - BACKDATE_MS)).not_valid_after(
            _utc(now_ms) + dt.timedelta(days=days)
        )
    until = issuer.not_valid_after_utc if issuer is not None else None
    start, end = drill_validity(drill_from, now_ms, days, until=until)
    return (
        builder.not_valid_before(start)
        .not_valid_after(end)
        .add_extension(drill_mark(drill_from), critical=False)
    )


def drill_start_refusal(issuer: x509.Certificate, asked_ms: int | None) -> str | None:
    """Why ``issuer`` may not certify from ``asked_ms`` (None: from its own drill's start, or
    as a production certificate), or None when it may.

    A drill authority certifies only drill certificates, from no earlier than its own drill's
    start and before its own end; a production authority takes no valid-from date (production
    certificates are dated when they are made).
    """
    inherited = drill_from_ms(issuer)
    if asked_ms is None:
        return None
    if inherited is None:
        return (
            "a valid-from date is for drill hierarchies only, and this authority is a "
            "production one (make a drill root with `hotline pki init-root --drill`)"
        )
    if asked_ms < inherited:
        return (
            f"valid from {china_text(asked_ms)} is before the drill hierarchy's start, "
            f"{china_text(inherited)}"
        )
    end = int(issuer.not_valid_after_utc.timestamp() * 1000)
    if asked_ms >= end:
        return f"valid from {china_text(asked_ms)} is after the authority's end, {china_text(end)}"
    return None


def china_text(ms: int) -> str:
    """Epoch milliseconds as China time with its zone, for messages: ``2026-09-01 00:00 +08:00``."""
    return f"{china_datetime(ms):%Y-%m-%d %H:%M} +08:00"


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
