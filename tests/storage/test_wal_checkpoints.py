"""SQLite's write-ahead log is copied back by a thread of its own on a running node, so no
writer's commit (and no caller waiting on it) pays for a checkpoint; the writer's own
automatic checkpoint stays as a backstop for a log that grew large."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from node.storage.database import WRITER_AUTOCHECKPOINT_PAGES, Database


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_the_writer_checkpoints_in_its_commit_only_as_a_backstop(tmp_path: Path) -> None:
    db = Database.open(str(tmp_path / "node.db"))
    try:
        with db.write() as conn:
            pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        with db.read() as conn:
            reader_pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    finally:
        db.close()
    assert pages == WRITER_AUTOCHECKPOINT_PAGES
    assert reader_pages == 1000  # SQLite's default: readers never write


def test_a_running_node_copies_the_log_back_on_its_own_thread(tmp_path: Path) -> None:
    db = Database.open(str(tmp_path / "node.db"))
    wal = tmp_path / "node.db-wal"
    try:
        with db.write() as conn:
            conn.execute(text("CREATE TABLE filler (n INTEGER PRIMARY KEY, body BLOB)"))
        with db.write() as conn:
            for n in range(200):
                conn.execute(text("INSERT INTO filler VALUES (:n, randomblob(4000))"), {"n": n})
        assert wal.stat().st_size > 200 * 4000  # far below the backstop: nothing copied yet
        db.start_checkpoints(every=0.05)
        checkpoints = db.checkpoints
        assert checkpoints is not None
        assert checkpoints.running
        assert _wait_for(lambda: checkpoints.rounds >= 2)
        # Everything in the log is in the database now: another checkpoint copies nothing new.
        busy, pages, copied = checkpoints.run_once()
        assert busy == 0 and pages > 0 and copied == pages
    finally:
        db.close()
    assert not checkpoints.running


def test_no_checkpoint_thread_for_an_in_memory_database() -> None:
    db = Database.open("sqlite:///:memory:", run_migrations=False)
    try:
        db.start_checkpoints()
        assert db.checkpoints is None
    finally:
        db.close()
