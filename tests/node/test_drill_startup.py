"""A node signs only where its certificate holds: start-up refusals, and `hotline pki` drills.

A province whose clock reads a day its certificate does not cover used to start, register
tickets and sign their events, which no other node would ever count (the signer's certificate
was not valid at their time); only `hotline sync status` told, as a PERMISSION_DENIED. Now
``build_node`` refuses before it opens the database, in one line naming the certificate's
validity and the clock's time. A drill hierarchy's certificate serves only on a drill clock
(docs/drills.md). The nodes are built in-process; the keys and certificates are real.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import replace
from pathlib import Path

import pytest

from core.deadlines.china_time import CHINA_TZ
from core.units import UnitLevel
from node.app.clock import Clock
from node.app.levels import profile_of
from node.app.runtime import Node
from node.app.settings import NodeSettings
from node.app.wiring import build_node
from node.cli.main import main
from node.devnet.hierarchy import Hierarchy
from sync.identity import CertificateNotUsable, NodeIdentity
from tests.helpers.clock import HandMovedTime, china

DECEMBER = china("2026-12-03", 10)
"""The day the certificates are made (what `hotline pki` dates them from)."""
DRILL_START = "2026-09-30T10:00+08:00"
"""A drill clock's start, two months before the certificates were made."""


def ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def county_settings(tmp_path: Path, **clock: str | float) -> NodeSettings:
    return NodeSettings(
        level=UnitLevel.COUNTY,
        unit="620102",
        data_dir=tmp_path / "county",
        db=f"sqlite:///{tmp_path / 'county.sqlite'}",
        parent="127.0.0.1:9",
        **clock,  # type: ignore[arg-type]
    )


def on(moment: dt.datetime) -> Clock:
    """A clock the test holds at ``moment``."""
    return Clock(_real=HandMovedTime(moment))


def close(node: Node) -> None:
    """Release what ``build_node`` opened (the node was never started)."""
    node.verifier.close()
    node.blocking.close()
    node.db.close()


def enrolled(tmp_path: Path, hierarchy: Hierarchy) -> NodeIdentity:
    return hierarchy.enrol(tmp_path / "county", "620102", ms(DECEMBER))


def test_a_node_whose_clock_is_before_its_certificate_refuses_to_start_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """The drill of the issue: certificates made on 12-03 by `hotline pki`, a clock on 09-30."""
    enrolled(tmp_path, Hierarchy.open(tmp_path / "pki", ms(DECEMBER)))
    settings = county_settings(tmp_path, clock_start=DRILL_START, clock_speed=86_400)

    with pytest.raises(CertificateNotUsable) as refused:
        build_node(settings, profile_of(UnitLevel.COUNTY), clock=on(china("2026-09-30", 10)))

    assert str(refused.value) == (
        "the node's certificate is valid from 2026-12-03 09:59 +08:00 to 2027-12-03 10:00 "
        "+08:00, not at 2026-09-30 10:00 +08:00 on the node's clock: a drill dated before the "
        "certificates needs a drill hierarchy valid from the drill's start (hotline pki "
        "init-root --drill --valid-from DATE, docs/drills.md)"
    )
    assert not (tmp_path / "county.sqlite").exists()  # refused before opening the database


def test_a_node_past_its_certificate_s_end_refuses_to_start(tmp_path: Path) -> None:
    enrolled(tmp_path, Hierarchy.open(tmp_path / "pki", ms(DECEMBER)))
    with pytest.raises(CertificateNotUsable, match=r"not at 2028-01-05 09:00 .*enrol the node"):
        build_node(
            county_settings(tmp_path),
            profile_of(UnitLevel.COUNTY),
            clock=on(china("2028-01-05")),
        )


def test_a_node_is_refused_when_its_authority_s_certificate_does_not_hold_on_its_clock(
    tmp_path: Path,
) -> None:
    """A node certificate made for longer than its CA lasts: past the CA's end it is refused."""
    hierarchy = Hierarchy.open(tmp_path / "pki", ms(DECEMBER))
    hierarchy.authority_for("620102", ms(DECEMBER))  # Gansu's CA lasts 1825 days,
    hierarchy.validity_days = 3000  # the node's certificate longer
    enrolled(tmp_path, hierarchy)
    with pytest.raises(CertificateNotUsable, match="its authority's certificate is valid from"):
        build_node(
            county_settings(tmp_path),
            profile_of(UnitLevel.COUNTY),
            clock=on(china("2032-01-05")),
        )


def test_a_drill_certificate_serves_only_on_a_drill_clock(tmp_path: Path) -> None:
    drill = Hierarchy.drill(tmp_path / "pki", ms(china("2026-09-01", 0)), ms(DECEMBER))
    enrolled(tmp_path, drill)

    with pytest.raises(CertificateNotUsable) as refused:
        build_node(
            county_settings(tmp_path),
            profile_of(UnitLevel.COUNTY),
            clock=on(china("2026-09-30", 10)),
        )
    assert str(refused.value) == (
        "the node's certificate is a drill hierarchy's (valid from 2026-09-01 00:00 +08:00): it "
        "serves only on a drill clock (--clock-start, --clock-speed or --clock-offset, "
        "docs/drills.md)"
    )
    assert not (tmp_path / "county.sqlite").exists()

    for flag in ({"clock_start": DRILL_START}, {"clock_speed": 86_400}, {"clock_offset": -1e6}):
        node = build_node(
            county_settings(tmp_path, **flag),
            profile_of(UnitLevel.COUNTY),
            clock=on(china("2026-09-30", 10)),
        )
        assert node.trust.drill
        close(node)


