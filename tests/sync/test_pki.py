"""The trust hierarchy: who may certify whom, what a certificate says, revocation, key rotation.

Real keys and certificates throughout (ECDSA P-256 for TLS and the authorities, Ed25519 for the
event keys); times are fixed whole seconds, since X.509 dates have a resolution of one second.
"""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from core.units import UnitLevel, level_of
from node.app.levels import profile_of
from node.app.settings import NodeSettings
from node.app.wiring import build_node
from proto.hotline.v1 import pki_pb2
from sync.codec import enum_number
from sync.enrolment import bundle_pem, install_bundle, request_for
from sync.identity import Credentials, IdentityError, NodeIdentity, NotEnrolled
from sync.pki import (
    ANY_NODE_NAME,
    ENROL_CONTEXT,
    NODE_EXTENSION,
    Authority,
    NodeCertificate,
    PkiError,
    cert_pem,
    certify_province,
    create_root,
    dns_name,
    issue,
    may_certify,
    revocation_list,
    tls_public_der,
)
from sync.trust import TrustStore

NOW = 1_790_000_000_000
"""A fixed moment (2026-09-21), a whole second."""
HOUR = 3_600_000


@pytest.fixture(scope="module")
def root() -> Authority:
    return create_root(NOW)


@pytest.fixture(scope="module")
def gansu(root: Authority) -> Authority:
    return certify_province(root, "620000", NOW)


@pytest.fixture(scope="module")
def hunan(root: Authority) -> Authority:
    return certify_province(root, "430000", NOW)


def node(unit_code: str) -> NodeIdentity:
    return NodeIdentity.generate(unit_code, level_of(unit_code))


def enrolled(authority: Authority, unit_code: str) -> tuple[NodeIdentity, NodeCertificate]:
    identity = node(unit_code)
    return identity, issue(authority, request_for(identity), NOW)


def trust_of(root: Authority, *authorities: Authority) -> TrustStore:
    store = TrustStore(root.certificate)
    for authority in authorities:
        store.add_authority(authority.certificate)
    return store


def request_with(
    tls_key: ec.EllipticCurvePrivateKey, certified: pki_pb2.CertifiedNode
) -> x509.CertificateSigningRequest:
    """A request built as ``enrolment_request`` builds one, with whatever extension we like."""
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, certified.node_id)]))
        .add_extension(
            x509.UnrecognizedExtension(NODE_EXTENSION, certified.SerializeToString()),
            critical=False,
        )
        .sign(tls_key, hashes.SHA256())
    )


def hand_made(
    authority: Authority, tls_public: ec.EllipticCurvePublicKey, extension: bytes
) -> x509.Certificate:
    """A node certificate an authority signs outside ``issue`` (no checks at all)."""
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hand-made")]))
        .issuer_name(authority.certificate.subject)
        .public_key(tls_public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime.fromtimestamp(NOW / 1000 - 60, tz=dt.UTC))
        .not_valid_after(dt.datetime.fromtimestamp(NOW / 1000 + 86_400, tz=dt.UTC))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.UnrecognizedExtension(NODE_EXTENSION, extension), critical=False)
        .sign(authority.key, hashes.SHA256())
    )


# -- issuing -------------------------------------------------------------------------------------


def test_a_province_ca_enrols_its_own_county_and_the_certificate_names_node_unit_level_and_keys(
    gansu: Authority,
) -> None:
    identity = node("620102")
    cert = issue(gansu, request_for(identity), NOW, days=30)

    assert (cert.node_id, cert.unit_code, cert.level) == (
        identity.node_id,
        "620102",
        UnitLevel.COUNTY,
    )
    assert cert.event_public_key == identity.public.public_key
    assert cert.key_id == identity.key_id
    tls_public = cert.certificate.public_key()
    assert isinstance(tls_public, ec.EllipticCurvePublicKey)
    assert tls_public.public_numbers() == identity.tls_key.public_key().public_numbers()
    assert cert.certificate.issuer == gansu.certificate.subject
    cert.certificate.verify_directly_issued_by(gansu.certificate)
    assert cert.not_before_ms <= NOW < cert.not_after_ms
    assert cert.not_after_ms - NOW == 30 * 24 * HOUR
    san = cert.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    # Its unit's name (what a child and a signed-in tool check) and the one every node carries
    # (what a tool checks at its first sign-in, not knowing yet which unit answers).
    assert san.value.get_values_for_type(x509.DNSName) == [dns_name("620102"), ANY_NODE_NAME]
    constraints = cert.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.value.ca is False
    # the issued certificate carries no proof: only what a peer needs to check events
    raw = cert.certificate.extensions.get_extension_for_oid(NODE_EXTENSION).value
    assert isinstance(raw, x509.UnrecognizedExtension)
    assert pki_pb2.CertifiedNode.FromString(raw.value).event_key_proof == b""
    # and reading it back gives the same answer
    assert NodeCertificate.read(cert.certificate) == cert


