"""Drill hierarchies: valid from a chosen date, marked all the way down, kept apart from production.

A drill dated before the day its certificates are made must still find them valid at its
events' (drill) times, and the real time of its TLS links too; a drill certificate must never
count on a production node, nor a production one on a drill node (``sync.drill_hierarchy``,
docs/drills.md). Real keys and certificates; ``NOW`` plays the day the hierarchy is made.
"""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core.deadlines.china_time import CHINA_TZ
from core.units import level_of
from proto.hotline.v1 import pki_pb2
from sync.codec import enum_number
from sync.drill_hierarchy import DRILL_DAYS, DRILL_EXTENSION, drill_from_ms, drill_mark, is_drill
from sync.enrolment import request_for
from sync.identity import NodeIdentity
from sync.pki import (
    NODE_EXTENSION,
    Authority,
    NodeCertificate,
    PkiError,
    certify_province,
    create_root,
    issue,
)
from sync.trust import TrustStore

DAY = 86_400_000
MINUTE = 60_000


def china_ms(day: str, hour: int = 0) -> int:
    """``hour`` o'clock on ``day``, China time, in epoch milliseconds."""
    moment = dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=CHINA_TZ)
    return int(moment.timestamp() * 1000)


NOW = china_ms("2026-12-03", 10)
"""The day the drill hierarchy is made (a whole second)."""
SEPTEMBER = china_ms("2026-09-01")
"""The date the drill hierarchy is valid from, three months before it is made."""
DRILL_DAY = china_ms("2026-09-30", 10)
"""A drill clock's reading: the drill runs on 2026-09-30."""


def ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def node(unit_code: str) -> NodeIdentity:
    return NodeIdentity.generate(unit_code, level_of(unit_code))


@pytest.fixture(scope="module")
def drill_root() -> Authority:
    return create_root(NOW, drill_from_ms=SEPTEMBER)


@pytest.fixture(scope="module")
def drill_gansu(drill_root: Authority) -> Authority:
    return certify_province(drill_root, "620000", NOW + MINUTE)


@pytest.fixture(scope="module")
def root() -> Authority:
    return create_root(NOW)


@pytest.fixture(scope="module")
def gansu(root: Authority) -> Authority:
    return certify_province(root, "620000", NOW)


