"""``hotline serve-web``: starts the front next to a node, prints its address, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from node.cli.main import main
from tests.web.harness import Portal


def test_serve_web_without_a_root_says_how_to_give_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTLINE_ROOT", raising=False)
    assert main(["serve-web", "--node", "127.0.0.1:1"]) == 2
    assert "--root" in capsys.readouterr().err


def test_serve_web_serves_the_pages_of_the_node_and_stops_on_sigterm(
    portal: Portal, tmp_path: Path
) -> None:
    root = tmp_path / "root.pem"
    root.write_bytes(portal.node.root_pem)
    command = [sys.executable, "-m", "node.cli.main", "serve-web", "--node", portal.node.target]
    process = subprocess.Popen(
        [*command, "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert f"web front for {portal.node.target} serving on http://127.0.0.1:" in line
        url = line.rsplit(" ", 1)[1].strip()
        with urllib.request.urlopen(url + "/consumer/", timeout=10) as page:
            assert "在线投诉" in page.read().decode()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "web front stopped" in out