@pytest.mark.parametrize("unit_code", ["620000", "620100", "620102", "620102001"])
def test_a_province_ca_enrols_every_level_of_its_own_province(
    root: Authority, gansu: Authority, unit_code: str
) -> None:
    identity, cert = enrolled(gansu, unit_code)
    assert (cert.unit_code, cert.level) == (unit_code, level_of(unit_code))
    store = trust_of(root, gansu)
    store.add_node(cert.certificate)
    assert store.judge(cert, NOW) == ""
    assert store.signer(identity.key_id, identity.node_id, unit_code, NOW).ok


def test_a_province_ca_cannot_certify_a_county_of_another_province(
    root: Authority, gansu: Authority, hunan: Authority
) -> None:
    for unit_code in ("430102", "430100", "430000", "430102001"):
        with pytest.raises(PkiError, match="cannot certify"):
            issue(gansu, request_for(node(unit_code)), NOW)
    with pytest.raises(PkiError, match="cannot certify"):
        issue(gansu, request_for(node("100000")), NOW)
    # and a certificate the CA signs anyway, outside `issue`, does not count where it is used
    stray = node("430102")
    certified = pki_pb2.CertifiedNode(
        node_id=stray.node_id,
        unit_code="430102",
        level=enum_number(UnitLevel.COUNTY),
        event_public_key=stray.public.public_key,
    )
    forged = hand_made(gansu, stray.tls_key.public_key(), certified.SerializeToString())
    store = trust_of(root, gansu, hunan)
    store.add_node(forged)
    verdict = store.signer(stray.key_id, stray.node_id, "430102", NOW)
    assert not verdict.ok
    assert "cannot certify 430102" in verdict.reason


def test_a_request_whose_level_does_not_fit_its_code_is_refused(gansu: Authority) -> None:
    liar = NodeIdentity.generate("620102", UnitLevel.CITY)
    with pytest.raises(PkiError, match="620102 is a county code, not city"):
        issue(gansu, request_for(liar), NOW)


def test_the_root_certifies_provinces_and_national_nodes_only(
    root: Authority, gansu: Authority
) -> None:
    national, cert = enrolled(root, "100000")
    assert (cert.node_id, cert.level) == (national.node_id, UnitLevel.NATIONAL)
    assert cert.certificate.issuer == root.certificate.subject
    assert gansu.chain == (root.certificate,)
    assert gansu.unit_code == "620000"
    assert gansu.certificate.issuer == root.certificate.subject

    for unit_code in ("620000", "620100", "620102", "620102001"):
        with pytest.raises(PkiError, match="national root certifies"):
            issue(root, request_for(node(unit_code)), NOW)
    for not_a_province in ("620100", "620102", "620102001", "100000"):
        with pytest.raises(PkiError, match="not a province code"):
            certify_province(root, not_a_province, NOW)
    with pytest.raises(PkiError, match="only the national root"):
        certify_province(gansu, "430000", NOW)
    assert may_certify("100000", "100000", UnitLevel.NATIONAL) is None
    assert may_certify("100000", "620102", UnitLevel.COUNTY) is not None


def test_a_request_whose_event_key_proof_is_forged_is_refused(gansu: Authority) -> None:
    identity = node("620102")
    tls_der = tls_public_der(identity.tls_key.public_key())
    forged = pki_pb2.CertifiedNode(
        node_id=identity.node_id,
        unit_code="620102",
        level=enum_number(UnitLevel.COUNTY),
        event_public_key=identity.public.public_key,
        event_key_proof=Ed25519PrivateKey.generate().sign(ENROL_CONTEXT + tls_der),
    )
    with pytest.raises(PkiError, match="event key's proof does not verify"):
        issue(gansu, request_with(identity.tls_key, forged), NOW)

    # a genuine proof lifted from another request does not fit a different TLS key either
    replayed = pki_pb2.CertifiedNode(
        node_id=identity.node_id,
        unit_code="620102",
        level=enum_number(UnitLevel.COUNTY),
        event_public_key=identity.public.public_key,
        event_key_proof=identity.sign(ENROL_CONTEXT + tls_der),
    )
    other_tls = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(PkiError, match="event key's proof does not verify"):
        issue(gansu, request_with(other_tls, replayed), NOW)
    # while the same proof with its own TLS key is accepted (the construction is right)
    assert issue(gansu, request_with(identity.tls_key, replayed), NOW).key_id == identity.key_id