def hand_made_ca(issuer: Authority, unit: str, *, drill: bool) -> Authority:
    """A province CA an authority signs outside ``certify_province`` (no checks at all)."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, f"hand-made CA {unit}"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, unit),
                ]
            )
        )
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime.fromtimestamp((SEPTEMBER - MINUTE) / 1000, tz=dt.UTC))
        .not_valid_after(dt.datetime.fromtimestamp((NOW + 300 * DAY) / 1000, tz=dt.UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    )
    if drill:
        builder = builder.add_extension(drill_mark(SEPTEMBER), critical=False)
    return Authority(key, builder.sign(issuer.key, hashes.SHA256()), (issuer.certificate,))


def hand_made_node(
    issuer: Authority, identity: NodeIdentity, *, mark: x509.UnrecognizedExtension | None
) -> x509.Certificate:
    """A node certificate an authority signs outside ``issue``, with ``mark`` or none."""
    certified = pki_pb2.CertifiedNode(
        node_id=identity.node_id,
        unit_code=identity.unit_code,
        level=enum_number(identity.level),
        event_public_key=identity.public.public_key,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, identity.node_id)]))
        .issuer_name(issuer.certificate.subject)
        .public_key(identity.tls_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime.fromtimestamp((SEPTEMBER - MINUTE) / 1000, tz=dt.UTC))
        .not_valid_after(dt.datetime.fromtimestamp((NOW + 300 * DAY) / 1000, tz=dt.UTC))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.UnrecognizedExtension(NODE_EXTENSION, certified.SerializeToString()),
            critical=False,
        )
    )
    if mark is not None:
        builder = builder.add_extension(mark, critical=False)
    return builder.sign(issuer.key, hashes.SHA256())


# -- validity and marks ----------------------------------------------------------------------------


def test_a_drill_hierarchy_made_in_december_is_valid_from_the_september_date_it_was_given(
    drill_root: Authority, drill_gansu: Authority
) -> None:
    """Root, CA and node certificate are valid from the drill's date (a minute early, as every
    certificate here) until a year after the day they were made, each within the one above,
    and each carries the drill mark with the date its hierarchy is valid from."""
    county = issue(drill_gansu, request_for(node("620102")), NOW + 2 * MINUTE)

    for cert in (drill_root.certificate, drill_gansu.certificate, county.certificate):
        assert is_drill(cert) and drill_from_ms(cert) == SEPTEMBER
        assert ms(cert.not_valid_before_utc) == SEPTEMBER - MINUTE
        mark = cert.extensions.get_extension_for_oid(DRILL_EXTENSION)
        assert mark.critical is False  # TLS ignores it; the node reads it
    assert ms(drill_root.certificate.not_valid_after_utc) == NOW + DRILL_DAYS * DAY
    # a CA made a minute after the root ends with it, not a minute after it
    assert ms(drill_gansu.certificate.not_valid_after_utc) == NOW + DRILL_DAYS * DAY
    assert county.not_after_ms == NOW + DRILL_DAYS * DAY
    assert (county.drill, county.drill_from_ms) == (True, SEPTEMBER)
    assert (drill_root.drill_from_ms, drill_gansu.drill_from_ms) == (SEPTEMBER, SEPTEMBER)
    assert NodeCertificate.read(county.certificate) == county


def test_a_drill_dated_after_the_day_it_is_made_is_valid_from_that_day_on_too(
    drill_root: Authority,
) -> None:
    """TLS checks every link's certificates against the real time: a drill set in the future
    gets certificates valid from the day they are made until a year after the drill's date."""
    next_year = china_ms("2027-06-01")
    root = create_root(NOW, drill_from_ms=next_year)
    ca = certify_province(root, "620000", NOW)
    assert ms(root.certificate.not_valid_before_utc) == NOW - MINUTE
    assert ms(root.certificate.not_valid_after_utc) == next_year + DRILL_DAYS * DAY
    assert ms(ca.certificate.not_valid_before_utc) == NOW - MINUTE
    assert drill_from_ms(ca.certificate) == next_year


def test_a_drill_authority_certifies_from_a_later_date_but_never_an_earlier_one(
    drill_root: Authority, drill_gansu: Authority
) -> None:
    later = china_ms("2026-09-28")
    county = issue(drill_gansu, request_for(node("620102")), NOW, drill_from_ms=later)
    assert (county.drill_from_ms, county.not_before_ms) == (later, later - MINUTE)

    with pytest.raises(PkiError, match="before the drill hierarchy's start, 2026-09-01 00:00"):
        issue(drill_gansu, request_for(node("620102")), NOW, drill_from_ms=SEPTEMBER - DAY)
    with pytest.raises(PkiError, match="before the drill hierarchy's start"):
        certify_province(drill_root, "430000", NOW, drill_from_ms=SEPTEMBER - DAY)
    with pytest.raises(PkiError, match="after the authority's end"):
        issue(drill_gansu, request_for(node("620102")), NOW, drill_from_ms=NOW + 400 * DAY)


def test_a_production_authority_takes_no_valid_from_date_and_issues_no_drill_certificate(
    root: Authority, gansu: Authority
) -> None:
    with pytest.raises(PkiError, match="for drill hierarchies only"):
        certify_province(root, "430000", NOW, drill_from_ms=SEPTEMBER)
    with pytest.raises(PkiError, match="for drill hierarchies only"):
        issue(gansu, request_for(node("620102")), NOW, drill_from_ms=SEPTEMBER)
    county = issue(gansu, request_for(node("620102")), NOW)
    assert not county.drill and county.drill_from_ms is None
    assert not is_drill(gansu.certificate) and not is_drill(root.certificate)
    assert county.not_before_ms == NOW - MINUTE  # dated when made, as always


