"""One process per data folder: the second is refused, naming the first; no stale lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from node.app.data_folder import LOCK_FILE, DataFolderInUse, hold_data_folder

HOLD = """
import sys, time
from pathlib import Path
from node.app.data_folder import hold_data_folder
lock = hold_data_folder(Path(sys.argv[1]))
print("held", flush=True)
sys.stdin.read()
"""


def holder(folder: Path) -> subprocess.Popen[str]:
    """Another process holding ``folder`` until its stdin closes."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline() == "held\n"
    return process


def test_a_second_process_cannot_hold_a_folder_and_is_told_who_does(tmp_path: Path) -> None:
    folder = tmp_path / "chengguan"
    first = holder(folder)
    try:
        with pytest.raises(DataFolderInUse) as refused:
            hold_data_folder(folder)
        assert refused.value.pid == first.pid
        assert str(refused.value) == (
            f"the data folder {folder} is in use by process {first.pid} (a node serving it, "
            "or a `hotline pki` step); stop that process first, or use another --data-dir"
        )
        assert (folder / LOCK_FILE).read_text().strip() == str(first.pid)  # not truncated
    finally:
        first.communicate("")
    with hold_data_folder(folder):  # the kernel let go when the holder ended
        assert (folder / LOCK_FILE).read_text().strip() != str(first.pid)


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    first = holder(tmp_path)
    first.kill()
    first.communicate()
    hold_data_folder(tmp_path).release()


def test_without_create_a_missing_folder_is_not_made(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        hold_data_folder(tmp_path / "missing", create=False)
    assert not (tmp_path / "missing").exists()