def test_a_request_without_a_node_extension_is_refused(gansu: Authority) -> None:
    tls_key = ec.generate_private_key(ec.SECP256R1())
    bare = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .sign(tls_key, hashes.SHA256())
    )
    with pytest.raises(PkiError, match="CertifiedNode extension missing"):
        issue(gansu, bare, NOW)


# -- trusting ------------------------------------------------------------------------------------


def test_a_ca_signed_by_a_foreign_root_is_not_trusted(root: Authority, gansu: Authority) -> None:
    foreign_root = create_root(NOW)
    foreign_ca = certify_province(foreign_root, "620000", NOW)
    # Same common names as the real ones; each authority's name also carries its own serial.

    store = TrustStore(root.certificate)
    with pytest.raises(PkiError, match="not certified by the national root"):
        store.add_authority(foreign_ca.certificate)
    _, impostor = enrolled(foreign_ca, "620102")
    with pytest.raises(PkiError, match="unknown authority"):
        store.add_node(impostor.certificate)

    store.add_authority(gansu.certificate)
    with pytest.raises(PkiError, match=r"unknown authority|does not verify"):
        store.add_node(impostor.certificate)
    assert store.add_any([foreign_ca.certificate, impostor.certificate]) != []
    assert store.node_certificates() == []
    assert store.authorities() == [gansu.certificate]
    # a revocation list the foreign CA signs in the real CA's name is refused too
    with pytest.raises(PkiError, match=r"unknown authority|signature does not verify"):
        store.add_revocations(revocation_list(foreign_ca, {1: NOW}, NOW))


def test_the_trust_anchor_must_be_the_self_signed_root(gansu: Authority) -> None:
    with pytest.raises(PkiError, match="self-signed national root"):
        TrustStore(gansu.certificate)


def test_add_any_learns_authorities_before_the_nodes_they_certified(
    root: Authority, gansu: Authority
) -> None:
    identity, cert = enrolled(gansu, "620102")
    store = TrustStore(root.certificate)
    problems = store.add_any([cert.certificate, gansu.certificate, root.certificate])
    assert problems == []
    assert store.signer(identity.key_id, identity.node_id, "620102", NOW).ok
    wrong_unit = store.signer(identity.key_id, identity.node_id, "620103", NOW)
    assert not wrong_unit.ok and "not 620103" in wrong_unit.reason


def test_a_signer_counts_only_inside_its_certificates_validity(
    root: Authority, gansu: Authority
) -> None:
    identity = node("620102")
    cert = issue(gansu, request_for(identity), NOW, days=1)
    store = trust_of(root, gansu)
    store.add_node(cert.certificate)
    assert store.signer(identity.key_id, identity.node_id, "620102", cert.not_after_ms).ok
    late = store.signer(identity.key_id, identity.node_id, "620102", cert.not_after_ms + 1)
    assert "not valid at that time" in late.reason
    early = store.signer(identity.key_id, identity.node_id, "620102", cert.not_before_ms - 1)
    assert "not valid at that time" in early.reason


# -- revoking ------------------------------------------------------------------------------------


def test_revocation_counts_from_its_date(root: Authority, gansu: Authority) -> None:
    identity, cert = enrolled(gansu, "620102001")
    store = trust_of(root, gansu)
    store.add_node(cert.certificate)
    revoked_from = NOW + 2 * HOUR
    assert store.add_revocations(revocation_list(gansu, {cert.serial: revoked_from}, NOW + HOUR))

    assert store.revoked_at(cert.certificate) == revoked_from

    def verdict(at_ms: int) -> str:
        v = store.signer(identity.key_id, identity.node_id, "620102001", at_ms)
        return "ok" if v.ok else v.reason

    assert verdict(NOW) == "ok"
    assert verdict(revoked_from - 1) == "ok"
    assert "revoked" in verdict(revoked_from)
    assert "revoked" in verdict(revoked_from + HOUR)


