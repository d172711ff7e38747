"""`hotline login`, `logout`, `whoami` and `officers ...` as an officer and a script use them.

The node runs in-process; the commands run through ``node.cli.main.main`` as typed, with the
secrets a script gives (a file of mode 0600 or a variable, never a flag). The session file
is the user's alone (0600, in a 0700 folder), every other command sends its token, and
`logout` ends the session on the node and removes the file.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from node.app.data_folder import hold_data_folder
from node.cli.main import main
from node.devnet.hierarchy import Hierarchy
from node.edge.client import CallError
from node.storage.database import Database
from tests.helpers.signin import STRONG_PASSWORD, reasons
from tests.helpers.world import InProcessNode, World, spec

ADMIN = "620102-90"
HANDLER = "620102-07"
HEAD = "620102-01"
HANDLER_PASSWORD = "Lanzhou-handler-2027"

REGISTER = (
    "--kind", "complaint", "--channel", "visit", "--source-line", "12315",
    "--consumer-name", "张伟", "--consumer-phone", "13909310001",
    "--respondent-name", "兰州金城健身俱乐部有限公司", "--respondent-operating-region", "620102",
    "--category", "预付式消费/健身", "--facts", "健身房停业，余额不退",
)  # fmt: skip


@dataclass
class Desk:
    """A county node and an officer's shell: its configuration folder and what it printed."""

    node: InProcessNode
    config: Path
    root_file: Path
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch

    def run(self, *argv: str, **env: str) -> tuple[int, str, str]:
        """``hotline ARGV`` with the variables ``env`` set for it; status, stdout, stderr."""
        with self.monkeypatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            status = main(list(argv))
        out, err = self.capsys.readouterr()
        return status, out, err

    def session_file(self) -> Path:
        return self.config / "hotline" / "sessions" / f"127.0.0.1_{self.node.port}.json"

    def handler_secret(self, admin_file: Path) -> str:
        """Set the handler's credentials as the signed-in administrator; their TOTP secret."""
        status, out, err = self.run(
            "officers", "set-credentials", "--node", self.node.target, "--id", HANDLER,
            "--token-file", str(admin_file), HOTLINE_NEW_PASSWORD=HANDLER_PASSWORD,
        )  # fmt: skip
        assert status == 0, err
        line = next(x for x in out.splitlines() if x.startswith(f"TOTP secret of {HANDLER}"))
        return line.rsplit(": ", 1)[1]

    def login_handler(self, secret: str, *extra: str) -> tuple[int, str, str]:
        return self.run(
            "login", "--node", self.node.target, "--officer", HANDLER, *extra,
            HOTLINE_PASSWORD=HANDLER_PASSWORD, HOTLINE_TOTP_SECRET=secret,
        )  # fmt: skip


@pytest.fixture
def desk(
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Desk]:
    node = world.start(spec("chengguan"))  # provisioned: its administrator is ADMIN
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    root_file = tmp_path / "root.pem"  # the national root, as the officer's machine holds it
    root_file.write_bytes(node.root)
    monkeypatch.setenv("HOTLINE_ROOT", str(root_file))
    for name in ("HOTLINE_TOKEN_FILE", "HOTLINE_PASSWORD", "HOTLINE_TOTP_SECRET"):
        monkeypatch.delenv(name, raising=False)
    yield Desk(node, config, root_file, capsys, monkeypatch)


def test_login_keeps_the_token_in_a_file_only_the_officer_reads_and_commands_send_it(
    desk: Desk, tmp_path: Path
) -> None:
    secret = desk.handler_secret(_admin(desk, tmp_path))
    status, out, err = desk.login_handler(secret)
    assert status == 0, err
    assert f"as {HANDLER} 李强 (handler 承办人)" in out and "+08:00" in out
    path = desk.session_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "hs1." not in out  # the token is never printed
    status, out, err = desk.run("register", "--node", desk.node.target, *REGISTER)
    assert status == 0, err
    ticket_id = out.split()[1].rstrip(":")
    with desk.node.client(HEAD) as head:
        assert head.history(ticket_id).entries[0].officer.officer_id == HANDLER
    status, out, _ = desk.run("whoami", "--node", desk.node.target)
    assert status == 0 and out.startswith(f"{HANDLER} 李强 of 620102 (handler 承办人)")


