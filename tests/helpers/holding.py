"""Keeping the log writer busy, so that the jobs queued meanwhile commit as one group."""

from __future__ import annotations

import threading
from concurrent.futures import Future

from sync.writer import LogBatch, LogWriter


def hold_writer(writer: LogWriter) -> tuple[threading.Event, Future[None]]:
    """Keep ``writer`` busy until the returned event is set; the holding job's future."""
    started, release = threading.Event(), threading.Event()

    def job(batch: LogBatch) -> None:
        started.set()
        release.wait(30)

    holder = writer.submit(job)
    assert started.wait(30)
    return release, holder