def test_a_revoked_province_ca_takes_its_nodes_down_with_it(
    root: Authority, hunan: Authority
) -> None:
    county, county_cert = enrolled(hunan, "430102")
    station, station_cert = enrolled(hunan, "430102001")
    national, national_cert = enrolled(root, "100000")
    store = trust_of(root, hunan)
    for cert in (county_cert, station_cert, national_cert):
        store.add_node(cert.certificate)
    revoked_from = NOW + HOUR
    crl = revocation_list(root, {hunan.certificate.serial_number: revoked_from}, NOW + HOUR)
    assert store.add_revocations(crl)

    for identity, unit in ((county, "430102"), (station, "430102001")):
        assert store.signer(identity.key_id, identity.node_id, unit, revoked_from - 1).ok
        after = store.signer(identity.key_id, identity.node_id, unit, revoked_from + 1)
        assert not after.ok and "revoked" in after.reason
    # the root's own national node is not touched by revoking a province
    assert store.signer(national.key_id, national.node_id, "100000", revoked_from + 1).ok


def test_an_older_revocation_list_does_not_replace_a_newer_one(
    root: Authority, gansu: Authority
) -> None:
    _, first = enrolled(gansu, "620102")
    _, second = enrolled(gansu, "620103")
    older = revocation_list(gansu, {first.serial: NOW}, NOW + HOUR)
    newer = revocation_list(gansu, {second.serial: NOW + HOUR}, NOW + 2 * HOUR, previous=older)
    assert {r.serial_number for r in newer} == {first.serial, second.serial}

    store = trust_of(root, gansu)
    assert store.add_revocations(newer)
    assert not store.add_revocations(older)
    assert not store.add_revocations(newer)  # the same one again changes nothing
    assert store.revocation_lists() == [newer]
    assert store.revoked_at(second.certificate) == NOW + HOUR
    assert store.revoked_at(first.certificate) == NOW

    # learnt the other way round, the newer one replaces the older
    other = trust_of(root, gansu)
    assert other.add_revocations(older)
    assert other.revoked_at(second.certificate) is None
    assert other.add_revocations(newer)
    assert other.revoked_at(second.certificate) == NOW + HOUR


def test_a_revocation_list_from_an_unknown_authority_is_refused(
    root: Authority, hunan: Authority
) -> None:
    with pytest.raises(PkiError, match="unknown authority"):
        TrustStore(root.certificate).add_revocations(revocation_list(hunan, {1: NOW}, NOW))


def test_a_replacement_province_ca_does_not_revive_the_nodes_of_the_revoked_one(
    root: Authority,
) -> None:
    compromised = certify_province(root, "620000", NOW)
    identity, cert = enrolled(compromised, "620102")
    store = trust_of(root, compromised)
    store.add_node(cert.certificate)
    revoked_from = NOW + HOUR
    store.add_revocations(
        revocation_list(root, {compromised.certificate.serial_number: revoked_from}, NOW + HOUR)
    )
    assert not store.signer(identity.key_id, identity.node_id, "620102", revoked_from + 1).ok

    replacement = certify_province(root, "620000", NOW + HOUR)
    store.add_authority(replacement.certificate)

    verdict = store.signer(identity.key_id, identity.node_id, "620102", revoked_from + 1)
    assert not verdict.ok, "a node of the revoked CA counts again after its replacement"


def test_a_newer_revocation_list_made_within_the_same_second_replaces_the_older(
    root: Authority, gansu: Authority
) -> None:
    _, first = enrolled(gansu, "620102")
    _, second = enrolled(gansu, "620103")
    older = revocation_list(gansu, {first.serial: NOW}, NOW + 100)
    newer = revocation_list(gansu, {second.serial: NOW}, NOW + 700, previous=older)
    store = trust_of(root, gansu)
    store.add_revocations(older)
    store.add_revocations(newer)
    assert store.revoked_at(second.certificate) == NOW