def test_logout_ends_the_session_on_the_node_and_removes_the_file(
    desk: Desk, tmp_path: Path
) -> None:
    secret = desk.handler_secret(_admin(desk, tmp_path))
    assert desk.login_handler(secret)[0] == 0
    token = _saved_token(desk.session_file())
    status, out, _ = desk.run("logout", "--node", desk.node.target)
    assert status == 0 and "signed out of" in out
    assert not desk.session_file().exists()
    with desk.node.unsigned().with_token(token) as old, pytest.raises(CallError) as failed:
        old.who_am_i()
    assert failed.value.code == "UNAUTHENTICATED"
    assert reasons(desk.node)[-2:] == ["sign-out/done/", "call/refused/signed-out"]
    status, out, _ = desk.run("logout", "--node", desk.node.target)
    assert status == 0 and out.startswith("not signed in")


def test_a_script_signs_in_with_secret_files_of_mode_0600_only(desk: Desk, tmp_path: Path) -> None:
    secret = desk.handler_secret(_admin(desk, tmp_path))
    password_file, secret_file = tmp_path / "password", tmp_path / "totp"
    password_file.write_text(HANDLER_PASSWORD + "\n", encoding="utf-8")
    secret_file.write_text(secret + "\n", encoding="utf-8")
    password_file.chmod(0o644)
    secret_file.chmod(0o600)
    files = ("--password-file", str(password_file), "--totp-secret-file", str(secret_file))
    argv = ("login", "--node", desk.node.target, "--officer", HANDLER, *files)
    status, _, err = desk.run(*argv)
    assert status != 0 and "readable by others" in err and len(err.splitlines()) == 1
    password_file.chmod(0o600)
    status, _, err = desk.run(*argv, "--token-file", str(tmp_path / "mine.json"))
    assert status == 0, err
    assert stat.S_IMODE((tmp_path / "mine.json").stat().st_mode) == 0o600


def test_a_command_acting_as_an_officer_needs_a_session_and_officer_only_checks_it(
    desk: Desk, tmp_path: Path
) -> None:
    status, _, err = desk.run("list", "--node", desk.node.target)
    assert status != 0 and len(err.splitlines()) == 1
    assert "not signed in" in err and "hotline login" in err
    status, _, err = desk.run("list", "--node", desk.node.target, "--officer", HANDLER)
    assert status != 0 and "not signed in" in err  # naming an officer acts as nobody
    secret = desk.handler_secret(_admin(desk, tmp_path))
    assert desk.login_handler(secret)[0] == 0
    status, _, err = desk.run("list", "--node", desk.node.target, "--officer", HEAD)
    assert status != 0 and len(err.splitlines()) == 1
    assert f"officer {HANDLER}'s, not {HEAD}'s" in err
    status, _, err = desk.run("list", "--node", desk.node.target, "--officer", HANDLER)
    assert status == 0, err


def test_the_root_comes_from_root_or_hotline_root_and_is_kept_at_login(
    desk: Desk, tmp_path: Path
) -> None:
    secret = desk.handler_secret(_admin(desk, tmp_path))
    desk.monkeypatch.delenv("HOTLINE_ROOT")
    status, _, err = desk.login_handler(secret)
    assert status != 0 and len(err.splitlines()) == 1
    assert "no national root" in err and "--root FILE" in err and "HOTLINE_ROOT" in err
    status, _, err = desk.login_handler(secret, "--root", str(desk.root_file))
    assert status == 0, err
    status, _, err = desk.run("list", "--node", desk.node.target)  # the root kept at login
    assert status == 0, err
    stranger = Hierarchy.throwaway(tmp_path / "another-pki").root_file
    status, _, err = desk.run("list", "--node", desk.node.target, "--root", str(stranger))
    assert status != 0 and "UNAVAILABLE" in err and "does not chain" in err


