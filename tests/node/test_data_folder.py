"""One process per data folder: the second is refused, naming the first; no stale lock.

Except the processes of a hub on PostgreSQL, which hold the folder together (shared) and
never beside one that needs it alone (docs/scaling.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from node.app.data_folder import LOCK_FILE, DataFolderInUse, hold_data_folder, hold_start

HOLD = """
import sys, time
from pathlib import Path
from node.app.data_folder import hold_data_folder
lock = hold_data_folder(Path(sys.argv[1]), shared=sys.argv[2:] == ["shared"])
print("held", flush=True)
sys.stdin.read()
"""


WAIT_FOR_START = """
import fcntl, os, sys
fd = os.open(os.path.join(sys.argv[1], "hotline.start.lock"), os.O_RDWR | os.O_CREAT, 0o600)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("free")
except BlockingIOError:
    print("busy")
"""


def holder(folder: Path, *, shared: bool = False) -> subprocess.Popen[str]:
    """Another process holding ``folder`` (alone, or ``shared``) until its stdin closes."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder), *(["shared"] if shared else [])],
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


def test_processes_of_a_hub_on_postgresql_share_a_folder(tmp_path: Path) -> None:
    first = holder(tmp_path, shared=True)
    try:
        # A SQLite node or a `pki` step is refused while hub processes share the folder.
        with hold_data_folder(tmp_path, shared=True), pytest.raises(DataFolderInUse):
            hold_data_folder(tmp_path)
    finally:
        first.communicate("")


def test_a_folder_held_alone_is_not_shared(tmp_path: Path) -> None:
    first = holder(tmp_path)
    try:
        with pytest.raises(DataFolderInUse) as refused:
            hold_data_folder(tmp_path, shared=True)
        assert refused.value.pid == first.pid
    finally:
        first.communicate("")


def test_starts_on_a_shared_folder_take_turns(tmp_path: Path) -> None:
    starting = hold_start(tmp_path)
    waited = subprocess.run(
        [sys.executable, "-c", WAIT_FOR_START, str(tmp_path)], capture_output=True, text=True
    )
    assert waited.stdout == "busy\n"  # another start waits while one holds the turn
    starting.release()
    free = subprocess.run(
        [sys.executable, "-c", WAIT_FOR_START, str(tmp_path)], capture_output=True, text=True
    )
    assert free.stdout == "free\n"