@pytest.mark.parametrize(
    "extension",
    [
        pytest.param(b"\xff\xff\xff", id="not-protobuf"),
        pytest.param(
            pki_pb2.CertifiedNode(
                node_id="620102-000000", unit_code="620102", event_public_key=b"k" * 32
            ).SerializeToString(),
            id="level-unset",
        ),
    ],
)
def test_a_certificate_with_a_malformed_node_extension_is_refused_as_a_pki_error(
    root: Authority, gansu: Authority, extension: bytes
) -> None:
    tls_key = ec.generate_private_key(ec.SECP256R1())
    broken = hand_made(gansu, tls_key.public_key(), extension)
    store = trust_of(root, gansu)
    problems = store.add_any([broken])
    assert len(problems) == 1
    with pytest.raises(PkiError):
        store.add_node(broken)


@pytest.mark.parametrize("code", ["6200000", "ab0000", "0000"])
def test_a_malformed_province_code_gets_no_ca(root: Authority, code: str) -> None:
    with pytest.raises(PkiError):
        certify_province(root, code, NOW)


# -- a node's identity on disk -------------------------------------------------------------------


def test_a_certificate_for_another_key_is_refused_on_install(
    tmp_path: Path, gansu: Authority
) -> None:
    identity = NodeIdentity.load_or_create(tmp_path, "620102", UnitLevel.COUNTY)
    before = sorted(p.name for p in tmp_path.iterdir())

    _, someone_else = enrolled(gansu, "620102")
    with pytest.raises(IdentityError, match="the certificate is for"):
        install_bundle(identity, tmp_path, bundle_pem(gansu, someone_else))

    # same node id, but another event key (its TLS key is the node's own)
    other_event = NodeIdentity(
        identity.node_id,
        "620102",
        UnitLevel.COUNTY,
        Ed25519PrivateKey.generate(),
        identity.tls_key,
    )
    cert = issue(gansu, request_for(other_event), NOW)
    with pytest.raises(IdentityError, match="another event key"):
        install_bundle(identity, tmp_path, bundle_pem(gansu, cert))

    # same node id and event key, but another TLS key
    other_tls = NodeIdentity(identity.node_id, "620102", UnitLevel.COUNTY, identity.event_key)
    cert = issue(gansu, request_for(other_tls), NOW)
    with pytest.raises(IdentityError, match="another TLS key"):
        install_bundle(identity, tmp_path, bundle_pem(gansu, cert))

    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert identity.credentials is None
    assert NodeIdentity.load_or_create(tmp_path, "620102", UnitLevel.COUNTY).credentials is None

    # its own certificate installs, and is there after a restart
    own = issue(gansu, request_for(identity), NOW)
    install_bundle(identity, tmp_path, bundle_pem(gansu, own))
    again = NodeIdentity.load_or_create(tmp_path, "620102", UnitLevel.COUNTY)
    assert again.credentials is not None
    assert again.credentials.certificate.serial == own.serial
    assert again.credentials.chain == (gansu.certificate,)
    assert again.credentials.root == gansu.root


def test_a_certificate_swapped_on_disk_is_refused_at_start(
    tmp_path: Path, gansu: Authority
) -> None:
    identity = NodeIdentity.load_or_create(tmp_path, "620102", UnitLevel.COUNTY)
    install_bundle(identity, tmp_path, bundle_pem(gansu, issue(gansu, request_for(identity), NOW)))
    _, someone_else = enrolled(gansu, "620102")
    (tmp_path / "node.crt").write_bytes(cert_pem(someone_else.certificate))
    with pytest.raises(IdentityError, match="the certificate is for"):
        NodeIdentity.load_or_create(tmp_path, "620102", UnitLevel.COUNTY)


