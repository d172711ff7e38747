"""One process per data folder: an operating-system lock held for the life of the process.

A node's data folder holds its keys, its identity and (by default) its SQLite database. Two
processes on one folder would sign two different chains with one key (a fork the rest of the
network quarantines) or write one key over the other. ``hold_data_folder`` takes an exclusive
``flock`` on ``hotline.lock`` in the folder before anything in it is opened; the kernel lets go
of it when the process ends, however it ends, so a crashed node never leaves a stale lock. The
file records the holder's PID so the second process can say who holds the folder.

A hub on PostgreSQL is the exception (DESIGN rule 8, docs/scaling.md): several ``serve``
processes of one node share its folder and its database, because the database, not the
process, allocates the node's chain (each writer transaction locks the chain's head row), so
one key signs one chain however many processes sign with it. Those processes hold the lock
*shared* (``shared=True``): any number of them at once, but never together with a process that
needs the folder to itself (a SQLite node, a ``hotline pki`` step). Their start-up, which may
still make files in the folder (the key ring, the codes key on a first start), runs one process
at a time under a second lock (``hold_start``).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from core.errors import HotlineError

LOCK_FILE = "hotline.lock"
"""The lock file inside the data folder (its content is the holder's PID)."""

START_LOCK_FILE = "hotline.start.lock"
"""Held by one starting process at a time among those sharing the folder (``hold_start``)."""


class DataFolderInUse(HotlineError, OSError):
    """Another process holds the data folder (a node serving, or a ``hotline pki`` step)."""

    def __init__(self, folder: Path, pid: int | None) -> None:
        holder = f"process {pid}" if pid else "another process"
        super().__init__(
            f"the data folder {folder} is in use by {holder} (a node serving it, or a "
            "`hotline pki` step); stop that process first, or use another --data-dir"
        )
        self.folder = folder
        self.pid = pid


class DataFolderLock:
    """An exclusive lock on a data folder; ``release`` (or leaving the ``with``) lets it go."""

    def __init__(self, folder: Path, fd: int) -> None:
        self.folder = folder
        self._fd: int | None = fd

    def release(self) -> None:
        """Let go of the folder (also done by the kernel when the process ends)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DataFolderLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()


def _holder(fd: int) -> int | None:
    """The PID written in the lock file, if it reads as one."""
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 32).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def hold_data_folder(folder: Path, *, create: bool = True, shared: bool = False) -> DataFolderLock:
    """Lock ``folder`` for this process or raise ``DataFolderInUse`` naming the holder's PID.

    ``create`` makes the folder when it is missing (``hotline serve``, ``hotline pki
    request``); without it a missing folder is left alone (the caller says what is missing).
    ``shared`` takes the lock with the other processes of a hub on PostgreSQL (module
    docstring); the PID then named is the one that wrote last.
    """
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    # O_RDWR without O_TRUNC: the holder's PID must survive a second process opening the file.
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = _holder(fd)
        os.close(fd)
        raise DataFolderInUse(folder, pid) from None
    except BaseException:
        os.close(fd)
        raise
    if not shared:  # a sharer must not blank the PID another sharer wrote
        os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii").ljust(16), 0)
    return DataFolderLock(folder, fd)


def hold_start(folder: Path) -> DataFolderLock:
    """Wait until no other process sharing ``folder`` is starting, then hold its start lock.

    A start that makes the folder's keys (a first start) must not race another doing the same;
    this lock is held only while a node is built, so waiting for it is waiting seconds.
    """
    fd = os.open(folder / START_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return DataFolderLock(folder, fd)
