"""The `hotline` command line on real processes: steps by flag, one-line reasons, clean stops.

Whatever goes wrong (bad input, a port in use, a data folder already served, the wrong kind of
port) ends with one line on stderr, no traceback, and a non-zero exit; a node stopped by
SIGTERM or Ctrl-C drains and exits 0 without a word of complaint in its log.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.units import UnitLevel
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


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single line a failed command printed on stderr (and it did fail)."""
    assert done.returncode != 0, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("hotline"), done.stderr
    return lines[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    """A province node process (its parent is not part of the network), shared by the tests."""
    with LocalNetwork(tmp_path_factory.mktemp("net")) as net:
        net.start_world(GANSU_WORLD, only={"province"})
        yield net


REGISTER = (
    "--kind", "complaint", "--channel", "phone", "--source-line", "12315",
    "--consumer-name", "张伟", "--consumer-phone", "13909310001",
    "--respondent-operating-region", "620102", "--category", "预付式消费/健身",
    "--facts", "健身房停业，余额不退",
)  # fmt: skip


@pytest.mark.processes
def test_an_officer_registers_routes_and_shows_a_ticket_from_the_command_line(
    province: LocalNetwork,
) -> None:
    node = [*province["province"].cli("620000-01"), "--officer", "620000-01"]
    registered = hotline(
        "register", *node, *REGISTER, "--respondent-name", "兰州金城健身俱乐部有限公司"
    )
    assert registered.returncode == 0, registered.stderr
    ticket_id = registered.stdout.split()[1].rstrip(":")
    routed = hotline("route-ticket", ticket_id, *node)
    assert routed.returncode == 0 and "routed 已分流 at 620102" in routed.stdout
    shown = hotline("show", ticket_id, *node)
    assert "TicketRouted 分流/派单" in shown.stdout and "signature ok" in shown.stdout
    assert "to unit: 620102" in shown.stdout and "+08:00" in shown.stdout
    listed = hotline("list", *node)
    assert listed.stdout.splitlines()[0].startswith("TICKET ")
    assert ticket_id in listed.stdout


@pytest.mark.processes
def test_bad_input_exits_non_zero_with_a_one_line_reason(province: LocalNetwork) -> None:
    refused = hotline(
        "register", *province["province"].cli("620000-01"), *REGISTER,
        "--respondent-name", "某公司", "--respondent-credit-code", "91620102MA71ABCDE0",
    )  # fmt: skip
    assert one_line(refused).startswith("hotline: INVALID_ARGUMENT: ticket.respondent.credit_code")
    missing = hotline("register", "--node", province["province"].target, "--officer", "x")
    assert "the following arguments are required: --kind" in one_line(missing)
    assert missing.returncode == 2


def test_settings_that_cannot_work_are_refused_before_starting(tmp_path: Path) -> None:
    refused = hotline(
        "serve", "--level", "county", "--unit", "620100", "--data-dir", str(tmp_path),
        "--parent", "127.0.0.1:1",
    )  # fmt: skip
    assert one_line(refused) == "hotline: unit: 620100 is a city code, not county"


@pytest.mark.processes
def test_a_second_process_on_a_served_data_folder_is_refused_naming_the_first(
    province: LocalNetwork,
) -> None:
    served = province["province"]
    assert served.process is not None
    second = hotline(
        "serve", "--level", "province", "--unit", "620000", "--data-dir", str(served.data_dir),
        "--parent", "127.0.0.1:9",
    )  # fmt: skip
    line = one_line(second)
    assert f"the data folder {served.data_dir} is in use by process {served.process.pid}" in line
    enrol = hotline(
        "pki", "request", "--data-dir", str(served.data_dir), "--unit", "620000",
        "--out", str(served.data_dir.parent / "again.csr"),
    )  # fmt: skip
    assert f"in use by process {served.process.pid}" in one_line(enrol)
    assert not (served.data_dir.parent / "again.csr").exists()


@pytest.mark.processes
def test_a_port_already_in_use_is_refused_in_one_line(
    province: LocalNetwork, tmp_path: Path
) -> None:
    taken = province["province"].port
    refused = hotline(
        "serve", "--level", "province", "--unit", "620000", "--data-dir", str(tmp_path / "p"),
        "--parent", "127.0.0.1:9", "--port", str(taken),
    )  # fmt: skip
    assert one_line(refused) == (
        f"hotline: port {taken} on 127.0.0.1 is already in use (another node or program listens "
        "there): choose another --port, or stop that program"
    )


@pytest.mark.processes
def test_a_tool_pointed_at_the_peer_port_or_at_nothing_says_so(province: LocalNetwork) -> None:
    peer = province["province"].peer_target
    signed_in = province["province"].cli("620000-01")[2:]  # --token-file (the root kept in it)
    line = one_line(hotline("info", "--node", peer, *signed_in))
    assert f"{peer} answers in TLS but the call failed" in line
    assert "it is a node's peer port (mutual TLS, for its child nodes)" in line
    assert "client port" in line
    nowhere = f"127.0.0.1:{free_port()}"
    line = one_line(hotline("list", "--node", nowhere, *signed_in))
    assert f"nothing listens on {nowhere} (connection refused)" in line


@pytest.mark.processes
def test_a_node_whose_parent_is_a_client_port_says_so(tmp_path: Path) -> None:
    with LocalNetwork(tmp_path, sync_interval=3600) as net:
        national = net.add("national", UnitLevel.NATIONAL, "100000")
        net.add("province", UnitLevel.PROVINCE, "620000", parent_address=national.target)
        failed = hotline("sync", "now", *net["province"].cli())
        line = one_line(failed)
        assert f"{national.target} answers in TLS but serves no replication" in line
        assert "not a peer port" in line and "peers on" in line
        status = hotline("sync", "status", *net["province"].cli())
        assert "not a peer port" in status.stdout


@pytest.mark.processes
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_node_stopped_by_a_signal_drains_and_exits_0_with_a_clean_log(
    tmp_path: Path, stop: signal.Signals
) -> None:
    with LocalNetwork(tmp_path) as net:
        node = net.add("national", UnitLevel.NATIONAL, "100000")
        with net.client("national") as client:
            client.info()
        assert node.process is not None
        node.process.send_signal(stop)
        assert node.process.wait(30) == 0
    log = (node.data_dir / "node.log").read_text(encoding="utf-8")
    assert "stopped" in log.splitlines()[-1]
    for noise in ("Traceback", "Event loop is closed", "Exception ignored", "never awaited"):
        assert noise not in log