def test_rotation_keeps_the_node_id_and_sets_the_old_keys_aside(
    tmp_path: Path, root: Authority, gansu: Authority
) -> None:
    old = NodeIdentity.load_or_create(tmp_path, "620102001", UnitLevel.STATION)
    old_bundle = bundle_pem(gansu, issue(gansu, request_for(old), NOW))
    install_bundle(old, tmp_path, old_bundle)
    assert old.credentials is not None
    old_credentials: Credentials = old.credentials
    old_files = {name: (tmp_path / name).read_bytes() for name in ("node.key", "tls.key")}
    old_cert = (tmp_path / "node.crt").read_bytes()

    fresh = NodeIdentity.rotate(tmp_path)

    assert fresh.node_id == old.node_id
    assert (fresh.unit_code, fresh.level) == ("620102001", UnitLevel.STATION)
    assert fresh.key_id != old.key_id
    assert fresh.tls_key.public_key().public_numbers() != old.tls_key.public_key().public_numbers()
    assert fresh.credentials is None
    suffix = f".old-{old.key_id[:12]}"
    for name, data in old_files.items():
        assert (tmp_path / (name + suffix)).read_bytes() == data
        assert stat.S_IMODE((tmp_path / (name + suffix)).stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
        assert (tmp_path / name).read_bytes() != data
    assert (tmp_path / ("node.crt" + suffix)).read_bytes() == old_cert
    assert not (tmp_path / "node.crt").exists()

    reloaded = NodeIdentity.load_or_create(tmp_path, "620102001", UnitLevel.STATION)
    assert (reloaded.node_id, reloaded.key_id) == (old.node_id, fresh.key_id)
    assert reloaded.credentials is None

    # the old certificate no longer matches the node's keys
    with pytest.raises(IdentityError, match="another event key"):
        reloaded.check_credentials(old_credentials)
    with pytest.raises(IdentityError):
        install_bundle(reloaded, tmp_path, old_bundle)
    assert not (tmp_path / "node.crt").exists()

    # a certificate for the new keys installs
    new_cert = issue(gansu, request_for(reloaded), NOW + HOUR)
    install_bundle(reloaded, tmp_path, bundle_pem(gansu, new_cert))
    enrolled_again = NodeIdentity.load_or_create(tmp_path, "620102001", UnitLevel.STATION)
    assert enrolled_again.credentials is not None
    assert enrolled_again.credentials.certificate.key_id == fresh.key_id
    assert enrolled_again.credentials.certificate.node_id == old.node_id
    assert new_cert.key_id != old_credentials.certificate.key_id
    assert new_cert.serial != old_credentials.certificate.serial

    # both keys count for the same node: the old one for what it signed before
    store = trust_of(root, gansu)
    store.add_node(old_credentials.certificate.certificate)
    store.add_node(new_cert.certificate)
    assert store.signer(old.key_id, old.node_id, "620102001", NOW).ok
    assert store.signer(fresh.key_id, old.node_id, "620102001", NOW + HOUR).ok


def test_keys_are_written_with_mode_0600(tmp_path: Path, root: Authority) -> None:
    NodeIdentity.load_or_create(tmp_path / "node", "620102", UnitLevel.COUNTY)
    root.save(tmp_path / "root")
    certify_province(root, "620000", NOW).save(tmp_path / "ca")
    for key in (
        tmp_path / "node" / "node.key",
        tmp_path / "node" / "tls.key",
        tmp_path / "root" / "ca.key",
        tmp_path / "ca" / "ca.key",
    ):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    # and a key made readable by others is refused
    (tmp_path / "node" / "tls.key").chmod(0o640)
    with pytest.raises(IdentityError, match="chmod 600"):
        NodeIdentity.load_or_create(tmp_path / "node", "620102", UnitLevel.COUNTY)


def test_an_authority_reads_back_what_it_saved(tmp_path: Path, root: Authority) -> None:
    ca = certify_province(root, "430000", NOW)
    ca.save(tmp_path / "ca")
    root.save(tmp_path / "root")
    loaded = Authority.load(tmp_path / "ca")
    assert loaded.certificate == ca.certificate
    assert loaded.chain == (root.certificate,)
    assert loaded.unit_code == "430000"
    assert loaded.key.private_numbers() == ca.key.private_numbers()
    assert Authority.load(tmp_path / "root").chain == ()
    with pytest.raises(PkiError, match="cannot read the authority"):
        Authority.load(tmp_path / "nowhere")
    (tmp_path / "ed").mkdir()
    (tmp_path / "ed" / "ca.key").write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "ed" / "ca.pem").write_bytes(cert_pem(root.certificate))
    with pytest.raises(PkiError, match="not an ECDSA key"):
        Authority.load(tmp_path / "ed")


def test_a_node_without_a_certificate_is_not_enrolled(tmp_path: Path) -> None:
    settings = NodeSettings(
        level=UnitLevel.COUNTY,
        unit="620102",
        data_dir=tmp_path / "county",
        db=f"sqlite:///{tmp_path / 'county.sqlite'}",
        parent="127.0.0.1:9",
    )
    with pytest.raises(NotEnrolled, match="no certificate yet") as caught:
        build_node(settings, profile_of(UnitLevel.COUNTY))
    assert "hotline pki request" in str(caught.value)
    assert not (tmp_path / "county.sqlite").exists()  # refused before opening the database