def test_a_mark_whose_value_cannot_be_read_still_marks_a_drill_certificate(
    drill_root: Authority, drill_gansu: Authority
) -> None:
    identity = node("620102")
    garbled = x509.UnrecognizedExtension(DRILL_EXTENSION, b"\x04\x01x")
    cert = hand_made_node(drill_gansu, identity, mark=garbled)
    assert is_drill(cert)
    assert drill_from_ms(cert) == SEPTEMBER  # the certificate's own start
    store = TrustStore(drill_root.certificate)
    store.add_authority(drill_gansu.certificate)
    assert store.add_node(cert).drill


# -- drill and production never meet ---------------------------------------------------------------


def test_a_drill_hierarchy_s_nodes_count_each_other_on_the_drill_s_dates(
    drill_root: Authority, drill_gansu: Authority
) -> None:
    identity = node("620100")
    city = issue(drill_gansu, request_for(identity), NOW)
    store = TrustStore(drill_root.certificate)
    assert store.drill
    store.add_authority(drill_gansu.certificate)
    store.add_node(city.certificate)
    assert store.signer(identity.key_id, identity.node_id, "620100", DRILL_DAY).ok
    early = store.signer(identity.key_id, identity.node_id, "620100", SEPTEMBER - DAY)
    assert early.reason == "certificate not valid at that time"


def test_a_production_node_refuses_a_drill_authority_even_one_its_own_root_signed(
    root: Authority,
) -> None:
    store = TrustStore(root.certificate)
    assert not store.drill
    stray = hand_made_ca(root, "430000", drill=True)
    with pytest.raises(PkiError, match="drill hierarchy's, and this node is not a drill node"):
        store.add_authority(stray.certificate)
    assert store.authorities() == []
    # nor one of a drill hierarchy's own, as a peer's Hello may hand over
    other = certify_province(create_root(NOW, drill_from_ms=SEPTEMBER), "430000", NOW)
    assert store.add_any([other.certificate]) == [
        "the CA of 430000 is a drill hierarchy's, and this node is not a drill node "
        "(docs/drills.md)"
    ]
    assert store.authorities() == []


def test_a_production_node_refuses_a_drill_node_certificate_and_never_counts_it(
    root: Authority, gansu: Authority
) -> None:
    store = TrustStore(root.certificate)
    store.add_authority(gansu.certificate)
    identity = node("620102")
    stray = hand_made_node(gansu, identity, mark=drill_mark(SEPTEMBER))
    with pytest.raises(PkiError, match="drill hierarchy's, and this node is not a drill node"):
        store.add_node(stray)
    assert store.judge(NodeCertificate.read(stray), NOW) == (
        "a drill hierarchy's, and this node is not a drill node (docs/drills.md)"
    )
    assert not store.signer(identity.key_id, identity.node_id, "620102", NOW).ok


def test_a_drill_node_refuses_production_authorities_and_node_certificates(
    drill_root: Authority, drill_gansu: Authority
) -> None:
    store = TrustStore(drill_root.certificate)
    with pytest.raises(PkiError, match="not a drill hierarchy's, and this node is a drill node"):
        store.add_authority(hand_made_ca(drill_root, "430000", drill=False).certificate)
    store.add_authority(drill_gansu.certificate)
    identity = node("620102")
    unmarked = hand_made_node(drill_gansu, identity, mark=None)
    with pytest.raises(PkiError, match="not a drill hierarchy's, and this node is a drill node"):
        store.add_node(unmarked)
    assert "this node is a drill node" in store.judge(NodeCertificate.read(unmarked), DRILL_DAY)
    # the copy a writer job learns into keeps the rule
    assert store.copy().drill
