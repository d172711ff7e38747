"""The `hotline` command line: steps by flag, and one-line reasons with a non-zero exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from node.devnet.processes import LocalNetwork
from node.devnet.samples import GANSU_WORLD


def hotline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.processes
def test_an_officer_registers_routes_and_shows_a_ticket_from_the_command_line(
    tmp_path: Path,
) -> None:
    with LocalNetwork(tmp_path) as net:
        net.start_world(GANSU_WORLD, only={"province"})
        node = ["--node", net["province"].target, "--officer", "620000-01"]
        registered = hotline(
            "register",
            *node,
            "--kind",
            "complaint",
            "--channel",
            "phone",
            "--source-line",
            "12315",
            "--consumer-name",
            "张伟",
            "--consumer-phone",
            "13909310001",
            "--respondent-name",
            "兰州金城健身俱乐部有限公司",
            "--respondent-operating-region",
            "620102",
            "--category",
            "预付式消费/健身",
            "--facts",
            "健身房停业，余额不退",
        )
        assert registered.returncode == 0, registered.stderr
        ticket_id = registered.stdout.split()[1].rstrip(":")
        routed = hotline("route-ticket", ticket_id, *node)
        assert routed.returncode == 0 and "routed at 620102" in routed.stdout
        shown = hotline("show", ticket_id, *node)
        assert "TicketRouted" in shown.stdout and "signature ok" in shown.stdout


@pytest.mark.processes
def test_bad_input_exits_non_zero_with_a_one_line_reason(tmp_path: Path) -> None:
    with LocalNetwork(tmp_path) as net:
        net.start_world(GANSU_WORLD, only={"province"})
        refused = hotline(
            "register",
            "--node",
            net["province"].target,
            "--officer",
            "620000-01",
            "--kind",
            "complaint",
            "--channel",
            "phone",
            "--source-line",
            "12315",
            "--consumer-name",
            "张伟",
            "--consumer-phone",
            "13909310001",
            "--respondent-name",
            "某公司",
            "--respondent-credit-code",
            "91620102MA71ABCDE0",
            "--respondent-operating-region",
            "620102",
            "--category",
            "其他",
            "--facts",
            "事实",
        )
    assert refused.returncode != 0
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("hotline: INVALID_ARGUMENT: ticket.respondent.credit_code")


def test_settings_that_cannot_work_are_refused_before_starting(tmp_path: Path) -> None:
    refused = hotline(
        "serve",
        "--level",
        "county",
        "--unit",
        "620100",
        "--data-dir",
        str(tmp_path),
        "--parent",
        "127.0.0.1:1",
    )
    assert refused.returncode != 0
    assert refused.stderr.strip() == ("hotline: unit: 620100 is a city code, not county")
