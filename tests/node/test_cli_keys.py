"""`hotline keys` as a node administrator and the province's security administrator use it.

The administrator makes a node's key-encryption keys, lists them (never their bytes), rotates
them; the security administrator makes the escrow key pair, seals a node's keys for it and
recovers them onto a replacement laptop. Bad input ends with one line and a non-zero status,
and no step runs while the data folder is held by another process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from node.app.data_folder import hold_data_folder
from node.cli.main import main
from node.keys.ring import KeyRing


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``hotline ARGV`` in this process: its status, stdout and stderr."""
    try:
        status = main(list(argv))
    except SystemExit as done:  # argparse's refusals
        status = int(done.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def one_line(status: int, err: str) -> str:
    """The single line a failed command printed on stderr (and it did fail)."""
    assert status != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hotline"), err
    return lines[0]


def test_init_list_rotate_show_ids_suites_states_in_china_time_and_never_a_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "chengguan")
    status, out, _ = run(capsys, "keys", "init", "--data-dir", data, "--suite", "commercial")
    assert status == 0 and "active (在用)" in out and "escrow-export" in out
    status, out, _ = run(capsys, "keys", "rotate", "--data-dir", data)
    assert status == 0 and "retired (停用)" in out
    status, out, _ = run(capsys, "keys", "list", "--data-dir", data)
    assert status == 0
    ring = KeyRing.open(Path(data))
    old, new = ring.all()
    lines = out.splitlines()
    assert lines[0].split() == ["id", "suite", "created", "(China", "time)", "state"]
    assert lines[1].startswith(old.kek_id) and lines[1].endswith("retired (停用)")
    assert lines[2].startswith(new.kek_id) and lines[2].endswith("active (在用)")
    assert "+08:00" in lines[1] and "sm4-gcm/sm3 (商用密码)" in lines[2]
    assert new.suite == old.suite == "sm4-gcm/sm3", "rotate keeps the active key's suite"
    for kek in ring.all():
        assert kek.key.hex() not in out


@pytest.mark.parametrize(
    ("flag", "suite", "size"),
    [
        ("international", "aes-256-gcm/sha-256", 32),
        ("commercial", "sm4-gcm/sm3", 16),
        ("aes-256-gcm/sha-256", "aes-256-gcm/sha-256", 32),
        ("sm4-gcm/sm3", "sm4-gcm/sm3", 16),
    ],
)
def test_init_takes_a_suite_by_name_or_label_with_its_key_length(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, suite: str, size: int
) -> None:
    status, _, _ = run(capsys, "keys", "init", "--data-dir", str(tmp_path), "--suite", flag)
    assert status == 0
    active = KeyRing.open(tmp_path).active
    assert (active.suite, len(active.key)) == (suite, size)


def test_a_wrong_suite_is_refused_in_one_line_and_makes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "keys", "init", "--data-dir", str(tmp_path), "--suite", "des")
    assert "'des' is not a suite" in one_line(status, err)
    assert not KeyRing.exists(tmp_path)


def test_a_wrong_suite_is_refused_in_one_line_by_the_real_command(tmp_path: Path) -> None:
    argv = ["keys", "rotate", "--data-dir", str(tmp_path), "--suite", "rot13"]
    done = subprocess.run(
        [sys.executable, "-m", "node", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "'rot13' is not a suite" in one_line(done.returncode, done.stderr)


def test_init_twice_and_a_missing_folder_are_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "keys", "init", "--data-dir", str(tmp_path))[0] == 0
    status, _, err = run(capsys, "keys", "init", "--data-dir", str(tmp_path))
    assert "already" in one_line(status, err)
    status, _, err = run(capsys, "keys", "list", "--data-dir", str(tmp_path / "typo"))
    assert "no data folder" in one_line(status, err)
    assert not (tmp_path / "typo").exists()


def test_a_key_file_open_to_others_is_refused_in_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "keys", "init", "--data-dir", str(tmp_path))
    path = next((tmp_path / "keys").iterdir())
    path.chmod(0o644)
    status, _, err = run(capsys, "keys", "list", "--data-dir", str(tmp_path))
    assert str(path) in one_line(status, err)


def test_no_step_runs_while_another_process_holds_the_data_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "keys", "init", "--data-dir", str(tmp_path))
    before = KeyRing.open(tmp_path).all()
    with hold_data_folder(tmp_path):
        status, _, err = run(capsys, "keys", "rotate", "--data-dir", str(tmp_path))
    assert "in use" in one_line(status, err)
    assert KeyRing.open(tmp_path).all() == before


def test_escrow_from_a_lost_laptop_onto_its_replacement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    laptop, spare = tmp_path / "laptop", tmp_path / "spare"
    private, public = tmp_path / "secure" / "escrow.key", tmp_path / "escrow.pub"
    sealed = tmp_path / "escrow" / "chengguan.escrow"
    run(capsys, "keys", "init", "--data-dir", str(laptop))
    run(capsys, "keys", "rotate", "--data-dir", str(laptop))
    status, out, _ = run(
        capsys, "keys", "escrow-keypair", "--private", str(private), "--public", str(public)
    )
    assert status == 0 and "keep it offline" in out
    status, out, _ = run(
        capsys, "keys", "escrow-export", "--data-dir", str(laptop), "--to", str(public),
        "--out", str(sealed),
    )  # fmt: skip
    assert status == 0 and "2 key(s) of laptop" in out
    status, out, _ = run(
        capsys, "keys", "escrow-recover", "--key", str(private), "--in", str(sealed),
        "--data-dir", str(spare),
    )  # fmt: skip
    assert status == 0 and "installed" in out
    assert KeyRing.open(spare).all() == KeyRing.open(laptop).all()


def test_recovery_with_the_wrong_escrow_key_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "keys", "init", "--data-dir", str(tmp_path / "laptop"))
    for name in ("province", "other"):
        run(
            capsys, "keys", "escrow-keypair", "--private", str(tmp_path / f"{name}.key"),
            "--public", str(tmp_path / f"{name}.pub"),
        )  # fmt: skip
    run(
        capsys, "keys", "escrow-export", "--data-dir", str(tmp_path / "laptop"),
        "--to", str(tmp_path / "province.pub"), "--out", str(tmp_path / "sealed"),
    )  # fmt: skip
    status, _, err = run(
        capsys, "keys", "escrow-recover", "--key", str(tmp_path / "other.key"),
        "--in", str(tmp_path / "sealed"), "--data-dir", str(tmp_path / "spare"),
    )  # fmt: skip
    assert "sealed for escrow key" in one_line(status, err)
    assert not KeyRing.exists(tmp_path / "spare")
