"""The README's "Running nodes", followed as written, on real processes.

Every ```sh block of that section runs in order in an empty folder, with the worktree's own
``hotline`` (``.venv/bin/hotline``, beside the Python running the tests): ``hotline serve`` in
the background until it answers, every other command to the end with exit status 0. The
README's fixed ports (7000-7999) become free ports and ``TICKET`` the id ``hotline register``
printed; ``export NAME=VALUE`` lines set the variable for the commands after them, and the
shell's configuration folder (``XDG_CONFIG_HOME``, where sessions are kept) is the test's own;
nothing else is changed. So when the README changes the test follows it, and a step
that stops working fails here. The nodes are then stopped as the README says (SIGTERM) and
must exit 0 with nothing alarming in their output.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from node.app.settings import build_settings
from node.edge.channels import read_root
from node.edge.client import NodeClient
from tests.helpers.shell_doc import command_lines, free_port, section, sh_blocks

ROOT = Path(__file__).resolve().parents[2]
HOTLINE = Path(sys.executable).parent / "hotline"


@dataclass
class Walkthrough:
    """Runs README commands in ``folder`` and keeps what they need from each other."""

    folder: Path
    ports: dict[str, str] = field(default_factory=dict)
    ticket: str = ""
    servers: list[tuple[str, subprocess.Popen[str]]] = field(default_factory=list)
    printed: dict[str, str] = field(default_factory=dict)
    """What the last run of each sub-command printed (``show``, ``list`` ...)."""
    variables: dict[str, str] = field(default_factory=dict)
    """What ``export`` lines set, for the commands after them."""

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "XDG_CONFIG_HOME": str(self.folder / "config"),
            **self.variables,
        }

    def _port(self, match: re.Match[str]) -> str:
        return self.ports.setdefault(match.group(0), str(free_port()))

    def argv(self, line: str) -> list[str]:
        """The command as it will run: free ports, the ticket id, the worktree's hotline."""
        text = re.sub(r"\b7\d{3}\b", self._port, line)
        if "TICKET" in text:
            assert self.ticket, f"TICKET before any `hotline register`: {line}"
            text = text.replace("TICKET", self.ticket)
        return shlex.split(text, comments=True)

    def run(self, line: str) -> None:
        argv = self.argv(line)
        if not argv or argv[0] in (".", "source"):
            return  # activating the environment: the test calls its hotline by path
        if argv[0] == "export":
            name, _, value = argv[1].partition("=")
            self.variables[name] = value
            return
        assert argv[0] == "hotline", f"the README's sh blocks run hotline only: {line}"
        if argv[1] == "serve":
            self.serve([str(HOTLINE), *argv[1:]], line)
            return
        done = subprocess.run(
            [str(HOTLINE), *argv[1:]],
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
            env=self.environment(),
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        self.printed[" ".join(argv[1:3])] = done.stdout
        if argv[1] == "register":
            found = re.match(r"registered (\S+):", done.stdout)
            assert found, done.stdout
            self.ticket = found.group(1)

    def serve(self, argv: list[str], line: str) -> None:
        port = argv[argv.index("--port") + 1]
        name = argv[argv.index("--data-dir") + 1]
        log = (self.folder / f"{Path(name).name}.out").open("w")
        errors = (self.folder / f"{Path(name).name}.err").open("w")
        process = subprocess.Popen(
            argv, cwd=self.folder, stdout=log, stderr=errors, text=True, env=self.environment()
        )
        log.close()
        errors.close()
        self.servers.append((name, process))
        try:
            root = read_root(self.folder / name / "root.pem")  # the node's copy of the root
            with NodeClient(f"127.0.0.1:{port}", root=root) as client:
                client.wait_ready(timeout=30)
        except Exception:
            process.poll()
            raise AssertionError(f"{line}\n{self.output(name)}") from None

    def output(self, name: str) -> str:
        base = self.folder / Path(name).name
        return base.with_suffix(".out").read_text() + base.with_suffix(".err").read_text()

    def stop_all(self) -> dict[str, int | None]:
        """SIGTERM each node, children first; their exit statuses."""
        codes: dict[str, int | None] = {}
        for name, process in reversed(self.servers):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                codes[name] = process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[name] = process.wait()
        return codes


@pytest.fixture
def walkthrough(tmp_path: Path) -> Iterator[Walkthrough]:
    walk = Walkthrough(tmp_path)
    try:
        yield walk
    finally:
        walk.stop_all()


@pytest.mark.processes
@pytest.mark.timeout(600)  # some fifty `hotline` processes, each signing in or acting once
def test_the_readme_s_running_nodes_steps_work_as_written(walkthrough: Walkthrough) -> None:
    assert HOTLINE.is_file(), "the README says hotline is .venv/bin/hotline"
    readme = section((ROOT / "README.md").read_text(encoding="utf-8"), "Running nodes")
    blocks = sh_blocks(readme)
    commands = [line for block in blocks for line in command_lines(block)]
    text = "\n".join(commands)
    steps = ("pki init-root", "pki issue", "pki install", "officers init-admin", "login", "serve")
    for step in (*steps, "add-unit", "audit"):
        assert f"hotline {step}" in text, f"the README no longer shows `hotline {step}`"

    for line in commands:
        walkthrough.run(line)

    shown = walkthrough.printed["show " + walkthrough.ticket]
    assert "TicketAssigned 派至市场监管所" in shown and "station code: 620102001" in shown
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00", shown)
    assert walkthrough.printed["list --node"].startswith("TICKET ")
    assert "OK: every signature" in walkthrough.printed["audit --db"]
    assert "0 not yet down" in walkthrough.printed["sync status"]

    codes = walkthrough.stop_all()
    assert codes and set(codes.values()) == {0}, codes
    for name, _ in walkthrough.servers:
        output = walkthrough.output(name)
        said = (walkthrough.folder / f"{Path(name).name}.out").read_text().splitlines()
        assert said[-1].endswith("stopped"), output
        for noise in ("Traceback", "Event loop is closed", "Exception ignored"):
            assert noise not in output, output


def test_the_systemd_unit_runs_the_node_as_its_own_user_and_stops_it_with_sigterm() -> None:
    unit = (ROOT / "deploy" / "hotline-node.service").read_text(encoding="utf-8")
    settings = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and line[0] != "#"
    )
    assert settings["KillSignal"] == "SIGTERM"
    assert int(settings["TimeoutStopSec"]) >= 30
    assert settings["User"] not in ("", "root")
    assert " serve " in settings["ExecStart"] and settings["ExecStart"].split()[0].endswith(
        "/hotline"
    )
    data_dir = re.search(r"HOTLINE_DATA_DIR=(\S+)", unit)
    assert data_dir and data_dir.group(1).startswith(settings["ReadWritePaths"])


def test_the_settings_file_of_the_operations_guide_is_one_a_node_accepts(tmp_path: Path) -> None:
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"^```toml\n(.*?)^```", guide, flags=re.DOTALL | re.MULTILINE)
    config = tmp_path / "node.toml"
    config.write_text(example, encoding="utf-8")
    settings = build_settings({}, {}, config)
    assert (settings.level.value, settings.unit) == ("county", "620102")
    assert tomllib.loads(example)["parent"] == settings.parent