def test_a_session_file_others_may_read_is_refused(desk: Desk, tmp_path: Path) -> None:
    secret = desk.handler_secret(_admin(desk, tmp_path))
    assert desk.login_handler(secret)[0] == 0
    desk.session_file().chmod(0o644)
    status, _, err = desk.run("list", "--node", desk.node.target)
    assert status != 0 and "readable by others" in err and len(err.splitlines()) == 1
    status, out, _ = desk.run("logout", "--node", desk.node.target)  # the remedy still works
    assert status == 0 and "signed out of" in out and not desk.session_file().exists()
    assert reasons(desk.node)[-1] == "sign-out/done/"


def test_a_wrong_password_is_one_line_and_writes_no_session(desk: Desk, tmp_path: Path) -> None:
    secret = desk.handler_secret(_admin(desk, tmp_path))
    status, _, err = desk.run(
        "login", "--node", desk.node.target, "--officer", HANDLER,
        HOTLINE_PASSWORD="Wrong-password-1", HOTLINE_TOTP_SECRET=secret,
    )  # fmt: skip
    assert status != 0 and err.startswith("hotline: UNAUTHENTICATED: sign-in refused")
    assert not desk.session_file().exists()
    assert reasons(desk.node)[-1] == "sign-in/refused/wrong-password"


def test_init_admin_works_on_the_data_folder_offline_and_only_once(
    hierarchy: Hierarchy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "chengguan"
    hierarchy.enrol(folder, "620102", time.time_ns() // 1_000_000)
    monkeypatch.setenv("HOTLINE_NEW_PASSWORD", STRONG_PASSWORD)
    argv = [
        "officers", "init-admin", "--data-dir", str(folder), "--unit", "620102",
        "--id", ADMIN, "--name", "张安",
    ]  # fmt: skip
    with hold_data_folder(folder, create=False):  # the node is serving
        assert main(argv) != 0
    assert "in use" in capsys.readouterr().err
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"security administrator (安全管理员) {ADMIN} 张安 created" in out
    assert "otpauth://totp/12315-620102%3A620102-90?secret=" in out
    assert main(argv) != 0
    assert "--reset" in capsys.readouterr().err
    db = Database.open(f"sqlite:///{folder / 'node.db'}")
    try:
        with db.read() as conn:
            roles = conn.exec_driver_sql(
                "SELECT roles FROM officers WHERE officer_id = ?", (ADMIN,)
            ).scalar_one()
            row = conn.exec_driver_sql("SELECT action, peer FROM access_record").one()
    finally:
        db.close()
    assert roles == "security_admin"
    assert row.action == "init-admin" and row.peer.startswith("local:")
    assert os.stat(folder / "node.db").st_size > 0


def _admin(desk: Desk, tmp_path: Path) -> Path:
    """A session file of the administrator the world signed in (a second sign-in within the
    same 30-second TOTP step would be refused as a spent code); the file."""
    return Path(desk.node.cli(ADMIN)[3])


def _saved_token(path: Path) -> str:
    return str(json.loads(path.read_text(encoding="utf-8"))["token"])


def test_init_admin_records_a_station_s_unit_before_its_first_start(
    hierarchy: Hierarchy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "zhangyelu"
    hierarchy.enrol(folder, "620102001", time.time_ns() // 1_000_000)
    monkeypatch.setenv("HOTLINE_NEW_PASSWORD", STRONG_PASSWORD)
    secret_file = tmp_path / "secrets" / "620102001-90"
    argv = [
        "officers", "init-admin", "--data-dir", str(folder), "--unit", "620102001",
        "--id", "620102001-90", "--name", "马安", "--unit-name", "张掖路市场监管所",
        "--totp-secret-file", str(secret_file),
    ]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    assert f"written to {secret_file} (mode 0600)" in capsys.readouterr().out
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(secret_file.read_text(encoding="ascii").strip()) == 32  # 160 bits, base32
    db = Database.open(f"sqlite:///{folder / 'node.db'}")
    try:
        with db.read() as conn:
            unit = conn.exec_driver_sql(
                "SELECT name, parent_code FROM units WHERE code = '620102001'"
            ).one()
    finally:
        db.close()
    assert (unit.name, unit.parent_code) == ("张掖路市场监管所", "620102")
