"""A county whose link is down signs its own officers in, and they handle tickets.

Issue 11, items 1 and 4, on real processes. Chengguan's parent is unreachable from the start.
Its first security administrator is made on its machine while the node is stopped (refused
while it serves: the data folder is in use); the administrator signs in with the command line
as a script does (password and TOTP secret in variables) and sets the handler's credentials;
the handler signs in and registers and accepts a walk-in complaint with the session token
alone. Every step is the county's own: nothing asks the city or the province.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core.units import UnitLevel
from node.devnet.processes import LocalNetwork

ADMIN_PASSWORD = "Chengguan-admin-2027"
HANDLER_PASSWORD = "Chengguan-handler-27"


def hotline(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``hotline ARGS`` as a separate process, with the variables ``env`` added."""
    return subprocess.run(
        [sys.executable, "-m", "node", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **env},
    )


def secret_in(printed: str, officer: str) -> str:
    line = next(x for x in printed.splitlines() if x.startswith(f"TOTP secret of {officer}"))
    return line.rsplit(": ", 1)[1]


@pytest.mark.processes
def test_a_county_with_its_parent_down_signs_in_its_officers_who_handle_tickets(
    network: LocalNetwork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert network.hierarchy is not None
    monkeypatch.setenv("HOTLINE_ROOT", str(network.hierarchy.root_file))  # the officer's copy
    county = network.add("chengguan", UnitLevel.COUNTY, "620102", parent="city", provision=False)
    assert county.unreachable_parent
    db = ["--db", county.db_url] if county.db_url else []
    init = (
        "officers", "init-admin", "--data-dir", str(county.data_dir), "--unit", "620102",
        "--id", "620102-90", "--name", "张安", *db,
    )  # fmt: skip
    serving = hotline(*init, HOTLINE_NEW_PASSWORD=ADMIN_PASSWORD)
    assert serving.returncode != 0 and "in use" in serving.stderr
    county.stop()
    made = hotline(*init, HOTLINE_NEW_PASSWORD=ADMIN_PASSWORD)
    assert made.returncode == 0, made.stderr
    admin_secret = secret_in(made.stdout, "620102-90")
    county.start()
    node = ["--node", county.target]
    admin_file, handler_file = tmp_path / "admin.json", tmp_path / "handler.json"
    signed = hotline(
        "login", *node, "--officer", "620102-90", "--token-file", str(admin_file),
        HOTLINE_PASSWORD=ADMIN_PASSWORD, HOTLINE_TOTP_SECRET=admin_secret,
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    # Officers are added only at the hands of the signed-in administrator; a command without
    # a session acts as nobody.
    anonymous = hotline(
        "add-officer", *node, "--id", "620102-07", "--name", "李强", "--unit", "620102",
        "--role", "handler",
    )  # fmt: skip
    assert anonymous.returncode != 0 and "not signed in" in anonymous.stderr
    added = hotline(
        "add-officer", *node, "--id", "620102-07", "--name", "李强", "--unit", "620102",
        "--role", "handler", "--token-file", str(admin_file),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    credentials = hotline(
        "officers", "set-credentials", *node, "--id", "620102-07",
        "--token-file", str(admin_file), HOTLINE_NEW_PASSWORD=HANDLER_PASSWORD,
    )  # fmt: skip
    assert credentials.returncode == 0, credentials.stderr
    handler_secret = secret_in(credentials.stdout, "620102-07")
    as_handler = {"HOTLINE_TOKEN_FILE": str(handler_file)}
    signed = hotline(
        "login", *node, "--officer", "620102-07", **as_handler,
        HOTLINE_PASSWORD=HANDLER_PASSWORD, HOTLINE_TOTP_SECRET=handler_secret,
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    assert stat.S_IMODE(handler_file.stat().st_mode) == 0o600

    registered = hotline(
        "register", *node, "--kind", "complaint", "--channel", "visit", "--source-line", "12315",
        "--consumer-name", "张伟", "--consumer-phone", "13909310001",
        "--respondent-name", "兰州金城健身俱乐部有限公司",
        "--respondent-operating-region", "620102", "--category", "预付式消费/健身",
        "--facts", "健身房停业，余额不退", **as_handler,
    )  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    ticket_id = registered.stdout.split()[1].rstrip(":")
    accepted = hotline("accept-complaint", ticket_id, *node, "--note", "已受理", **as_handler)
    assert accepted.returncode == 0, accepted.stderr
    assert "in_handling 办理中 at 620102" in accepted.stdout

    token = json.loads(handler_file.read_text(encoding="utf-8"))["token"]
    with county.unsigned().with_token(token) as client:
        history = client.history(ticket_id).entries
        info = client.info()
    assert [e.officer.officer_id for e in history] == ["620102-07", "620102-07"]
    assert info.parent_status.last_success_ms == 0  # the link never worked
    assert info.parent_status.last_error
