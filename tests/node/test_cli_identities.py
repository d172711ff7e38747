"""`hotline enterprises add-user` and the code `hotline register` prints, as officers use them.

A county's security administrator, signed in with `hotline login`, adds an enterprise user and
reads their TOTP secret once; the user signs in with it. A handler registers a complaint and
reads the consumer's verification code once; the consumer signs in with it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.access import totp
from tests.helpers.signin import STRONG_PASSWORD, make_admin, reasons
from tests.helpers.world import InProcessNode, World, spec

ADMIN = "620102-90"
HANDLER = "620102-07"
HANDLER_PASSWORD = "Lanzhou-handler-2027"
USER_PASSWORD = "Gym-owner-2027-ok"
CREDIT = "91620102MA74A1B2C9"

REGISTER = (
    "--kind", "complaint", "--channel", "visit", "--source-line", "12315",
    "--consumer-name", "张伟", "--consumer-phone", "13909310001",
    "--respondent-name", "兰州金城健身俱乐部有限公司", "--respondent-operating-region", "620102",
    "--category", "预付式消费/健身", "--facts", "健身房停业，余额不退",
)  # fmt: skip


@dataclass
class Shell:
    """A county node and an officer's shell."""

    node: InProcessNode
    admin_secret: str
    tmp: Path
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch

    def run(self, *argv: str, **env: str) -> tuple[int, str, str]:
        from node.cli.main import main

        with self.monkeypatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            status = main(list(argv))
        out, err = self.capsys.readouterr()
        return status, out, err

    def admin_session(self) -> Path:
        path = self.tmp / "admin-session.json"
        status, _, err = self.run(
            "login", "--node", self.node.target, "--officer", ADMIN, "--token-file", str(path),
            HOTLINE_PASSWORD=STRONG_PASSWORD, HOTLINE_TOTP_SECRET=self.admin_secret,
        )  # fmt: skip
        assert status == 0, err
        return path


@pytest.fixture
def shell(
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Shell]:
    node = world.start(spec("chengguan"))
    admin = make_admin(node, ADMIN, at_ms=time.time_ns() // 1_000_000)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    root = tmp_path / "root.pem"
    root.write_bytes(node.root)
    monkeypatch.setenv("HOTLINE_ROOT", str(root))
    for name in ("HOTLINE_TOKEN_FILE", "HOTLINE_PASSWORD", "HOTLINE_TOTP_SECRET"):
        monkeypatch.delenv(name, raising=False)
    yield Shell(node, admin.totp_secret, tmp_path, capsys, monkeypatch)


def _secret_in(out: str) -> str:
    line = next(x for x in out.splitlines() if x.startswith("TOTP secret of "))
    return line.rsplit(": ", 1)[1]


def test_a_security_administrator_adds_an_enterprise_user_who_then_signs_in(
    shell: Shell,
) -> None:
    admin = shell.admin_session()
    status, out, err = shell.run(
        "enterprises", "add-user", "--node", shell.node.target, "--credit-code", CREDIT.lower(),
        "--id", "zhang", "--name", "张经理", "--enterprise-name", "兰州某健身有限公司",
        "--token-file", str(admin), HOTLINE_NEW_PASSWORD=USER_PASSWORD,
    )  # fmt: skip
    assert status == 0, err
    assert f"enterprise user (企业用户) zhang of {CREDIT} set (enterprise enrolled" in out
    secret = _secret_in(out)
    with shell.node.client() as client:
        code = totp.totp(totp.secret_bytes(secret), time.time_ns() // 1_000_000)
        session = client.enterprise_sign_in(CREDIT, "zhang", USER_PASSWORD, code).session
    assert (session.principal, session.credit_code) == ("enterprise", CREDIT)


def test_a_malformed_credit_code_is_a_one_line_refusal(shell: Shell) -> None:
    admin = shell.admin_session()
    status, out, err = shell.run(
        "enterprises", "add-user", "--node", shell.node.target, "--credit-code", CREDIT[:-1] + "0",
        "--id", "zhang", "--name", "张经理", "--enterprise-name", "某",
        "--token-file", str(admin), HOTLINE_NEW_PASSWORD=USER_PASSWORD,
    )  # fmt: skip
    assert status != 0 and out == ""
    assert "credit_code" in err and len(err.strip().splitlines()) == 1


def test_register_prints_the_consumers_code_once_and_the_consumer_signs_in_with_it(
    shell: Shell,
) -> None:
    admin = shell.admin_session()
    status, out, err = shell.run(
        "officers", "set-credentials", "--node", shell.node.target, "--id", HANDLER,
        "--token-file", str(admin), HOTLINE_NEW_PASSWORD=HANDLER_PASSWORD,
    )  # fmt: skip
    assert status == 0, err
    handler = shell.tmp / "handler-session.json"
    status, _, err = shell.run(
        "login", "--node", shell.node.target, "--officer", HANDLER, "--token-file", str(handler),
        HOTLINE_PASSWORD=HANDLER_PASSWORD, HOTLINE_TOTP_SECRET=_secret_in(out),
    )  # fmt: skip
    assert status == 0, err
    status, out, err = shell.run(
        "register", "--node", shell.node.target, "--token-file", str(handler), *REGISTER
    )
    assert status == 0, err
    ticket_id = out.split()[1].rstrip(":")
    found = re.search(
        r"verification code \(查询码\), shown once: .*: ([A-Z2-9]{4}-[A-Z2-9]{4})$", out, re.M
    )
    assert found is not None, out
    with shell.node.client() as consumer:
        consumer.consumer_sign_in(ticket_id, found.group(1))
        assert consumer.get(ticket_id).ticket_id == ticket_id
    assert reasons(shell.node)[-1] == "sign-in/done/"