def test_a_certificate_and_a_root_of_different_kinds_are_refused_at_start(
    tmp_path: Path,
) -> None:
    """A node's certificate and root of different kinds (a drill CA hand-made under the
    production root, say) would make its own trust store refuse its certificate."""
    identity = enrolled(tmp_path, Hierarchy.open(tmp_path / "pki", ms(DECEMBER)))
    drill = Hierarchy.drill(tmp_path / "drill-pki", ms(china("2026-09-01", 0)), ms(DECEMBER))
    other = drill.enrol(tmp_path / "other", "620102", ms(DECEMBER))
    assert identity.credentials is not None and other.credentials is not None
    mixed = replace(identity.credentials, certificate=other.credentials.certificate)
    with pytest.raises(CertificateNotUsable, match="are not of one kind"):
        mixed.check_usable(ms(china("2026-09-30", 10)), drill_clock=True)


def test_a_test_certificate_on_a_drill_clock_starts_and_says_what_it_signs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The end-to-end drills run the test hierarchy (not a drill one) on drill clocks."""
    enrolled(tmp_path, Hierarchy.throwaway(tmp_path / "pki"))
    with caplog.at_level(logging.WARNING):
        node = build_node(
            county_settings(tmp_path, clock_start="2026-12-01T10:00+08:00"),
            profile_of(UnitLevel.COUNTY),
        )
    close(node)
    assert not node.trust.drill
    assert "drill clock with a certificate that is not a drill hierarchy's" in caplog.text


# -- `hotline pki` makes drill hierarchies ---------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run ``hotline argv`` in-process, expecting exit 0; what it printed."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert status == 0, (out, err)
    return out


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run ``hotline argv``, expecting exit 2 and one line on stderr; that line."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert status == 2, (out, err)
    (line,) = err.strip().splitlines()
    assert line.startswith("hotline: ")
    return line


def test_hotline_pki_makes_a_drill_hierarchy_from_a_chosen_date_and_its_nodes_serve_the_drill(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, ca, county = (str(tmp_path / name) for name in ("root", "ca", "county"))
    request, bundle = str(tmp_path / "county.csr"), str(tmp_path / "county.pem")

    said = run(capsys, "pki", "init-root", "--dir", root, "--drill", "--valid-from", "2026-09-01")
    assert said.startswith(f"drill root created in {root}")
    assert "a drill hierarchy's, for drills from 2026-09-01 00:00:00 +08:00" in said
    said = run(capsys, "pki", "init-ca", "--root", root, "--province", "620000", "--dir", ca)
    assert "for drills from 2026-09-01 00:00:00 +08:00" in said  # inherited from the root
    run(capsys, "pki", "request", "--data-dir", county, "--unit", "620102", "--out", request)
    said = run(
        capsys, "pki", "issue", "--ca", ca, "--request", request, "--out", bundle,
        "--valid-from", "2026-09-28T08:00+08:00",
    )  # fmt: skip
    assert "for drills from 2026-09-28 08:00:00 +08:00: valid 2026-09-28 07:59:00 +08:00" in said
    run(capsys, "pki", "install", "--data-dir", county, "--unit", "620102", "--bundle", bundle)
    assert "for drills from 2026-09-28" in run(
        capsys, "pki", "show", "--data-dir", county, "--unit", "620102"
    )

    node = build_node(
        county_settings(
            tmp_path, clock_start=DRILL_START, clock_speed=86_400, clock_anchor=time.time() + 600
        ),
        profile_of(UnitLevel.COUNTY),
    )
    assert node.clock.now() == dt.datetime(2026, 9, 30, 10, tzinfo=CHINA_TZ)
    assert node.trust.drill
    close(node)


def test_hotline_pki_refuses_valid_from_dates_that_cannot_work_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, drill_root = str(tmp_path / "root"), str(tmp_path / "drill-root")
    run(capsys, "pki", "init-root", "--dir", root)
    run(capsys, "pki", "init-root", "--dir", drill_root, "--drill", "--valid-from", "2026-09-01")

    assert refused(capsys, "pki", "init-root", "--dir", str(tmp_path / "r"), "--valid-from",
                   "2026-09-01") == (
        "hotline: --valid-from is for drill hierarchies only: add --drill"
    )  # fmt: skip
    assert "for drill hierarchies only" in refused(
        capsys, "pki", "init-ca", "--root", root, "--province", "620000",
        "--dir", str(tmp_path / "ca"), "--valid-from", "2026-09-01",
    )  # fmt: skip
    assert "before the drill hierarchy's start" in refused(
        capsys, "pki", "init-ca", "--root", drill_root, "--province", "620000",
        "--dir", str(tmp_path / "ca"), "--valid-from", "2026-08-01",
    )  # fmt: skip
    for bad, why in (("2026-13-01", "is not a date"), ("2026-09-01T08:00", "needs its zone")):
        line = refused(
            capsys, "pki", "init-root", "--dir", str(tmp_path / "r"), "--drill",
            "--valid-from", bad,
        )  # fmt: skip
        assert line.startswith("hotline: --valid-from: ") and why in line, line
    assert not (tmp_path / "r").exists() and not (tmp_path / "ca").exists()  # nothing written
