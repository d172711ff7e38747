"""Running a document's ``sh`` blocks as written: for the docs whose examples are tested.

A block's lines run in order in one folder, as a reader would type them into one shell:

* ``NAME=VALUE`` sets a shell variable (bash works out the value; later lines see it), and
  ``export NAME=VALUE`` too (the ``hotline`` lines run here see it in their environment);
* ``hotline serve ... &`` starts a node in the background, waited for until it answers;
* a line using a variable (``$DRILL``, ``sleep $(( ... ))``) runs in bash with the variables;
* any other ``hotline`` line runs in this process through ``node.cli.main.main`` (the same
  program, without a second's interpreter start-up a line), and must exit 0.

Only what cannot be the same on a test machine is changed: the fixed ports (7000-7999) become
free ones, ``TICKET`` the id ``hotline register`` printed, and the shell's configuration folder
(``XDG_CONFIG_HOME``, where ``hotline login`` keeps sessions) is the test's own.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from node.cli.main import main as hotline
from node.edge.channels import read_root
from node.edge.client import NodeClient

HOTLINE_BIN = Path(sys.executable).parent
"""Where the worktree's ``hotline`` is (``.venv/bin``, beside the Python running the tests)."""


def section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section of a Markdown text (its ``###`` ones included)."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def sh_blocks(markdown: str) -> list[str]:
    """The bodies of the fenced ``sh`` blocks, in order."""
    return re.findall(r"^```sh\n(.*?)^```", markdown, flags=re.DOTALL | re.MULTILINE)


def command_lines(block: str) -> list[str]:
    """The commands of a block, lines continued with a backslash joined."""
    return [c for c in block.replace("\\\n", " ").splitlines() if c.strip()]


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ASSIGNMENT = re.compile(r"^(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$")
BACKGROUND = re.compile(r"\s&\s*(#.*)?$")


@dataclass
class DocShell:
    """One reader's shell in ``folder``: its variables, the nodes it started, what it printed."""

    folder: Path
    variables: dict[str, str] = field(default_factory=dict)
    ports: dict[str, str] = field(default_factory=dict)
    ticket: str = ""
    servers: list[tuple[str, subprocess.Popen[str]]] = field(default_factory=list)
    printed: list[tuple[str, str]] = field(default_factory=list)
    """``(line, what it printed)`` of every line run, in order."""

    def _port(self, match: re.Match[str]) -> str:
        return self.ports.setdefault(match.group(0), str(free_port()))

    def substituted(self, line: str) -> str:
        """The line with free ports and the ticket's id."""
        text = re.sub(r"\b7\d{3}\b", self._port, line)
        if "TICKET" in text:
            assert self.ticket, f"TICKET before any `hotline register`: {line}"
            text = text.replace("TICKET", self.ticket)
        return text

    def _environment(self) -> dict[str, str]:
        path = f"{HOTLINE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
        return {**os.environ, "PATH": path, **self._own_variables()}

    def _own_variables(self) -> dict[str, str]:
        return {"XDG_CONFIG_HOME": str(self.folder / "config"), **self.variables}

    def bash(self, line: str) -> str:
        """Run ``line`` in bash with the shell's variables; what it printed (exit 0 expected)."""
        done = subprocess.run(
            ["bash", "-c", line],
            cwd=self.folder,
            env=self._environment(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def run(self, line: str) -> None:
        """Run one line of a block as the reader's shell would."""
        text = self.substituted(line)
        assignment = ASSIGNMENT.match(text.strip())
        if assignment:
            name, value = assignment.groups()
            self.variables[name] = self.bash(f'{name}={value}\nprintf %s "${name}"')
            return
        if BACKGROUND.search(text):
            self.serve(BACKGROUND.sub("", text), line)
            return
        if "$" in text:
            self.printed.append((line, self.bash(text)))
            return
        argv = shlex.split(text, comments=True)
        assert argv[0] == "hotline", f"the sh blocks run hotline and the shell only: {line}"
        out, err = io.StringIO(), io.StringIO()
        saved = {name: os.environ.get(name) for name in self._own_variables()}
        os.environ.update(self._own_variables())
        try:
            with (
                contextlib.chdir(self.folder),
                contextlib.redirect_stdout(out),
                contextlib.redirect_stderr(err),
            ):
                status = hotline(argv[1:])
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        assert status == 0, f"{line}\n{out.getvalue()}\n{err.getvalue()}"
        self.printed.append((line, out.getvalue()))
        if argv[1] == "register":
            found = re.match(r"registered (\S+):", out.getvalue())
            assert found, out.getvalue()
            self.ticket = found.group(1)

    def serve(self, command: str, line: str) -> None:
        """Start ``hotline serve`` in the background and wait until its client port answers."""
        argv = shlex.split(command)
        name = Path(argv[argv.index("--data-dir") + 1]).name
        port = argv[argv.index("--port") + 1]
        with (
            (self.folder / f"{name}.out").open("w") as out,
            (self.folder / f"{name}.err").open("w") as err,
        ):
            process = subprocess.Popen(
                ["bash", "-c", f"exec {command}"],
                cwd=self.folder,
                env=self._environment(),
                stdout=out,
                stderr=err,
                text=True,
            )
        self.servers.append((name, process))
        try:
            root = read_root(self.folder / argv[argv.index("--data-dir") + 1] / "root.pem")
            with NodeClient(f"127.0.0.1:{port}", root=root) as client:
                client.wait_ready(timeout=30)
        except Exception:
            raise AssertionError(f"{line}\n{self.output(name)}") from None

    def output(self, name: str) -> str:
        """What node ``name`` printed on stdout and stderr."""
        base = self.folder / name
        return base.with_suffix(".out").read_text() + base.with_suffix(".err").read_text()

    def stop_all(self) -> dict[str, int | None]:
        """SIGTERM each node, last started first; their exit statuses."""
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
