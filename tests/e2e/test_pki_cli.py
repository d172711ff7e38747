"""`hotline pki`: the steps an administrator follows, and one-line refusals that change nothing.

Everything runs in-process through ``node.cli.main.main`` (which returns the exit status), on
folders under ``tmp_path``; the keys and certificates are real.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core.units import UnitLevel
from node.cli.main import main
from sync.identity import NodeIdentity
from sync.pki import NODE_EXTENSION, Authority, NodeCertificate


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` and its content (to show that a refusal wrote nothing)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run ``hotline argv``, expecting exit 2 and one line on stderr; returns that line."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert status == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hotline: "), err
    assert "Traceback" not in err
    return lines[0]


def ok(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run ``hotline argv``, expecting exit 0; returns what it printed."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert status == 0, (out, err)
    return out


class Pki:
    """The folders of one test: the root's, Gansu's CA and nodes' data folders."""

    def __init__(self, base: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.base = base
        self.capsys = capsys
        self.root = base / "root"
        self.ca = base / "ca-620000"
        ok(capsys, "pki", "init-root", "--dir", str(self.root))
        ok(
            capsys,
            "pki",
            "init-ca",
            "--root",
            str(self.root),
            "--province",
            "620000",
            "--dir",
            str(self.ca),
        )

    def request(self, name: str, unit: str) -> tuple[Path, Path]:
        data_dir = self.base / name
        req = self.base / f"{name}.req.pem"
        ok(
            self.capsys,
            "pki",
            "request",
            "--data-dir",
            str(data_dir),
            "--unit",
            unit,
            "--out",
            str(req),
        )
        return data_dir, req

    def issue(self, req: Path, name: str) -> Path:
        bundle = self.base / f"{name}.bundle.pem"
        ok(
            self.capsys,
            "pki",
            "issue",
            "--ca",
            str(self.ca),
            "--request",
            str(req),
            "--out",
            str(bundle),
        )
        return bundle

    def install(self, data_dir: Path, unit: str, bundle: Path) -> str:
        return ok(
            self.capsys,
            "pki",
            "install",
            "--data-dir",
            str(data_dir),
            "--unit",
            unit,
            "--bundle",
            str(bundle),
        )

    def enrol(self, name: str, unit: str) -> Path:
        data_dir, req = self.request(name, unit)
        self.install(data_dir, unit, self.issue(req, name))
        return data_dir


@pytest.fixture
def pki(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Pki:
    return Pki(tmp_path, capsys)


def test_an_administrator_enrols_a_county_shows_it_and_revokes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root_dir, ca_dir, county = tmp_path / "root", tmp_path / "ca", tmp_path / "county"
    req, bundle = tmp_path / "req.pem", tmp_path / "bundle.pem"

    out = ok(capsys, "pki", "init-root", "--dir", str(root_dir))
    assert "national root created" in out
    assert {"ca.key", "ca.pem", "chain.pem"} <= set(files_under(root_dir))

    out = ok(
        capsys,
        "pki",
        "init-ca",
        "--root",
        str(root_dir),
        "--province",
        "620000",
        "--dir",
        str(ca_dir),
    )
    assert "CA of 620000" in out
    ca = Authority.load(ca_dir)
    assert ca.unit_code == "620000"
    assert ca.chain == (Authority.load(root_dir).certificate,)

    out = ok(
        capsys, "pki", "request", "--data-dir", str(county), "--unit", "620102", "--out", str(req)
    )
    identity = NodeIdentity.load_or_create(county, "620102", UnitLevel.COUNTY)
    assert identity.node_id in out
    assert identity.credentials is None
    assert x509.load_pem_x509_csr(req.read_bytes()).is_signature_valid

    out = ok(
        capsys, "pki", "issue", "--ca", str(ca_dir), "--request", str(req), "--out", str(bundle)
    )
    issued = x509.load_pem_x509_certificates(bundle.read_bytes())
    assert [c.subject for c in issued[1:]] == [ca.certificate.subject, ca.root.subject]
    node = NodeCertificate.read(issued[0])
    assert (node.node_id, node.unit_code, node.level) == (
        identity.node_id,
        "620102",
        UnitLevel.COUNTY,
    )
    assert f"certificate {node.serial:x}" in out

    out = ok(
        capsys,
        "pki",
        "install",
        "--data-dir",
        str(county),
        "--unit",
        "620102",
        "--bundle",
        str(bundle),
    )
    assert f"node {identity.node_id} enrolled" in out
    assert {"node.crt", "chain.pem", "root.pem"} <= set(files_under(county))

    out = ok(capsys, "pki", "show", "--data-dir", str(county), "--unit", "620102")
    assert identity.node_id in out
    assert f"certificate {node.serial:x}" in out
    assert "not enrolled" not in out
    assert f"national root (this node's copy): {county / 'root.pem'}" in out
    assert "+08:00" in out  # valid until, in China time

    out = ok(
        capsys,
        "pki",
        "revoke",
        "--ca",
        str(ca_dir),
        "--cert",
        str(county / "node.crt"),
        "--at",
        "2026-11-23T09:00:00+08:00",
    )
    assert f"certificate {node.serial:x} revoked from 2026-11-23 09:00:00 +08:00" in out
    crl = x509.load_pem_x509_crl((ca_dir / "crl.pem").read_bytes())
    assert crl.is_signature_valid(ca.certificate.public_key())  # type: ignore[arg-type]
    entry = crl.get_revoked_certificate_by_serial_number(node.serial)
    assert entry is not None
    assert entry.revocation_date_utc == dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)

    # a second revocation, by serial, keeps the first one in the list
    ok(capsys, "pki", "revoke", "--ca", str(ca_dir), "--serial", "abc123")
    crl = x509.load_pem_x509_crl((ca_dir / "crl.pem").read_bytes())
    assert {r.serial_number for r in crl} == {node.serial, 0xABC123}


def test_show_of_a_node_not_yet_enrolled_says_so_with_exit_1(
    pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, _ = pki.request("station", "620102001")
    status = main(["pki", "show", "--data-dir", str(data_dir), "--unit", "620102001"])
    assert status == 1
    assert "not enrolled" in capsys.readouterr().out


def test_rotate_writes_a_request_for_new_keys_of_the_same_node(
    pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    county = pki.enrol("county", "620102")
    before = NodeIdentity.load_or_create(county, "620102", UnitLevel.COUNTY)
    req = pki.base / "rotated.req.pem"
    out = ok(
        capsys, "pki", "rotate", "--data-dir", str(county), "--unit", "620102", "--out", str(req)
    )
    assert "set aside" in out
    after = NodeIdentity.load_or_create(county, "620102", UnitLevel.COUNTY)
    assert after.node_id == before.node_id and after.key_id != before.key_id
    assert after.credentials is None
    status = main(["pki", "show", "--data-dir", str(county), "--unit", "620102"])
    capsys.readouterr()
    assert status == 1

    pki.install(county, "620102", pki.issue(req, "rotated"))
    out = ok(capsys, "pki", "show", "--data-dir", str(county), "--unit", "620102")
    assert before.node_id in out and after.key_id[:16] in out


# -- refusals: exit 2, one line, nothing written ------------------------------------------------


def test_init_ca_for_a_code_that_is_not_a_province_is_refused(
    pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    before = files_under(pki.base)
    for code in ("620100", "620102", "100000"):
        reason = refused(
            capsys,
            "pki",
            "init-ca",
            "--root",
            str(pki.root),
            "--province",
            code,
            "--dir",
            str(pki.base / f"ca-{code}"),
        )
        assert f"{code} is not a province code" in reason
    assert files_under(pki.base) == before


def test_init_ca_with_a_province_ca_as_root_is_refused(
    pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    before = files_under(pki.base)
    reason = refused(
        capsys,
        "pki",
        "init-ca",
        "--root",
        str(pki.ca),
        "--province",
        "430000",
        "--dir",
        str(pki.base / "ca-430000"),
    )
    assert "only the national root" in reason
    assert files_under(pki.base) == before


def test_a_province_ca_refuses_a_request_from_another_province(
    pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    _, req = pki.request("hunan-county", "430102")
    before = files_under(pki.base)
    out = pki.base / "hunan.bundle.pem"
    reason = refused(
        capsys, "pki", "issue", "--ca", str(pki.ca), "--request", str(req), "--out", str(out)
    )
    assert "cannot certify 430102" in reason
    assert files_under(pki.base) == before


def test_a_bundle_issued_for_another_node_is_not_installed(
    pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    mine, _ = pki.request("mine", "620102")
    _, theirs_req = pki.request("theirs", "620102")
    theirs_bundle = pki.issue(theirs_req, "theirs")
    before = files_under(pki.base)
    reason = refused(
        capsys,
        "pki",
        "install",
        "--data-dir",
        str(mine),
        "--unit",
        "620102",
        "--bundle",
        str(theirs_bundle),
    )
    assert "the certificate is for" in reason
    assert files_under(pki.base) == before
    assert not (mine / "node.crt").exists()


def test_init_root_into_a_folder_that_holds_an_authority_is_refused(
    pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    before = files_under(pki.base)
    for folder in (pki.ca, pki.root):
        reason = refused(capsys, "pki", "init-root", "--dir", str(folder))
        assert "already holds an authority" in reason
    reason = refused(
        capsys,
        "pki",
        "init-ca",
        "--root",
        str(pki.root),
        "--province",
        "620000",
        "--dir",
        str(pki.ca),
    )
    assert "already holds an authority" in reason
    assert files_under(pki.base) == before


def test_revoke_at_a_time_without_a_zone_is_refused(
    pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    county = pki.enrol("county", "620102")
    before = files_under(pki.base)
    reason = refused(
        capsys,
        "pki",
        "revoke",
        "--ca",
        str(pki.ca),
        "--cert",
        str(county / "node.crt"),
        "--at",
        "2026-11-23T09:00:00",
    )
    assert "time zone" in reason
    revoke = ["pki", "revoke", "--ca", str(pki.ca)]
    refused(capsys, *revoke, "--cert", str(county / "node.crt"), "--at", "yesterday")
    refused(capsys, *revoke, "--serial", "not-hex")
    assert "--cert FILE or --serial HEX" in refused(capsys, *revoke)
    assert files_under(pki.base) == before
    assert not (pki.ca / "crl.pem").exists()


def test_serve_refuses_a_node_that_is_not_enrolled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "county"
    reason = refused(
        capsys,
        "serve",
        "--level",
        "county",
        "--unit",
        "620102",
        "--parent",
        "127.0.0.1:9",
        "--data-dir",
        str(data_dir),
    )
    assert "enrol" in reason
    assert "no certificate" in reason
    assert not (data_dir / "node.db").exists()


def test_issue_of_a_request_with_a_malformed_node_extension_exits_2(
    pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    tls_key = ec.generate_private_key(ec.SECP256R1())
    broken = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "620102-000000")]))
        .add_extension(x509.UnrecognizedExtension(NODE_EXTENSION, b"\xff\xff\xff"), critical=False)
        .sign(tls_key, hashes.SHA256())
    )
    req = pki.base / "broken.req.pem"
    req.write_bytes(broken.public_bytes(serialization.Encoding.PEM))
    out = pki.base / "broken.bundle.pem"
    refused(capsys, "pki", "issue", "--ca", str(pki.ca), "--request", str(req), "--out", str(out))
    assert not out.exists()


@pytest.mark.parametrize("command", ["show", "install", "rotate"])
def test_a_mistyped_data_folder_creates_no_node(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    missing = tmp_path / "chengguam"
    extra = {"install": ["--bundle", str(tmp_path / "b.pem")], "rotate": ["--out", "r.pem"]}
    reason = refused(
        capsys, "pki", command, "--data-dir", str(missing), "--unit", "620102",
        *extra.get(command, []),
    )  # fmt: skip
    assert "no node in" in reason
    assert not missing.exists()


HOLD = """
import sys
from pathlib import Path
from node.app.data_folder import hold_data_folder
lock = hold_data_folder(Path(sys.argv[1]))
print("held", flush=True)
sys.stdin.read()
"""


def test_a_pki_step_on_a_folder_another_process_holds_is_refused_and_writes_nothing(
    pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, req = pki.request("county", "620102")
    bundle = pki.issue(req, "county")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        before = files_under(pki.base)
        for argv in (
            ["install", "--bundle", str(bundle)],
            ["rotate", "--out", str(pki.base / "rotated.csr")],
            ["request", "--out", str(pki.base / "again.csr")],
        ):
            reason = refused(
                capsys, "pki", argv[0], "--data-dir", str(data_dir), "--unit", "620102", *argv[1:]
            )
            assert f"the data folder {data_dir} is in use by process {holder.pid}" in reason
        assert files_under(pki.base) == before
    finally:
        holder.communicate("")
    assert "enrolled" in pki.install(data_dir, "620102", bundle)
